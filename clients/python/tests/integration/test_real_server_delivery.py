"""Delivery under trouble against a real server: every event arrives exactly once.

A 503 burst and a 429 come from a small proxy in front of the real server (``FlakyProxy``)
that answers with errors first, then forwards; the server down at start and a ``kill -9``
mid-stream use the real server itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_support import ServerProcess, stored, wait_for

from streamgauge_client import Client

FAST_RETRIES = {"backoff_base": 0.05, "backoff_max": 0.5, "max_retries": 200}


class FlakyProxy:
    """Answers the scripted ``(status, headers)`` first, then forwards to ``upstream``."""

    def __init__(self, upstream: str, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script = list(script)
        self.times: list[float] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.times.append(time.monotonic())
                if proxy.script:
                    status, headers = proxy.script.pop(0)
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                forwarded = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = httpx.post(upstream + self.path, content=body, headers=forwarded)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self) -> FlakyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()


def test_a_503_burst_then_a_429_with_retry_after(server: Any) -> None:
    script = [(503, {})] * 4 + [(429, {"Retry-After": "1"})]
    with FlakyProxy(server.ingest_url, script) as proxy, Client(
        proxy.url, batch_size=50, **FAST_RETRIES
    ) as client:  # fmt: skip
        for _ in range(50):
            client.track("trouble.burst")
        assert client.flush(30)
        assert (client.stats.retried, client.stats.sent, client.stats.failed) == (5, 50, 0)
    assert proxy.times[5] - proxy.times[4] >= 1.0  # Retry-After honoured
    wait_for(lambda: stored(server, "trouble.burst") == (50, 50), timeout=10)


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Any]:
    process = ServerProcess(tmp_path / "data")
    try:
        yield process
    finally:
        if process.process is not None and process.process.poll() is None:
            process.stop()


def test_the_server_down_at_start(fresh_server: Any) -> None:
    with Client(fresh_server.ingest_url, flush_interval=0.05, **FAST_RETRIES) as client:
        for _ in range(40):
            client.track("trouble.down_at_start")
        wait_for(lambda: client.stats.retried >= 2, timeout=10)  # it is failing, and retrying
        fresh_server.start()
        assert client.flush(60)
        assert (client.stats.sent, client.stats.failed) == (40, 0)
    wait_for(lambda: stored(fresh_server, "trouble.down_at_start") == (40, 40), timeout=10)


def test_the_server_killed_and_restarted_mid_stream(fresh_server: Any) -> None:
    fresh_server.start()
    name = "trouble.killed"
    with Client(
        fresh_server.ingest_url, batch_size=10, flush_interval=0.02, **FAST_RETRIES
    ) as client:
        for _ in range(100):
            client.track(name)
        wait_for(lambda: client.stats.sent >= 30, timeout=10)
        fresh_server.kill()  # kill -9 while batches are in flight or queued
        for _ in range(100):
            client.track(name)
        wait_for(lambda: client.stats.retried >= 1, timeout=10)
        fresh_server.restart()
        for _ in range(100):
            client.track(name)
        assert client.flush(60)
        assert client.stats.failed == 0 and client.stats.dropped == 0
    # Acknowledged batches survived the crash; unacknowledged ones were resent; the server's
    # dedup on the client's UUIDv7 ids made resending a batch it had stored harmless.
    wait_for(lambda: stored(fresh_server, name) == (300, 300), timeout=15)


def test_a_full_queue_drops_and_counts_instead_of_blocking(fresh_server: Any) -> None:
    name = "trouble.full"
    with Client(
        fresh_server.ingest_url, batch_size=10, max_queue_size=100, **FAST_RETRIES
    ) as client:
        started = time.monotonic()
        for _ in range(1000):
            client.track(name)
        assert time.monotonic() - started < 1.0  # the server is down: nothing waits on it
        dropped = client.stats.dropped
        assert 880 <= dropped <= 900  # at most one batch was taken by the sender
        fresh_server.start()
        assert client.flush(60)
        assert client.stats.sent == 1000 - dropped
    wait_for(lambda: stored(fresh_server, name) == (1000 - dropped,) * 2, timeout=10)

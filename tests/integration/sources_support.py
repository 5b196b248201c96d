"""Helpers for the protocol-source integration tests: a flaky proxy, keys, dead letters."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import httpx

_HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding"}


class FlakyProxy:
    """Forwards every request to ``upstream``; the first ``failures`` are stored upstream
    but answered 503 with ``Retry-After: 1``: the client must retry, and the server must
    count each event once."""

    def __init__(self, upstream: str, failures: int = 1) -> None:
        self.upstream = upstream
        self.failures = failures
        self.requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="flaky-proxy", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                answer = httpx.post(proxy.upstream + self.path, content=body, headers=headers)
                with proxy._lock:
                    proxy.requests += 1
                    fail = proxy.requests <= proxy.failures
                if fail:
                    self.send_response(503)
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Type", "application/json")
                    payload = b'{"code": "overloaded", "message": "try again"}'
                else:
                    self.send_response(answer.status_code)
                    for name in ("content-type", "retry-after"):
                        if name in answer.headers:
                            self.send_header(name, answer.headers[name])
                    payload = answer.content
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler

    def __enter__(self) -> FlakyProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


def sg(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamgauge", *args, "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def create_write_key(data_dir: Path, project: str) -> str:
    done = sg(data_dir, "keys", "create", "--project", project, "--scope", "write", "-o", "json")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["secret"])


def dead_letters(data_dir: Path) -> list[dict[str, object]]:
    done = sg(data_dir, "dlq", "list", "-o", "json")
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))

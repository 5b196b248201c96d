"""A webhook destination against a real receiver that fails, is killed and restarted."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import ServerProcess, free_port, wait_for
from tests.support.store import stored_events


class Receiver:
    """An HTTP server on a fixed port that records event ids; can fail, stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[str] = []
        self.failures_left = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    failing = receiver.failures_left > 0
                    receiver.failures_left -= 1 if failing else 0
                    if not failing:
                        receiver.received += [e["event_id"] for e in body["events"]]
                self.send_response(503 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def kill(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> set[str]:
        with self.lock:
            return set(self.received)


def test_webhook_delivers_every_matching_event_through_failures(tmp_path: Path) -> None:
    receiver = Receiver(free_port()).start()
    config = tmp_path / "sg.yaml"
    config.write_text(
        "pipeline:\n  destinations:\n"
        f"    - {{type: webhook, name: hook, url: 'http://127.0.0.1:{receiver.port}/in',\n"
        "       route: {event: 'order.*'}, batch_events: 7, max_attempts: 1000,\n"
        "       backoff_s: 0.05, max_backoff_s: 0.2, timeout_s: 2}\n"
    )
    data = tmp_path / "data"
    sent: list[str] = []

    def send(server: ServerProcess, start: int, count: int) -> None:
        batch = [{"event": "order.placed" if n % 2 == 0 else "page.viewed", "id": f"e{n}"}
                 for n in range(start, start + count)]  # fmt: skip
        answer = httpx.post(f"{server.ingest_url}/events/batch", json=batch, timeout=5)
        assert answer.status_code == 200 and answer.json()["accepted"] == count
        sent.extend(e["id"] for e in batch if e["event"].startswith("order."))

    server = ServerProcess(data, config=config).start()
    try:
        receiver.failures_left = 3  # 503s first: retried with backoff
        send(server, 0, 20)
        wait_for(lambda: receiver.ids() >= set(sent), timeout=10, what="first delivery")
        receiver.kill()  # the receiver dies: ingestion goes on, nothing is parked
        for start in range(20, 80, 20):
            send(server, start, 20)
        server.kill()  # and streamgauge crashes too (kill -9) while undelivered events wait
        server.restart()
        send(server, 80, 20)
        receiver.start()  # back on the same port
        wait_for(lambda: receiver.ids() >= set(sent), timeout=20, what="every matching event")
        assert receiver.ids() == set(sent)  # nothing else: the route held
        letters = httpx.get(f"{server.query_url}/metrics").text
        assert 'streamgauge_sink_failures{sink="destination-hook"}' in letters
    finally:
        server.stop()
        receiver.kill()
    assert len(sent) == 50
    assert len(stored_events(data, "event_id")) == 100  # ingestion was never held back
    offset = json.loads((data / "destinations" / "hook.offset").read_text())["offset"]
    assert offset > 0

"""Extra destinations against a real server: rolling files, a NATS subject, parking.

The webhook's redelivery through a failing receiver is in test_pipeline_webhook.py;
here each other destination delivers exactly its route's events at least once
across a kill -9, and a webhook that keeps failing parks its batches in the
dead-letter store without ever holding back ingestion.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

from streamgauge.dlq import DeadLetterStore
from streamgauge.paths import DataPaths
from tests.conftest import require_service
from tests.support.server import ServerProcess, wait_for
from tests.support.store import stored_events


def send(server: ServerProcess, start: int, count: int, sent: list[str]) -> None:
    """Ingest ``count`` events, every other one matching ``order.*``; record the matching ids."""
    batch = [{"event": "order.placed" if n % 2 == 0 else "page.viewed", "id": f"e{n}"}
             for n in range(start, start + count)]  # fmt: skip
    answer = httpx.post(f"{server.ingest_url}/events/batch", json=batch, timeout=5)
    assert (answer.status_code, answer.json()["accepted"]) == (200, count)
    sent.extend(e["id"] for e in batch if e["event"] == "order.placed")


def sink_lag(server: ServerProcess, sink: str) -> float:
    """``streamgauge_sink_lag_events`` of one sink, from ``/metrics``."""
    prefix = f'streamgauge_sink_lag_events{{sink="{sink}"}} '
    for line in httpx.get(f"{server.query_url}/metrics", timeout=5).text.splitlines():
        if line.startswith(prefix):
            return float(line.removeprefix(prefix))
    raise AssertionError(f"no lag metric for sink {sink!r}")


# -- files ------------------------------------------------------------------------------


def written_ids(directory: Path, extension: str) -> dict[str, list[str]]:
    """Event ids per finished file (stem → ids in file order); temporary files are not read."""
    files: dict[str, list[str]] = {}
    for path in sorted(directory.glob(f"*.{extension}")):
        if extension == "parquet":
            ids = pq.read_table(path, columns=["event_id"]).column("event_id").to_pylist()
        else:
            ids = [json.loads(line)["event_id"] for line in path.read_text().splitlines()]
        files[path.stem] = ids
    return files


def all_ids(directory: Path, extension: str) -> list[str]:
    return [i for ids in written_ids(directory, extension).values() for i in ids]


@pytest.mark.parametrize("extension", ["ndjson", "parquet"])
def test_files_roll_by_rotate_events_and_keep_every_routed_event_across_a_crash(
    tmp_path: Path, extension: str
) -> None:
    config = tmp_path / "sg.yaml"
    config.write_text(
        "pipeline:\n  destinations:\n"
        f"    - {{type: files, name: lake, format: {extension}, route: {{event: 'order.*'}},\n"
        "       rotate_events: 10, rotate_s: 60}\n"
    )
    data = tmp_path / "data"
    lake = data / "destinations" / "lake"
    sent: list[str] = []
    server = ServerProcess(data, config=config).start()
    try:
        for start in range(0, 60, 20):  # 10 routed events each: one file per request
            send(server, start, 20, sent)
            wait_for(lambda: sorted(all_ids(lake, extension)) == sorted(sent),
                     timeout=10, what=f"events up to e{start + 19} in files")  # fmt: skip
        send(server, 60, 10, sent)  # 5 routed: fewer than rotate_events, held in memory
        server.kill()  # ...when streamgauge crashes (kill -9)
        server.restart()
        send(server, 70, 20, sent)  # 5 held + 10 new: the log gives the held ones again
        wait_for(lambda: sorted(all_ids(lake, extension)) == sorted(sent),
                 timeout=10, what="every routed event after the restart")  # fmt: skip
    finally:
        server.stop()
    files = written_ids(lake, extension)
    assert list(files) == [  # <name>-<first offset>-<last offset>, offsets counting events
        "lake-000000000001-000000000020",
        "lake-000000000021-000000000040",
        "lake-000000000041-000000000060",
        "lake-000000000061-000000000090",
    ]
    assert files["lake-000000000061-000000000090"] == [
        "e60", "e62", "e64", "e66", "e68", "e70", "e72", "e74", "e76", "e78", "e80", "e82",
        "e84", "e86", "e88",
    ]  # fmt: skip
    assert sorted(all_ids(lake, extension)) == sorted(sent)  # each once, none off the route
    assert len(sent) == 45
    assert json.loads((data / "destinations" / "lake.offset").read_text()) == {"offset": 90}
    assert len(stored_events(data, "event_id")) == 90


# -- nats -------------------------------------------------------------------------------


class Subscriber:
    """A core NATS subscription on its own thread and event loop, recording what arrives."""

    def __init__(self, url: str, subject: str) -> None:
        self.url = url
        self.subject = subject
        self.received: list[tuple[str, str | None]] = []  # (event_id in the body, Nats-Msg-Id)
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.client: Any = None
        self.thread = threading.Thread(target=self.loop.run_forever, name="nats-subscriber")

    def start(self) -> Subscriber:
        import nats

        async def subscribe() -> None:
            self.client = await nats.connect(self.url, connect_timeout=5)
            await self.client.subscribe(self.subject, cb=self._record)
            await self.client.flush()

        self.thread.start()
        asyncio.run_coroutine_threadsafe(subscribe(), self.loop).result(10)
        return self

    async def _record(self, message: Any) -> None:
        with self.lock:
            self.received.append(
                (json.loads(message.data)["event_id"], (message.headers or {}).get("Nats-Msg-Id"))
            )

    def ids(self) -> set[str]:
        with self.lock:
            return {event_id for event_id, _ in self.received}

    def stop(self) -> None:
        if self.client is not None:
            asyncio.run_coroutine_threadsafe(self.client.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def nats_subject() -> Iterator[tuple[Subscriber, str]]:
    require_service("NATS", "127.0.0.1", 4222)
    subject = f"sgtest.{uuid.uuid4().hex}"  # the server is shared: a subject of our own
    subscriber = Subscriber("nats://127.0.0.1:4222", subject).start()
    yield subscriber, subject
    subscriber.stop()


@pytest.mark.service
def test_nats_publishes_every_routed_event_with_its_id_across_a_crash(
    tmp_path: Path, nats_subject: tuple[Subscriber, str]
) -> None:
    subscriber, subject = nats_subject
    config = tmp_path / "sg.yaml"
    config.write_text(
        "pipeline:\n  destinations:\n"
        f"    - {{type: nats, name: out, url: 'nats://127.0.0.1:4222', subject: {subject},\n"
        "       route: {event: 'order.*'}, batch_events: 7}\n"
    )
    data = tmp_path / "data"
    sent: list[str] = []
    server = ServerProcess(data, config=config).start()
    try:
        send(server, 0, 30, sent)
        wait_for(lambda: subscriber.ids() == set(sent), timeout=10, what="the first events")
        send(server, 30, 30, sent)
        server.kill()  # kill -9, perhaps before the offset covering these was written
        server.restart()
        send(server, 60, 30, sent)
        wait_for(lambda: subscriber.ids() == set(sent), timeout=10, what="every routed event")
    finally:
        server.stop()
    assert len(sent) == 45
    assert subscriber.ids() == set(sent)  # at least once, nothing off the route
    with subscriber.lock:
        assert all(event_id == msg_id for event_id, msg_id in subscriber.received)
    assert json.loads((data / "destinations" / "out.offset").read_text()) == {"offset": 90}


# -- parking ----------------------------------------------------------------------------


class FailingReceiver:
    """Answers every POST with 500; holds each request until ``release`` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests += 1
                receiver.release.wait(30)
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, name="failing-receiver").start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_failing_webhook_parks_its_batches_and_never_holds_back_ingestion(
    tmp_path: Path,
) -> None:
    receiver = FailingReceiver()
    url = f"http://127.0.0.1:{receiver.port}/in"
    config = tmp_path / "sg.yaml"
    config.write_text(
        "backpressure: {max_sink_lag_events: 40}\n"
        "archive: {commit_max_events: 20}\n"  # the archive keeps up: only the hook lags
        "pipeline:\n  destinations:\n"
        f"    - {{type: webhook, name: hook, url: '{url}', route: {{event: 'order.*'}},\n"
        "       batch_events: 5, max_attempts: 2, backoff_s: 0.05, max_backoff_s: 0.05,\n"
        "       timeout_s: 30}\n"
    )
    data = tmp_path / "data"
    sent: list[str] = []
    server = ServerProcess(data, config=config).start()
    try:
        for start in range(0, 100, 20):  # the hook is stuck on its first POST throughout
            wait_for(lambda: sink_lag(server, "hot") == sink_lag(server, "archive") == 0,
                     timeout=10, what="hot store and archive caught up")  # fmt: skip
            send(server, start, 20, sent)  # 200 even past the 40-event lag bound
        assert sink_lag(server, "destination-hook") == 100  # not counted for back-pressure
        receiver.release.set()  # from now on every POST is answered 500 at once
        wait_for(lambda: sink_lag(server, "destination-hook") == 0,
                 timeout=15, what="the hook to park everything")  # fmt: skip
        letters = DeadLetterStore(DataPaths(data).log).list(limit=1000)
    finally:
        receiver.release.set()  # a held POST would hold up the server's graceful stop
        server.stop()
        receiver.stop()
    reason = f"destination-hook: not delivered after 2 tries: HTTPStatusError: {url} answered 500"
    assert sorted(json.loads(e.payload)["event_id"] for e in letters) == sorted(sent)
    assert {(e.source, e.reason, e.project_id) for e in letters} == {
        ("destination-hook", reason, "default")
    }
    assert receiver.requests == 20  # 10 batches of 5, 2 tries each
    listed = subprocess.run(
        [sys.executable, "-m", "streamgauge", "dlq", "list", "--data-dir", str(data),
         "--limit", "100", "-o", "json"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    rows = json.loads(listed.stdout)
    assert len(rows) == 50
    assert {(r["source"], r["reason"]) for r in rows} == {("destination-hook", reason)}
    assert len(stored_events(data, "event_id")) == 100
    assert json.loads((data / "destinations" / "hook.offset").read_text()) == {"offset": 100}

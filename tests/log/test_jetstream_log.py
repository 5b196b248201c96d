"""What only the JetStream log does: outages, a full stream, dead letters, partitions."""

from __future__ import annotations

import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamgauge.errors import Overloaded
from streamgauge.log.base import DeadLetter
from streamgauge.log.jetstream import JetStreamLog, JetStreamOptions, dedup_key
from streamgauge.model import Event
from tests.conftest import require_binary
from tests.log.test_log_behaviour import events, read_all
from tests.support.nats import NATS_SERVER, NatsServer
from tests.support.server import free_port, wait_for

pytestmark = pytest.mark.service


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    binary = require_binary("nats-server", NATS_SERVER)
    server = NatsServer(tmp_path / "store", binary=binary).start()
    yield server
    server.stop()


def options(url: str, **changes: object) -> JetStreamOptions:
    name = uuid.uuid4().hex[:12]
    base = JetStreamOptions(url, stream=f"T{name}", subject=f"t{name}", partitions=3)
    return JetStreamOptions(
        **{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **changes}
    )


@pytest.fixture
def log(nats_server: NatsServer) -> Iterator[JetStreamLog]:
    opened = JetStreamLog(options(nats_server.url), connect_timeout_s=10.0)
    yield opened
    opened.close()


def test_appends_fail_with_503_while_the_server_is_down_and_recover(
    nats_server: NatsServer, log: JetStreamLog
) -> None:
    log.append(events(["a", "b"])).result()
    nats_server.kill()
    wait_for(lambda: not log.connected, timeout=10.0, what="the log to notice the outage")
    with pytest.raises(Overloaded) as refused:
        log.append(events(["c"])).result(timeout=10.0)
    assert refused.value.status == 503 and refused.value.code == "log_unavailable"
    nats_server.start()  # same port, same store
    wait_for(lambda: log.connected, timeout=15.0, what="the log to reconnect by itself")
    result = log.append(events(["b", "c"])).result(timeout=10.0)
    assert (result.accepted, result.duplicate_indexes, result.last_offset) == (1, [0], 3)
    assert read_all(log) == ["a", "b", "c"]


def test_a_log_started_before_its_server_connects_when_it_comes(tmp_path: Path) -> None:
    binary = require_binary("nats-server", NATS_SERVER)
    server = NatsServer(tmp_path / "store", binary=binary, port=free_port())
    log = JetStreamLog(options(server.url))
    try:
        with pytest.raises(Overloaded):
            log.append(events(["a"])).result(timeout=10.0)
        server.start()
        wait_for(lambda: log.connected, timeout=15.0, what="the first connection")
        assert log.append(events(["a"])).result(timeout=10.0).last_offset == 1
    finally:
        log.close()
        server.stop()


def test_a_full_stream_refuses_appends_instead_of_dropping_old_events(
    nats_server: NatsServer,
) -> None:
    log = JetStreamLog(options(nats_server.url, max_msgs=25), connect_timeout_s=10.0)
    try:
        ids = [f"e{n}" for n in range(40)]
        for start in (0, 10):
            log.append(events(ids[start : start + 10])).result(timeout=10.0)
        with pytest.raises(Overloaded) as refused:
            log.append(events(ids[20:30])).result(timeout=10.0)
        assert refused.value.message == "JetStream refused the message: maximum messages exceeded"
        assert read_all(log, limit=500) == ids[:25]  # the oldest are all kept
    finally:
        log.close()


def test_dead_letters_are_stored_once_even_when_the_request_is_retried(
    log: JetStreamLog,
) -> None:
    letter = DeadLetter("p", 5, "native", "userId", "Expected `str`", b'{"userId": 1}')
    log.append(events(["a"]), [letter]).result()
    retried = DeadLetter("p", 9, "native", "userId", "Expected `str`", b'{"userId": 1}')
    log.append(events(["a"]), [retried]).result()
    other = DeadLetter("p", 9, "segment", "event", "missing", b"{}")
    log.append([], [other]).result()
    letters, last = log.read_dead_letters(0, 10)
    assert (letters, last) == ([letter, other], 2)
    assert log.read_dead_letters(2, 10) == ([], 2)


def test_partitions_split_the_stream_and_together_hold_every_event(
    nats_server: NatsServer,
) -> None:
    settings = options(nats_server.url)
    whole = JetStreamLog(settings, connect_timeout_s=10.0)
    parts = [JetStreamLog(settings, partition=p, connect_timeout_s=10.0) for p in range(3)]
    try:
        ids = [f"e{n}" for n in range(60)]
        whole.append(events(ids)).result()
        seen: list[str] = []
        for partition, part in enumerate(parts):
            read, last = part.read(0, 100)
            assert read and last == part.head()
            mine = [e.event_id for e in read]
            assert all(
                settings.partition_subject(partition) == subject_of(settings, e) for e in read
            )
            seen += mine
        assert sorted(seen) == sorted(ids)
    finally:
        for log in (whole, *parts):
            log.close()


def subject_of(settings: JetStreamOptions, event: Event) -> str:
    key = dedup_key(event)
    return settings.partition_subject(zlib.crc32(key.encode()) % settings.partitions)


def test_ids_that_cannot_be_headers_are_hashed_and_still_deduplicated(log: JetStreamLog) -> None:
    odd = ["a b", "line\r\nbreak", "ü", "x" * 600]
    assert [dedup_key(e).startswith("sha256/") for e in events(odd)] == [True] * 4
    assert dedup_key(events(["plain-id_1"])[0]) == "p/plain-id_1"
    assert log.append(events(odd)).result().accepted == 4
    again = log.append(events(odd)).result()
    assert (again.accepted, again.duplicate_indexes) == (0, [0, 1, 2, 3])
    assert read_all(log) == odd


def test_dedup_survives_a_crash_of_the_server(nats_server: NatsServer, log: JetStreamLog) -> None:
    log.append(events(["a", "b"])).result()
    nats_server.kill()
    nats_server.start()
    wait_for(lambda: log.connected, timeout=15.0, what="reconnection")
    result = log.append(events(["a", "c"])).result(timeout=10.0)
    assert (result.accepted, result.duplicate_indexes, log.head()) == (1, [0], 3)


def test_a_reader_continues_at_once_after_the_server_restarts(
    nats_server: NatsServer, log: JetStreamLog
) -> None:
    log.append(events(["a", "b"])).result()
    assert log.read(0, 10)[1] == 2  # a cursor now waits at offset 2
    nats_server.kill()
    nats_server.start()
    wait_for(lambda: log.connected, timeout=15.0, what="reconnection")
    log.append(events(["c"])).result(timeout=10.0)
    started = time.monotonic()
    assert [e.event_id for e in log.read(2, 10)[0]] == ["c"]
    assert time.monotonic() - started < 1.0  # no wait for an answer from a vanished consumer

"""One behaviour suite for every Log implementation: embedded SQLite and NATS JetStream.

Each test takes ``open_log``, which opens (or reopens, after ``close``) the
same log: the same SQLite file, or the same JetStream stream on a private
``nats-server`` started for the module.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streamgauge.log.base import Log
from streamgauge.log.jetstream import JetStreamLog, JetStreamOptions
from streamgauge.log.local import LocalLog
from streamgauge.model import Event, events_to_arrow
from tests.conftest import require_binary
from tests.support.nats import NATS_SERVER, NatsServer

OpenLog = Callable[[], Log]


def events(ids: list[str], project: str = "p") -> list[Event]:
    return [
        Event(project, i, "e", 1_000_000 + n, 2_000_000, user_id=f"u{n}", duration_ms=n / 2)
        for n, i in enumerate(ids)
    ]


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    binary = require_binary("nats-server", NATS_SERVER)
    server = NatsServer(tmp_path_factory.mktemp("nats") / "store", binary=binary).start()
    yield server
    server.stop()


def jetstream_options(url: str) -> JetStreamOptions:
    name = uuid.uuid4().hex[:12]  # a stream of its own per test
    return JetStreamOptions(url, stream=f"T{name}", subject=f"t{name}", partitions=3)


@pytest.fixture(params=["local", pytest.param("jetstream", marks=pytest.mark.service)])
def open_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenLog]:
    opened: list[Log] = []
    if request.param == "local":

        def make() -> Log:
            return LocalLog(tmp_path / "log.db")
    else:
        options = jetstream_options(request.getfixturevalue("nats_server").url)

        def make() -> Log:
            return JetStreamLog(options, connect_timeout_s=10.0)

    def open_one() -> Log:
        opened.append(make())
        return opened[-1]

    yield open_one
    for log in opened:
        log.close()


@pytest.fixture
def log(open_log: OpenLog) -> Log:
    return open_log()


def read_all(log: Log, after: int = 0, limit: int = 3) -> list[str]:
    ids: list[str] = []
    while True:
        read, last = log.read(after, limit)
        if not read:
            assert last == after
            return ids
        assert last > after
        ids += [e.event_id for e in read]
        after = last


def test_append_then_read_in_order(log: Log) -> None:
    first = log.append(events(["a", "b"])).result()
    second = log.append(events(["c"])).result()
    assert (first.accepted, first.last_offset, second.last_offset) == (2, 2, 3)
    read, last = log.read(0, 10)
    assert [e.event_id for e in read] == ["a", "b", "c"] and last == 3
    assert read == events(["a", "b"]) + events(["c"])
    read, last = log.read(2, 10)
    assert [e.event_id for e in read] == ["c"] and last == 3
    assert log.read(3, 10) == ([], 3)
    assert log.head() == 3


def test_reads_in_small_steps_see_every_event_once(log: Log) -> None:
    for n in range(5):
        log.append(events([f"{n}-a", f"{n}-b"])).result()
    assert read_all(log, limit=3) == [f"{n}-{x}" for n in range(5) for x in "ab"]
    assert read_all(log, after=4, limit=1) == [f"{n}-{x}" for n in range(2, 5) for x in "ab"]


def test_duplicates_within_a_batch_across_batches_and_projects(log: Log) -> None:
    result = log.append(events(["a", "b", "a"])).result()
    assert (result.accepted, result.duplicate_indexes, result.last_offset) == (2, [2], 2)
    result = log.append(events(["b", "c"])).result()
    assert (result.accepted, result.duplicate_indexes, result.last_offset) == (1, [0], 3)
    result = log.append(events(["a", "b"])).result()
    assert (result.accepted, result.duplicate_indexes, result.last_offset) == (0, [0, 1], 0)
    other_project = log.append(events(["a"], project="q")).result()
    assert (other_project.accepted, other_project.last_offset) == (1, 4)
    assert log.head() == 4
    assert read_all(log) == ["a", "b", "c", "a"]


def test_dedup_survives_a_restart(open_log: OpenLog) -> None:
    log = open_log()
    log.append(events(["a", "b"])).result()
    log.close()
    reopened = open_log()
    result = reopened.append(events(["b", "c"])).result()
    assert (result.accepted, result.duplicate_indexes, reopened.head()) == (1, [0], 3)
    assert read_all(reopened) == ["a", "b", "c"]


def test_concurrent_appends_lose_nothing(log: Log) -> None:
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for batch in range(10):
                ids = [f"{n}-{batch}-{i}" for i in range(50)]
                ids.append(f"{n}-{batch}-0")  # and a duplicate in every request
                result = log.append(events(ids)).result()
                assert (result.accepted, result.duplicate_indexes) == (50, [50])
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    ids = read_all(log, limit=700)
    assert log.head() == 6 * 10 * 50 == len(ids) == len(set(ids))
    for n in range(6):  # each writer's events in the order it appended them
        mine = [i for i in ids if i.startswith(f"{n}-")]
        assert mine == [f"{n}-{b}-{i}" for b in range(10) for i in range(50)]


def test_wait_beyond_wakes_on_append(log: Log) -> None:
    log.append(events(["a"])).result()
    assert log.wait_beyond(1, 0.05) is False
    woke: list[tuple[bool, float]] = []

    def waiter() -> None:
        started = time.monotonic()
        woke.append((log.wait_beyond(1, 10.0), time.monotonic() - started))

    thread = threading.Thread(target=waiter)
    thread.start()
    log.append(events(["b"])).result()
    thread.join(15.0)
    assert woke[0][0] is True and woke[0][1] < 5.0
    assert log.wait_beyond(0, 0.0) is True
    assert [e.event_id for e in log.read(1, 10)[0]] == ["b"]  # waiting consumed nothing


def test_read_table_matches_read(log: Log) -> None:
    log.append(events(["a", "b", "c"])).result()
    log.append(events(["d"])).result()
    for after in (0, 2):
        read, last = log.read(after, 100)
        table, table_last = log.read_table(after, 100)
        assert table is not None and table_last == last
        assert table.equals(events_to_arrow(read))
    assert log.read_table(4, 100) == (None, 4)

"""The embedded log: durability, order, dedup across restarts, dead letters, corruption."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from streamgauge.log.base import DeadLetter
from streamgauge.log.local import LocalLog
from streamgauge.model import Event


def events(ids: list[str], project: str = "p") -> list[Event]:
    return [Event(project, i, "e", 1_000_000 + n, 2_000_000) for n, i in enumerate(ids)]


@pytest.fixture
def log(tmp_path: Path) -> LocalLog:
    opened = LocalLog(tmp_path / "log.db")
    yield opened
    opened.close()


def test_reads_stop_at_whole_entries_near_the_limit(log: LocalLog) -> None:
    for n in range(5):
        log.append(events([f"{n}-a", f"{n}-b"])).result()
    read, last = log.read(0, 3)
    assert [e.event_id for e in read] == ["0-a", "0-b"] and last == 2
    read, last = log.read(2, 100)
    assert len(read) == 8 and last == 10
    table, last = log.read_table(4, 4)
    assert table is not None and table.column("event_id").to_pylist() == [
        "2-a",
        "2-b",
        "3-a",
        "3-b",
    ]
    assert last == 8


def test_append_then_read_in_order(log: LocalLog) -> None:
    first = log.append(events(["a", "b"])).result()
    second = log.append(events(["c"])).result()
    assert (first.accepted, first.last_offset, second.last_offset) == (2, 2, 3)
    read, last = log.read(0, 10)
    assert [e.event_id for e in read] == ["a", "b", "c"] and last == 3
    read, last = log.read(2, 10)
    assert [e.event_id for e in read] == ["c"] and last == 3
    assert log.read(3, 10) == ([], 3)


def test_duplicates_within_a_batch_across_batches_and_projects(log: LocalLog) -> None:
    result = log.append(events(["a", "b", "a"])).result()
    assert (result.accepted, result.duplicate_indexes) == (2, [2])
    result = log.append(events(["b", "c"])).result()
    assert (result.accepted, result.duplicate_indexes) == (1, [0])
    other_project = log.append(events(["a"], project="q")).result()
    assert other_project.accepted == 1
    assert log.head() == 4
    all_duplicates = log.append(events(["c"])).result()
    assert (all_duplicates.accepted, all_duplicates.last_offset, log.head()) == (0, 0, 4)


def test_dedup_survives_a_restart(tmp_path: Path) -> None:
    log = LocalLog(tmp_path / "log.db")
    log.append(events(["a", "b"])).result()
    log.close()
    reopened = LocalLog(tmp_path / "log.db")
    result = reopened.append(events(["b", "c"])).result()
    assert (result.accepted, result.duplicate_indexes, reopened.head()) == (1, [0], 3)
    reopened.close()


def test_ids_are_recognised_for_at_least_one_window_and_at_most_two(tmp_path: Path) -> None:
    now = [0]
    window_s = 100.0
    log = LocalLog(tmp_path / "log.db", dedup_window_s=window_s, clock=lambda: now[0])

    def accepted_at(seconds: float, event_id: str) -> int:
        now[0] = int(seconds * 1e9)
        return log.append(events([event_id])).result().accepted

    assert accepted_at(0, "a") == 1
    assert accepted_at(99, "a") == 0  # within the window
    assert accepted_at(150, "b") == 1  # a new generation starts; "a" is in the older one
    assert accepted_at(199, "a") == 0  # still within two windows of its generation
    assert accepted_at(260, "b") == 0  # "b" is 110 s old: within its second window
    assert accepted_at(301, "a") == 1  # two windows after "a"'s generation began: new again
    log.close()


def test_concurrent_appends_share_commits_and_lose_nothing(log: LocalLog) -> None:
    def worker(n: int) -> None:
        for batch in range(20):
            ids = [f"{n}-{batch}-{i}" for i in range(50)]
            assert log.append(events(ids)).result().accepted == 50

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    read, last = log.read(0, 100_000)
    assert last == 8 * 20 * 50 == len({e.event_id for e in read})


def test_dead_letters_are_stored_with_the_append(log: LocalLog, tmp_path: Path) -> None:
    letter = DeadLetter("p", 5, "native", "userId", "Expected `str`", b'{"userId": 1}')
    log.append(events(["a"]), [letter]).result()
    with sqlite3.connect(tmp_path / "log.db") as conn:
        rows = conn.execute(
            "SELECT project_id, field, reason, payload FROM dead_letters"
        ).fetchall()
    assert rows == [("p", "userId", "Expected `str`", b'{"userId": 1}')]


def test_wait_beyond_wakes_on_append(log: LocalLog) -> None:
    assert log.wait_beyond(0, 0.01) is False
    timer = threading.Timer(0.05, lambda: log.append(events(["a"])))
    timer.start()
    assert log.wait_beyond(0, 5.0) is True
    timer.join()


def test_offsets_never_go_back_after_truncation(tmp_path: Path) -> None:
    log = LocalLog(tmp_path / "log.db", retention_s=0)
    log.append(events(["a", "b"])).result()
    log.register_sink("hot", 2)
    log._truncate()
    assert log.read(0, 10) == ([], 0)
    log.close()
    reopened = LocalLog(tmp_path / "log.db")
    assert reopened.head() == 2
    assert reopened.append(events(["c"])).result().last_offset == 3
    reopened.close()


def test_nothing_is_truncated_past_the_slowest_sink(tmp_path: Path) -> None:
    log = LocalLog(tmp_path / "log.db", retention_s=0)
    for event_id in ("a", "b", "c"):  # one entry each
        log.append(events([event_id])).result()
    log.register_sink("hot", 3)
    log.register_sink("archive", 1)
    log._truncate()
    assert [e.event_id for e in log.read(0, 10)[0]] == ["b", "c"]
    log.close()


def test_a_corrupt_tail_is_truncated_and_reported(tmp_path: Path) -> None:
    log = LocalLog(tmp_path / "log.db")
    log.append(events(["a"])).result()
    log.append(events(["b", "c"])).result()
    log.append(events(["d"])).result()
    log.close()
    with sqlite3.connect(tmp_path / "log.db") as conn:
        conn.execute("UPDATE log SET payload = x'00ff' WHERE last_offset = 3")
    reopened = LocalLog(tmp_path / "log.db")
    assert reopened.truncated_at_start == 3  # b, c and everything after
    assert [e.event_id for e in reopened.read(0, 10)[0]] == ["a"]
    reopened.close()

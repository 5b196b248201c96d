"""The embedded log: SQLite in WAL mode with ``synchronous=FULL`` and group commit.

One writer thread owns all writes. Concurrent appends queue up; the writer
takes everything pending (up to ``group_commit_max_events``) into ONE
transaction — dedup check, log entries, dedup keys, dead letters — and one
commit (one fsync) resolves them all.

An *entry* is one append's accepted events, msgpack-encoded in column order;
its key is the offset of its last event, so offsets count events while the
B-tree grows by one row per request. Each entry carries a CRC-32 of its
payload; SQLite's WAL frames are checksummed too, so a torn tail from a crash
is discarded by SQLite's recovery, and a corrupt entry is found by the CRC
check at start, truncated and reported.

Dedup keys live in two generations of tables: new ids go into the current
one; a look-up checks both; when the current generation is one window old,
the older table is dropped (instant, unlike deleting rows) and a new one
begins. So an id is recognised for at least one window and at most two, and
the dedup state on disk is bounded by two windows of ids (about 60 bytes per
id: 10 M ids ≈ 0.6 GB on disk, memory bounded by the page cache setting).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa

from streamgauge.log.base import AppendResult, DeadLetter, Log
from streamgauge.model import Event, rows_to_arrow
from streamgauge.types import Offset

logger = logging.getLogger("streamgauge.log")

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
  last_offset INTEGER PRIMARY KEY,
  count INTEGER NOT NULL,
  appended_at INTEGER NOT NULL,
  payload BLOB NOT NULL,
  crc INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS log_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  head INTEGER NOT NULL
);
INSERT OR IGNORE INTO log_state VALUES (1, 0);
CREATE TABLE IF NOT EXISTS dedup_generations (
  name TEXT PRIMARY KEY,
  started_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY,
  project_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  source TEXT NOT NULL,
  field TEXT NOT NULL,
  reason TEXT NOT NULL,
  payload BLOB NOT NULL,
  replayed_at INTEGER
);
"""

_GENERATIONS = ("dedup_a", "dedup_b")


_IN_CHUNK = 500  # ids per dedup look-up statement
_MAINTENANCE_EVERY_S = 10.0
_TAIL_CHECK = 1_000  # entries whose CRC is verified at start


def connect(path: Path, *, cache_mib: int = 64) -> sqlite3.Connection:
    """A connection to the log database with the durability settings the log relies on."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(f"PRAGMA cache_size=-{int(cache_mib) * 1024}")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.executescript(SCHEMA)
    return conn


@dataclass(slots=True)
class _Pending:
    events: list[Event]
    dead_letters: list[DeadLetter]
    future: Future[AppendResult] | asyncio.Future[AppendResult]


class LogCorruption(Exception):
    """An entry in the middle of the log fails its checksum."""


class LocalLog(Log):
    """The embedded log in ``<data-dir>/log/log.db``."""

    def __init__(
        self,
        path: Path,
        *,
        dedup_window_s: float = 7 * 86400.0,
        group_commit_max_events: int = 50_000,
        retention_s: float = 3600.0,
        cache_mib: int = 64,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self.path = path
        self.dedup_window_us = int(dedup_window_s * 1_000_000)
        self.group_commit_max_events = group_commit_max_events
        self.retention_s = retention_s
        self._conn = connect(path, cache_mib=cache_mib)
        self.truncated_at_start = self._check_tail()
        self._head = self._read_head()
        self._head_changed = threading.Condition()
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._progress: dict[str, Offset] = {}
        self._readers = threading.local()
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(list[Event])
        self._closed = False
        self._writer = threading.Thread(target=self._write_loop, name="log-writer", daemon=True)
        self._writer.start()

    # -- appending ---------------------------------------------------------------

    def append(
        self,
        events: list[Event],
        dead_letters: Sequence[DeadLetter] = (),
    ) -> Future[AppendResult]:
        future: Future[AppendResult] = Future()
        if self._closed:
            future.set_exception(RuntimeError("the log is closed"))
            return future
        self._queue.put(_Pending(events, list(dead_letters), future))
        return future

    async def append_async(
        self, events: list[Event], dead_letters: Sequence[DeadLetter] = ()
    ) -> AppendResult:
        """``append`` for the event loop: one wake-up of the loop per group commit."""
        if self._closed:
            raise RuntimeError("the log is closed")
        future: asyncio.Future[AppendResult] = asyncio.get_running_loop().create_future()
        self._queue.put(_Pending(events, list(dead_letters), future))
        return await future

    def _write_loop(self) -> None:
        last_maintenance = time.monotonic()
        while True:
            try:
                first = self._queue.get(timeout=1.0)
            except queue.Empty:
                first = None
                if self._closed:
                    return
            else:
                if first is None:
                    self._drain_and_stop()
                    return
                group = self._take_group(first)
                self._commit_group(group)
            if time.monotonic() - last_maintenance > _MAINTENANCE_EVERY_S:
                self._maintain()
                last_maintenance = time.monotonic()

    def _take_group(self, first: _Pending) -> list[_Pending]:
        group, size = [first], len(first.events)
        while size < self.group_commit_max_events:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # let the loop see the stop after this group
                break
            group.append(item)
            size += len(item.events)
        return group

    def _drain_and_stop(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                self._commit_group(self._take_group(item))

    def _commit_group(self, group: list[_Pending]) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                results, head = self._write_group(group)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        except Exception as error:  # every waiting request must hear of it
            logger.exception("log append failed")
            _resolve(group, [error] * len(group))
            return
        with self._head_changed:
            self._head = head
            self._head_changed.notify_all()
        _resolve(group, results)

    def _write_group(self, group: list[_Pending]) -> tuple[list[AppendResult], Offset]:
        now_us = self._clock() // 1000
        current, tables = self._generations(now_us)
        seen = self._seen_ids(group, tables)
        head = self._conn.execute("SELECT head FROM log_state").fetchone()[0]
        entries: list[tuple[int, int, int, bytes, int]] = []
        keys: list[tuple[str, str]] = []
        results: list[AppendResult] = []
        appended_at = int(time.time())
        for item in group:
            duplicates: list[int] = []
            fresh: list[Event] = []
            for index, event in enumerate(item.events):
                key = (event.project_id, event.event_id)
                if key in seen:
                    duplicates.append(index)
                    continue
                seen.add(key)
                fresh.append(event)
                keys.append(key)
            if fresh:
                head += len(fresh)
                payload = self._encoder.encode(fresh)
                entries.append((head, len(fresh), appended_at, payload, zlib.crc32(payload)))
            results.append(AppendResult(len(fresh), duplicates, head if fresh else 0))
        conn = self._conn
        if entries:
            conn.executemany(
                "INSERT INTO log (last_offset, count, appended_at, payload, crc)"
                " VALUES (?, ?, ?, ?, ?)",
                entries,
            )
            conn.executemany(f"INSERT OR IGNORE INTO {current} VALUES (?, ?)", keys)
            conn.execute("UPDATE log_state SET head = ?", (head,))
        letters = dead_letter_rows(d for item in group for d in item.dead_letters)
        if letters:
            conn.executemany(
                "INSERT INTO dead_letters (project_id, received_at, source, field, reason, payload)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                letters,
            )
        return results, head

    def _generations(self, now_us: int) -> tuple[str, list[str]]:
        """The table new ids go to, and the tables a look-up checks (newest first)."""
        rows = self._conn.execute(
            "SELECT name, started_at FROM dedup_generations ORDER BY started_at DESC"
        ).fetchall()
        if not rows or now_us - rows[0][1] >= self.dedup_window_us:
            older = [name for name, _ in rows[:1]]
            name = next(n for n in _GENERATIONS if n not in older)
            self._conn.execute(f"DROP TABLE IF EXISTS {name}")
            self._conn.execute(
                f"CREATE TABLE {name} (project_id TEXT NOT NULL, event_id TEXT NOT NULL,"
                " PRIMARY KEY (project_id, event_id)) WITHOUT ROWID"
            )
            self._conn.execute("DELETE FROM dedup_generations WHERE name = ?", (name,))
            self._conn.execute("INSERT INTO dedup_generations VALUES (?, ?)", (name, now_us))
            rows = [(name, now_us), *rows[:1]]
        # The older generation only counts while it is within the window of now.
        live = [rows[0][0]] + [
            n for n, started in rows[1:2] if now_us - started < 2 * self.dedup_window_us
        ]
        return rows[0][0], live

    def _seen_ids(self, group: list[_Pending], tables: list[str]) -> set[tuple[str, str]]:
        by_project: dict[str, set[str]] = {}
        for item in group:
            for event in item.events:
                by_project.setdefault(event.project_id, set()).add(event.event_id)
        seen: set[tuple[str, str]] = set()
        for project_id, ids in by_project.items():
            id_list = list(ids)
            for start in range(0, len(id_list), _IN_CHUNK):
                chunk = id_list[start : start + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                for table in tables:
                    cursor = self._conn.execute(
                        f"SELECT event_id FROM {table}"
                        f" WHERE project_id = ? AND event_id IN ({marks})",
                        (project_id, *chunk),
                    )
                    seen.update((project_id, row[0]) for row in cursor)
        return seen

    # -- reading -----------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._readers, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=30000")
            self._readers.conn = conn
        return conn

    def _entries(self, after: Offset, limit: int) -> tuple[list[bytes], Offset]:
        """Checked entry payloads holding about ``limit`` events (at least one entry)."""
        rows = self._reader().execute(
            "SELECT last_offset, count, payload, crc FROM log WHERE last_offset > ?"
            " ORDER BY last_offset LIMIT ?",
            (after, max(1, limit)),
        )
        decoded: list[bytes] = []
        total, last = 0, after
        for offset, count, payload, crc in rows:  # every entry holds at least one event
            if decoded and total + count > limit:
                break
            if zlib.crc32(payload) != crc:
                raise LogCorruption(f"log entry ending at offset {offset} fails its checksum")
            decoded.append(payload)
            total += count
            last = offset
        rows.close()
        return decoded, last

    def read(self, after: Offset, limit: int) -> tuple[list[Event], Offset]:
        payloads, last = self._entries(after, limit)
        return [e for p in payloads for e in self._decoder.decode(p)], last

    def read_table(self, after: Offset, limit: int) -> tuple[pa.Table | None, Offset]:
        payloads, last = self._entries(after, limit)
        if not payloads:
            return None, last
        # Entries decode straight to value lists: no Event objects on the way to Arrow.
        rows = [row for p in payloads for row in msgspec.msgpack.decode(p)]
        return rows_to_arrow(rows), last

    def head(self) -> Offset:
        return self._head

    def refresh_head(self) -> Offset:
        """Notice appends made by other processes (e.g. ``dlq replay`` from the CLI)."""
        head = self._read_head(self._reader())
        with self._head_changed:
            if head > self._head:
                self._head = head
                self._head_changed.notify_all()
        return self._head

    def wait_beyond(self, offset: Offset, timeout: float) -> bool:
        with self._head_changed:
            return self._head_changed.wait_for(lambda: self._head > offset, timeout)

    def _read_head(self, conn: sqlite3.Connection | None = None) -> Offset:
        # log_state keeps the head across truncation, so offsets never go back.
        return int((conn or self._conn).execute("SELECT head FROM log_state").fetchone()[0])

    # -- maintenance ---------------------------------------------------------------

    def report_progress(self, sink: str, offset: Offset) -> None:
        self._progress[sink] = offset

    def register_sink(self, sink: str, committed: Offset) -> None:
        """A sink takes part in deciding which entries may go (until then none go)."""
        self._progress[sink] = committed

    def _maintain(self) -> None:
        try:
            self._truncate()
        except sqlite3.Error:
            logger.exception("log maintenance failed; it will be retried")

    def _truncate(self) -> None:
        if not self._progress:
            return
        safe = min(self._progress.values())
        cutoff = int(time.time() - self.retention_s)
        self._conn.execute(
            "DELETE FROM log WHERE last_offset <= ? AND appended_at <= ?", (safe, cutoff)
        )

    def _check_tail(self) -> int:
        """Verify the newest entries' CRCs; drop a corrupt tail and say how many events went."""
        rows = self._conn.execute(
            "SELECT last_offset, count, payload, crc FROM log ORDER BY last_offset DESC LIMIT ?",
            (_TAIL_CHECK,),
        ).fetchall()
        bad = [
            (offset, count) for offset, count, payload, crc in rows if zlib.crc32(payload) != crc
        ]
        if not bad:
            return 0
        first_bad = min(offset - count + 1 for offset, count in bad)
        self._conn.execute("BEGIN IMMEDIATE")
        removed = self._conn.execute(
            "SELECT coalesce(sum(count), 0) FROM log WHERE last_offset >= ?", (first_bad,)
        ).fetchone()[0]
        self._conn.execute("DELETE FROM log WHERE last_offset >= ?", (first_bad,))
        self._conn.execute("COMMIT")
        logger.error("log tail corrupt from offset %d: %d events removed", first_bad, removed)
        return int(removed)

    def stats(self) -> dict[str, int]:
        """Entries held and bytes on disk, for /metrics."""
        count = self._reader().execute("SELECT coalesce(sum(count), 0) FROM log").fetchone()[0]
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))
        return {"entries": int(count), "bytes": int(size)}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._writer.join()
        self._conn.close()


def _resolve(group: list[_Pending], outcomes: Sequence[AppendResult | Exception]) -> None:
    """Hand each append its outcome; event-loop waiters get one wake-up per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[AppendResult], Any]]] = {}
    for item, outcome in zip(group, outcomes, strict=True):
        future = item.future
        if isinstance(future, asyncio.Future):
            by_loop.setdefault(future.get_loop(), []).append((future, outcome))
        elif isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
    for loop, pairs in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_settle, pairs)


def _settle(pairs: list[tuple[asyncio.Future[AppendResult], Any]]) -> None:
    for future, outcome in pairs:
        if future.done():  # the request was cancelled (client went away)
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


def dead_letter_rows(letters: Iterable[DeadLetter]) -> list[tuple[object, ...]]:
    return [(d.project_id, d.received_at, d.source, d.field, d.reason, d.payload) for d in letters]

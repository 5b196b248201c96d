"""The engine layer of the SQL guard: a locked-down, throw-away DuckDB per request.

Each request gets a fresh in-memory DuckDB instance (≈10 ms to open) that can
see nothing but the caller's rows: no files, no network, no extensions, no
Python objects by name, no spilling to a temporary directory, and a locked
configuration, so that neither ``SET`` nor ``RESET`` can undo any of it. One
watchdog thread ``interrupt()``s a statement at its deadline.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from streamgauge.errors import QueryTimeout

from .clickhouse import install_clickhouse_functions


@dataclass(frozen=True, slots=True)
class SqlLimits:
    """How much one SQL statement may use."""

    timeout_s: float = 10.0
    memory_limit: str = "512MB"
    max_rows: int = 10_000
    threads: int = 2


def open_sandbox(limits: SqlLimits, *, clickhouse: bool = False) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB that can reach nothing outside itself.

    With ``clickhouse``, the ClickHouse function macros are defined (≈20 ms).
    """
    con = duckdb.connect(
        ":memory:",
        config={
            # no temporary directory: DuckDB always allows reading from it
            "temp_directory": "",
            "memory_limit": limits.memory_limit,
            "threads": limits.threads,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            # Python replacement scans would let SQL name any Python variable
            "python_enable_replacements": False,
        },
    )
    try:
        con.execute("SET TimeZone = 'UTC'")
        if clickhouse:
            install_clickhouse_functions(con)
        con.execute("SET enable_external_access = false")
        con.execute("SET allow_community_extensions = false")
        con.execute("SET allow_unsigned_extensions = false")
    except BaseException:
        con.close()
        raise
    return con


def lock(con: duckdb.DuckDBPyConnection) -> None:
    """Freeze the configuration: from here on ``SET``/``RESET`` fail."""
    con.execute("SET lock_configuration = true")


class _Deadlines:
    """One thread (``query-deadlines``) that interrupts statements past their deadline.

    A timer thread per query would start and stop a thread on every request;
    this one sleeps until the earliest armed deadline.
    """

    def __init__(self) -> None:
        self._armed: list[tuple[float, int, duckdb.DuckDBPyConnection, threading.Event]] = []
        self._numbers = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, con: duckdb.DuckDBPyConnection, seconds: float) -> tuple[int, threading.Event]:
        fired = threading.Event()
        number = next(self._numbers)
        with self._changed:
            heapq.heappush(self._armed, (time.monotonic() + seconds, number, con, fired))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="query-deadlines", daemon=True
                )
                self._thread.start()
            self._changed.notify()
        return number, fired

    def disarm(self, number: int) -> None:
        with self._changed:
            self._armed = [entry for entry in self._armed if entry[1] != number]
            heapq.heapify(self._armed)

    def _watch(self) -> None:
        with self._changed:
            while True:
                if not self._armed:
                    self._changed.wait()
                    continue
                due, _, con, fired = self._armed[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._changed.wait(wait)
                    continue
                heapq.heappop(self._armed)
                fired.set()
                con.interrupt()


_DEADLINES = _Deadlines()


@contextmanager
def deadline(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[None]:
    """Interrupt ``con``'s running statement after ``seconds``; raise QueryTimeout then."""
    number, fired = _DEADLINES.arm(con, seconds)
    try:
        yield
    except duckdb.Error as error:
        if fired.is_set():
            raise QueryTimeout(
                f"the query ran longer than its {seconds:g} s limit and was stopped",
                details={"timeout_s": seconds},
            ) from error
        raise
    finally:
        _DEADLINES.disarm(number)

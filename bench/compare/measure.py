"""Timing, CPU and memory measurements shared by every contender.

In-process engines (DuckDB, chdb) run in a child process of their own, so
each one's peak RSS is its own and one engine's memory never colours the
next; servers (streamgauge, the PostgreSQL service, PostgreSQL's backends)
are measured through /proc.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from bench.common import peak_rss_mib, percentile
from bench.compare.answers import Answer

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(slots=True)
class Timed:
    """One question on one contender: latency samples (ms) and the answer."""

    samples_ms: list[float]
    answer: Answer
    error: str = ""

    def summary(self) -> dict[str, float]:
        return {
            "p50_ms": round(percentile(self.samples_ms, 50), 2),
            "p95_ms": round(percentile(self.samples_ms, 95), 2),
        }


@dataclass(slots=True)
class QueryRun:
    """Every question on one contender, with its load time and peak memory."""

    contender: str
    timings: dict[str, Timed] = field(default_factory=dict)
    load_s: float = 0.0
    peak_rss_mib: float = 0.0
    note: str = ""


def repeat(action: Callable[[], T], repeats: int) -> tuple[list[float], T]:
    """Milliseconds of ``repeats`` runs after one warm-up run, whose result is returned."""
    result = action()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, result


def in_child(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args)`` in a fresh (spawned) process: its memory is its own."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args, **kwargs).result()


def own_peak_rss_mib() -> float:
    return peak_rss_mib(os.getpid())


def own_cpu_seconds() -> float:
    """CPU seconds of this process so far, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rows_of(table: Any) -> list[tuple[Any, ...]]:
    """An Arrow table's rows as tuples in column order."""
    columns = [column.to_pylist() for column in table.columns]
    return list(zip(*columns, strict=True)) if columns else []

"""The practical limit: DuckDB alone, with no API in front of it.

Queries: the SQL that streamgauge's engine generates for each question
(recorded while the engine answers it in-process), run directly on the same
hot store file. Ingest: DuckDB's ``read_json`` loading the same events from
an NDJSON file into a table, checkpointed (durable). Both run in a child
process of their own (``measure.in_child``).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import duckdb

from bench.bench_query import Recorder
from bench.compare.answers import normalize
from bench.compare.measure import (
    QueryRun,
    Timed,
    own_cpu_seconds,
    own_peak_rss_mib,
    repeat,
    rows_of,
)
from bench.compare.questions import END, PROJECT, QUESTIONS
from streamgauge.query import run_query, run_template
from streamgauge.scope import KeyScope, Principal

LOAD_RUNS = 3


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    # Long statements would draw a progress bar; it is cosmetic, so where the instance
    # refuses the setting (a database another connection of this process configured) skip it.
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute("SET enable_progress_bar = false")
    return con


def queries(hot_store: Path, repeats: int) -> QueryRun:
    run = QueryRun("DuckDB direct")
    con = _connect(hot_store)
    principal = Principal(PROJECT, KeyScope.READ)
    for question in QUESTIONS:
        recorder = Recorder(con)
        if question.path == "query":
            run_query(recorder, principal, question.body, now=END)  # type: ignore[arg-type]
        else:
            template = question.path.removeprefix("templates/")
            run_template(recorder, principal, template, question.body, now=END)  # type: ignore[arg-type]
        statements: list[tuple[str, Any]] = recorder.statements

        def execute(statements: list[tuple[str, Any]] = statements) -> Any:
            return [con.execute(sql, params).to_arrow_table() for sql, params in statements][-1]

        samples, table = repeat(execute, repeats)
        run.timings[question.name] = Timed(samples, normalize(question.kinds, rows_of(table)))
    con.close()
    run.peak_rss_mib = round(own_peak_rss_mib(), 1)
    return run


def load_json(ndjson: Path, events: int, workdir: Path) -> dict[str, Any]:
    """Median events/s and CPU seconds per million of ``LOAD_RUNS`` loads."""
    rates, cpus = [], []
    for n in range(LOAD_RUNS):
        con = _connect(workdir / f"read-json-{n}.duckdb")
        cpu_before, started = own_cpu_seconds(), time.perf_counter()
        con.execute(
            "CREATE TABLE events AS SELECT * FROM read_json(?, format='newline_delimited')",
            [str(ndjson)],
        )
        con.execute("CHECKPOINT")
        rates.append(events / (time.perf_counter() - started))
        cpus.append((own_cpu_seconds() - cpu_before) / events * 1e6)
        con.close()
    return {
        "events_per_s": round(sorted(rates)[len(rates) // 2]),
        "cpu_s_per_million": round(sorted(cpus)[len(cpus) // 2], 2),
        "peak_rss_mib": round(own_peak_rss_mib(), 1),
    }

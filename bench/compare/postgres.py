"""PostgreSQL: the hand-rolled ingest service, and the questions as SQL on a
well-indexed table.

Everything lives in a schema of its own (``SCHEMA`` unless told), dropped at
the end.
The table has the canonical columns (``properties`` and ``context`` as
``jsonb``) and three B-tree indexes an analytics team would add for these
questions: ``(project_id, timestamp)``, ``(project_id, event, timestamp)
INCLUDE (user_id)`` and ``(project_id, user_id, timestamp)``. Query sessions
get ``work_mem = 256MB`` (the default 4 MB sends every sort to disk).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from tests.support.server import free_port, wait_for

from bench.common import peak_rss_mib
from bench.compare.answers import normalize
from bench.compare.dataset import IngestData
from bench.compare.measure import QueryRun, Timed, repeat
from bench.compare.questions import QUESTIONS
from bench.compare.sg_http import CONCURRENCY
from bench.ingest import cpu_seconds, send_batches

DSN = os.environ.get("STREAMGAUGE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "streamgauge_bench_compare"
SERVICE = "streamgauge-bench-pg-service"  # the service's application_name: finds its backends
ROOT = Path(__file__).resolve().parent.parent.parent

_TABLE = """CREATE TABLE {table} (
  project_id text NOT NULL, event_id text NOT NULL, event text NOT NULL,
  "timestamp" timestamptz NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),
  user_id text, anonymous_id text, session_id text, organization_id text,
  duration_ms double precision, status_code integer, error text,
  usage_quantity double precision, usage_unit text, usage_sku text,
  method text, path text, source text NOT NULL DEFAULT 'native',
  properties jsonb, context jsonb)"""
_INDEXES = (
    '(project_id, "timestamp")',
    '(project_id, event, "timestamp") INCLUDE (user_id)',
    '(project_id, user_id, "timestamp")',
)


def version() -> str:
    with psycopg.connect(DSN) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


@contextmanager
def schema(name: str = SCHEMA) -> Iterator[psycopg.Connection[Any]]:
    """A connection whose search path is a fresh schema ``name``, dropped after."""
    drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(name)))
        try:
            yield conn
        finally:
            conn.execute(drop)


def _schema_of(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT current_schema()").fetchone()
    assert row is not None
    return str(row[0])


def _create(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(sql.SQL(_TABLE).format(table=sql.Identifier(name)))


def _index(conn: psycopg.Connection[Any], name: str) -> None:
    table = sql.Identifier(name)
    for n, columns in enumerate(_INDEXES):
        conn.execute(
            sql.SQL("CREATE INDEX {} ON {} " + columns).format(sql.Identifier(f"{name}_{n}"), table)
        )


def _backend_pids(conn: psycopg.Connection[Any]) -> list[int]:
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [SERVICE]
    ).fetchall()
    return [int(row[0]) for row in rows]


def ingest(conn: psycopg.Connection[Any], data: IngestData, workdir: Path) -> dict[str, Any]:
    """The service under uvicorn (one worker, like streamgauge's one process),
    inserting into a table indexed as the query table is."""
    _create(conn, "ingested")
    _index(conn, "ingested")
    port = free_port()
    dsn = f"{DSN}{'&' if '?' in DSN else '?'}application_name={SERVICE}"
    env = {**os.environ, "BENCH_PG_DSN": dsn, "BENCH_PG_TABLE": f"{_schema_of(conn)}.ingested"}
    log = (workdir / "pg-service.log").open("wb")
    service = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.compare.pg_service:app", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    results: dict[str, Any] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: httpx.get(f"{base}/health").status_code == 200, timeout=30)
        backends = _backend_pids(conn)
        for label, bodies, content_type in (
            ("json", data.json_bodies, "application/json"),
            ("ndjson", data.ndjson_bodies, "application/x-ndjson"),
        ):
            service_cpu = cpu_seconds(service.pid)
            database_cpu = sum(cpu_seconds(pid) for pid in backends)
            elapsed = asyncio.run(
                send_batches(f"{base}/events/batch", bodies, content_type, CONCURRENCY)
            )
            service_cpu = cpu_seconds(service.pid) - service_cpu
            database_cpu = sum(cpu_seconds(pid) for pid in backends) - database_cpu
            results[label] = {
                "events_per_s": round(data.events / elapsed),
                "visible_events_per_s": round(data.events / elapsed),  # visible once committed
                "cpu_s_per_million": round(service_cpu / data.events * 1e6, 2),
                "database_cpu_s_per_million": round(database_cpu / data.events * 1e6, 2),
            }
        stored = conn.execute("SELECT count(*) FROM ingested").fetchone()
        results["stored"] = int(stored[0]) if stored else 0
        results["peak_rss_mib"] = round(peak_rss_mib(service.pid), 1)
        results["database_peak_rss_mib"] = round(max(peak_rss_mib(p) for p in backends), 1)
    finally:
        service.terminate()
        service.wait(30)
    return results


def load(conn: psycopg.Connection[Any], csv: Path) -> float:
    """Seconds to COPY the query events in, index them and ANALYZE."""
    started = time.perf_counter()
    _create(conn, "events")
    table = sql.Identifier("events")
    with conn.cursor() as cursor:
        copy_sql = sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(table)
        with cursor.copy(copy_sql) as copy, csv.open("rb") as source:
            while chunk := source.read(1 << 20):
                copy.write(chunk)
    _index(conn, "events")
    conn.execute(sql.SQL("VACUUM ANALYZE {}").format(table))
    return time.perf_counter() - started


def queries(conn: psycopg.Connection[Any], csv: Path, repeats: int) -> QueryRun:
    run = QueryRun("PostgreSQL")
    run.load_s = round(load(conn, csv), 1)
    with psycopg.connect(DSN, autocommit=True) as session:
        session.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(_schema_of(conn))))
        session.execute("SET TimeZone = 'UTC'")
        session.execute("SET work_mem = '256MB'")
        backend = session.info.backend_pid
        for question in QUESTIONS:
            params = question.params()

            def ask(sql_text: str = question.postgres, params: dict[str, Any] = params) -> Any:
                return session.execute(sql_text, params).fetchall()

            samples, rows = repeat(ask, repeats)
            run.timings[question.name] = Timed(samples, normalize(question.kinds, rows))
        run.peak_rss_mib = round(peak_rss_mib(backend), 1)
    return run


def unavailable() -> str:
    """Why PostgreSQL cannot be used here, or "" when it can."""
    if importlib.util.find_spec("psycopg_pool") is None:
        return "psycopg-pool (the ingest service needs it) is missing; make bench-compare adds it"
    try:
        with psycopg.connect(DSN, connect_timeout=3):
            return ""
    except psycopg.OperationalError as error:
        return f"PostgreSQL is not reachable at {DSN} ({str(error).strip()})"

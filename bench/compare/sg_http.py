"""streamgauge through its HTTP API: batch ingest, and the questions as
templates and DSL queries on the query port (the server started by the
benchmark, on free loopback ports, as a real subprocess)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.server import ServerProcess, wait_for

from bench.common import peak_rss_mib
from bench.compare.answers import normalize
from bench.compare.dataset import IngestData, QueryData
from bench.compare.measure import QueryRun, Timed, repeat
from bench.compare.questions import QUESTIONS
from bench.ingest import cpu_seconds, send_batches, sink_lag

CONCURRENCY = 4  # batches in flight, for every HTTP contender


def _pid(server: ServerProcess) -> int:
    assert server.process is not None
    return server.process.pid


def ingest(data: IngestData, workdir: Path) -> dict[str, Any]:
    """Acknowledged and visible events/s, server CPU seconds per million, per format."""
    results: dict[str, Any] = {}
    server = ServerProcess(workdir / "sg-ingest").start()
    try:
        url = f"{server.ingest_url}/events/batch"
        for label, bodies, content_type in (
            ("json", data.json_bodies, "application/json"),
            ("ndjson", data.ndjson_bodies, "application/x-ndjson"),
        ):
            cpu_before = cpu_seconds(_pid(server))
            started = time.perf_counter()
            elapsed = asyncio.run(send_batches(url, bodies, content_type, CONCURRENCY))
            cpu = cpu_seconds(_pid(server)) - cpu_before
            wait_for(lambda: sink_lag(server) == 0, timeout=600, interval=0.05, what="hot store")
            results[label] = {
                "events_per_s": round(data.events / elapsed),
                "visible_events_per_s": round(data.events / (time.perf_counter() - started)),
                "cpu_s_per_million": round(cpu / data.events * 1e6, 2),
            }
        results["stored"] = _stored(server)
        results["peak_rss_mib"] = round(peak_rss_mib(_pid(server)), 1)
    finally:
        server.stop()
    return results


def _stored(server: ServerProcess) -> int:
    """How many events a query counts: every acknowledged one, duplicates never."""
    body = {"start": "2025-10-01T00:00:00Z", "end": "2025-11-01T00:00:00Z", "metrics": ["count"]}
    r = httpx.post(f"{server.query_url}/query", json=body, timeout=60)
    r.raise_for_status()
    return int(r.json()["data"][0]["count"])


def queries(data: QueryData, repeats: int) -> QueryRun:
    """Every question through ``/query`` or ``/templates/{name}`` with a read key."""
    run = QueryRun("streamgauge")
    server = ServerProcess(data.data_dir).start()
    headers = {"Authorization": f"Bearer {data.read_key}"}
    try:
        with httpx.Client(timeout=300, headers=headers) as http:
            for question in QUESTIONS:
                url = f"{server.query_url}/{question.path}"

                def ask(url: str = url, body: dict[str, Any] = question.body) -> httpx.Response:
                    r = http.post(url, json=body)
                    if r.status_code != 200:
                        raise RuntimeError(f"{url}: {r.status_code} {r.text}")
                    return r

                samples, response = repeat(ask, repeats)
                payload = response.json()
                names = [column["name"] for column in payload["columns"]]
                rows = [[row[name] for name in names] for row in payload["data"]]
                run.timings[question.name] = Timed(samples, normalize(question.kinds, rows))
        run.peak_rss_mib = round(peak_rss_mib(_pid(server)), 1)
    finally:
        server.stop()
    return run

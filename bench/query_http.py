"""Issue 3's figures: templates and DSL queries through HTTP vs the same SQL on DuckDB.

One run: generate N events of 30 days of demo traffic into a hot-store file, time
the engine's SQL run directly on DuckDB (in this process), then start the real
server on that data directory and time the same requests through ``/query`` and
``/templates/{name}``. The hot store is filled directly (not through the log) to
keep the set-up short: the queries read the same table either way.

Run: ``python -m bench.query_http [--events N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import httpx
from tests.support.server import ServerProcess

from bench.bench_query import CASES, END, RANGES, Recorder, load, p50
from bench.common import percentile, save
from streamgauge.keys import KeyStore
from streamgauge.query import run_query, run_template
from streamgauge.runtime import DataPaths
from streamgauge.scope import KeyScope, Principal


def direct_times(path: Path, repeats: int) -> dict[tuple[str, str], float]:
    con = duckdb.connect(str(path))
    principal = Principal("proj_0", KeyScope.READ)
    times = {}
    for name, (template, extra) in CASES.items():
        for label, (start, end) in RANGES.items():
            body = {"start": start, "end": end, **extra}
            recorder = Recorder(con)
            if template is None:
                run_query(recorder, principal, body, now=END)  # type: ignore[arg-type]
            else:
                run_template(recorder, principal, template, body, now=END)  # type: ignore[arg-type]
            statements = recorder.statements
            times[(name, label)] = p50(
                lambda s=statements: [con.execute(q, p).to_arrow_table() for q, p in s], repeats
            )
    con.close()
    return times


def http_times(server: ServerProcess, key: str, repeats: int) -> dict[tuple[str, str], list[float]]:
    times: dict[tuple[str, str], list[float]] = {}
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(timeout=60, headers=headers) as http:
        for name, (template, extra) in CASES.items():
            path = "query" if template is None else f"templates/{template}"
            url = f"{server.query_url}/{path}"
            for label, (start, end) in RANGES.items():
                body = json.dumps({"start": start, "end": end, **extra})
                samples = []
                for n in range(repeats + 1):
                    r = http.post(url, content=body, headers={"content-type": "application/json"})
                    assert r.status_code == 200, r.text
                    if n:  # the first run warms caches, as in the direct measurement
                        samples.append(r.elapsed.total_seconds() * 1000)
                times[(name, label)] = samples
    return times


def run(events: int, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        hot = data / "hot" / "hot.duckdb"
        load(hot, events).close()
        direct = direct_times(hot, repeats)
        keys = KeyStore(DataPaths(data).keys)
        _, key = keys.create("proj_0", KeyScope.READ)  # the project the direct runs read
        keys.close()
        with ServerProcess(data) as server:
            over_http = http_times(server, key, repeats)
    rows = []
    for (name, label), samples in over_http.items():
        http_p50 = percentile(samples, 50)
        rows.append({
            "case": name, "range": label,
            "http_p50_ms": round(http_p50, 1),
            "http_p95_ms": round(percentile(samples, 95), 1),
            "direct_p50_ms": round(direct[(name, label)], 1),
            "overhead": round(http_p50 / direct[(name, label)], 2),
        })  # fmt: skip
    return {"events": events, "repeats": repeats, "cases": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    result = run(args.events, args.repeats)
    print(f"{'case':28} {'range':>5} {'http p50':>9} {'direct p50':>10} {'ratio':>6}")
    for row in result["cases"]:
        print(f"{row['case']:28} {row['range']:>5} {row['http_p50_ms']:9.1f} "
              f"{row['direct_p50_ms']:10.1f} {row['overhead']:6.2f}")  # fmt: skip
    save("query_http", result)


if __name__ == "__main__":
    main()

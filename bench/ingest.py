"""Issue 2's figures: batch and single-event ingest, freshness, peak RSS.

Baselines in the same run: DuckDB's ``read_json`` loading the same events
(the practical limit of this machine) and a trivial ASGI handler on the same
HTTP server. Run: ``python -m bench.ingest [--events N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
from tests.support.server import ServerProcess, free_port, wait_for

from bench.common import peak_rss_mib, percentile, save

ROUTES = ["/api/users", "/api/orders/{id}", "/api/reports", "/api/search", "/health"]


def seed_events(n: int, prefix: str) -> list[dict[str, Any]]:
    """Events in the seed's shape with unique ids, realistic sizes (~300 bytes)."""
    return [
        {
            "id": f"{prefix}-{i}",
            "event": "api.request",
            "timestamp": 1_759_492_800_000 + i,
            "userId": f"user_{i % 5000}",
            "organizationId": f"org_{i % 50}",
            "sessionId": f"sess_{i % 20000}",
            "properties": {
                "method": "GET" if i % 3 else "POST",
                "route": ROUTES[i % 5],
                "region": "eu" if i % 2 else "us",
            },
            "performance": {
                "duration": 10.0 + (i % 997) / 7,
                "statusCode": 500 if i % 50 == 0 else 200,
            },
        }
        for i in range(n)
    ]


def duckdb_read_json_limit(events: list[dict[str, Any]], workdir: Path) -> float:
    """Events/s of DuckDB loading the same events from NDJSON into a table."""
    path = workdir / "events.ndjson"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    best = 0.0
    for _ in range(3):
        con = duckdb.connect(str(workdir / f"limit-{time.monotonic_ns()}.duckdb"))
        start = time.perf_counter()
        con.execute(
            f"CREATE TABLE t AS SELECT * FROM read_json('{path}', format='newline_delimited')"
        )
        con.execute("CHECKPOINT")
        best = max(best, len(events) / (time.perf_counter() - start))
        con.close()
    return best


async def send_batches(url: str, bodies: list[bytes], content_type: str, concurrency: int) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            while True:
                r = await client.post(url, content=body, headers={"content-type": content_type})
                if r.status_code == 200:
                    break
                if r.status_code != 503:
                    raise RuntimeError(r.text)
                await asyncio.sleep(float(r.headers.get("retry-after", "1")))

    start = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sink_lag(server: ServerProcess) -> float:
    text = httpx.get(f"{server.ingest_url}/metrics").text
    match = re.search(r'streamgauge_sink_lag_events\{sink="hot"\} ([0-9.e+]+)', text)
    return float(match.group(1)) if match else float("inf")


def wrk(url: str, lua: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(lua), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {}
    for q in ("50", "99"):
        m = re.search(rf"\s{q}%\s+([0-9.]+)(us|ms|s)", out)
        assert m, out
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        lat[f"p{q}_ms"] = float(m.group(1)) * scale
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, **lat, "non_2xx": float(non2xx.group(1)) if non2xx else 0.0}


def wrk_script(workdir: Path, body: str, delay_ms: float = 0.0) -> Path:
    lua = workdir / f"post-{delay_ms}.lua"
    pace = f"function delay()\n  return {delay_ms}\nend\n" if delay_ms else ""
    lua.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n' + pace
    )
    return lua


def freshness(server: ServerProcess, samples: int) -> list[float]:
    """Seconds from the acknowledgement of one event to its being counted by /query."""
    delays = []
    query = {"start": "2001-01-01T00:00:00Z", "end": "2001-01-02T00:00:00Z", "groupBy": "day"}
    with httpx.Client() as http:
        for n in range(1, samples + 1):
            event = {"event": "fresh", "id": f"fresh-{n}", "timestamp": "2001-01-01T12:00:00Z"}
            assert http.post(f"{server.ingest_url}/events", json=event).status_code == 200
            acked = time.perf_counter()

            def visible(expected: int = n) -> bool:
                data = http.post(f"{server.query_url}/query", json=query).json()["data"]
                return sum(row["count"] for row in data) >= expected

            wait_for(visible, timeout=10, interval=0.002)
            delays.append(time.perf_counter() - acked)
    return delays


def run(total_events: int, seconds: int) -> dict[str, Any]:
    results: dict[str, Any] = {"events": total_events}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        json_events = seed_events(total_events, "j")
        limit = duckdb_read_json_limit(json_events, workdir)
        results["duckdb_read_json_events_per_s"] = round(limit)

        server = ServerProcess(workdir / "data").start()
        try:
            pid = server.process.pid  # type: ignore[union-attr]
            url = f"{server.ingest_url}/events/batch"
            batches = [json_events[i : i + 1000] for i in range(0, total_events, 1000)]
            for label, content_type, encode in (
                ("json", "application/json", lambda b: json.dumps(b).encode()),
                ("ndjson", "application/x-ndjson",
                 lambda b: "\n".join(json.dumps(e) for e in b).encode()),
            ):  # fmt: skip
                if label == "ndjson":  # fresh ids, so nothing is a duplicate
                    batches = [[{**e, "id": "n" + e["id"]} for e in batch] for batch in batches]
                bodies = [encode(batch) for batch in batches]
                cpu0 = cpu_seconds(pid)
                started = time.perf_counter()
                elapsed = asyncio.run(send_batches(url, bodies, content_type, concurrency=4))
                cpu = cpu_seconds(pid) - cpu0
                acked_rate = total_events / elapsed
                wait_for(lambda: sink_lag(server) == 0, timeout=300, interval=0.05)
                visible_rate = total_events / (time.perf_counter() - started)
                results[f"batch_{label}"] = {
                    "events_per_s": round(acked_rate),
                    "share_of_duckdb_limit": round(acked_rate / limit, 3),
                    "server_cpu_s_per_million": round(cpu / total_events * 1e6, 2),
                    "visible_events_per_s": round(visible_rate),
                }

            single = json.dumps({"event": "api.request", "userId": "user_123",
                                 "properties": {"method": "GET", "path": "/api/users"},
                                 "performance": {"duration": 45.5, "statusCode": 200}})  # fmt: skip
            results["single_streamgauge"] = wrk(
                f"{server.ingest_url}/events", wrk_script(workdir, single), seconds, 16
            )
            trivial_port = free_port()
            trivial = subprocess.Popen(
                [sys.executable, "-m", "bench.trivial_app", str(trivial_port)],
                cwd=Path(__file__).parent.parent,
            )
            try:
                wait_for(lambda: httpx.get(f"http://127.0.0.1:{trivial_port}/").status_code == 200,
                         timeout=20)  # fmt: skip
                results["single_trivial_asgi"] = wrk(
                    f"http://127.0.0.1:{trivial_port}/events",
                    wrk_script(workdir, single),
                    seconds,
                    16,
                )
            finally:
                trivial.terminate()
                trivial.wait()
            ratio = results["single_streamgauge"]["rps"] / results["single_trivial_asgi"]["rps"]
            results["single_share_of_trivial"] = round(ratio, 3)
            # p99 at 50 % load: 16 paced connections, each waiting between requests.
            half = results["single_streamgauge"]["rps"] / 2
            delay_ms = 16 / half * 1000
            results["single_at_half_load"] = wrk(
                f"{server.ingest_url}/events", wrk_script(workdir, single, delay_ms), seconds, 16
            )
            delays = freshness(server, 200)
            results["freshness_s"] = {
                "p50": round(percentile(delays, 50), 4),
                "p99": round(percentile(delays, 99), 4),
                "max": round(max(delays), 4),
            }
            results["server_peak_rss_mib"] = round(peak_rss_mib(pid), 1)
        finally:
            server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    results = run(args.events, args.seconds)
    print(json.dumps(results, indent=2))
    save("ingest", results)


if __name__ == "__main__":
    main()

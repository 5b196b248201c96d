"""Issue 11's figure: ingest throughput with a typical pipeline against none, same run.

Typical: a schema check on every event, five transforms (redact e-mails, hash the
user id, drop a field, rename one, filter bots) and user-agent enrichment. Two
real servers take the same events (distinct ids) over HTTP, in alternating rounds
so drift hits both alike; the split + normalize (+ pipeline) cost is also timed
in-process, where the pipeline's own share is clearest. Goal: at most 20 % slower.
Run: ``python -m bench.bench_pipeline [--events N] [--batch B] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.server import ServerProcess

from bench.bench_sources import send
from bench.common import save
from streamgauge.config import load_settings
from streamgauge.pipeline import Pipeline
from streamgauge.sources.native import NormalizeOptions, normalize, split_batch

TYPICAL = """
pipeline:
  schemas:
    - event: api.request
      properties:
        method: {type: string, required: true, enum: [GET, POST, PUT, DELETE]}
        route: {type: string, required: true, pattern: "^/", max_length: 200}
        email: {type: string}
  enrichment:
    user_agent: {enabled: true}
  transforms:
    - {type: redact, patterns: [email], fields: [properties.email]}
    - {type: hash, fields: [user_id], key_env: BENCH_HASH_KEY}
    - {type: drop, fields: [properties.debug]}
    - {type: rename, fields: {properties.route: properties.endpoint}}
    - {type: filter, name: bots, when: {where: [{field: context.ua.is_bot, value: true}]}}
"""
AGENTS = [
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    f"Chrome/{v}.0.0.0 Safari/537.36"
    for v in range(100, 120)
] + [
    f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_{v} like Mac OS X) AppleWebKit/605.1.15 "
    f"(KHTML, like Gecko) Version/17.{v} Mobile/15E148 Safari/604.1"
    for v in range(10)
]
ROUTES = ["/api/users", "/api/orders/{id}", "/api/reports", "/api/search", "/health"]


def batch(ids: list[int], tag: str) -> tuple[str, bytes, str]:
    events = [
        {
            "id": f"{tag}-{i}", "event": "api.request", "userId": f"user_{i % 5000}",
            "organizationId": f"org_{i % 50}", "sessionId": f"sess_{i % 20000}",
            "properties": {"method": "GET" if i % 3 else "POST", "route": ROUTES[i % 5],
                           "email": f"user{i % 5000}@example.com", "debug": "x" * 20},
            "context": {"userAgent": AGENTS[i % len(AGENTS)]},
            "performance": {"duration": 10.0 + (i % 997) / 7, "statusCode": 200},
        }
        for i in ids
    ]  # fmt: skip
    return "/events/batch", json.dumps(events).encode(), "application/json"


def in_process(bodies: list[bytes], pipeline: Pipeline | None) -> float:
    """Events per second of split + normalize (+ the pipeline) alone."""
    options = NormalizeOptions("bench", time.time_ns() // 1000, 10**12, 256, 1 << 20)
    count, start = 0, time.perf_counter()
    for body in bodies:
        events = [normalize(raw, options) for raw in split_batch(body, ndjson=False)]
        if pipeline is not None:
            events = pipeline.run(events, list(range(len(events)))).events
        count += len(events)
    return count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="events per server and round")
    parser.add_argument("--batch", type=int, default=500, help="events per request")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    os.environ.setdefault("BENCH_HASH_KEY", "bench-key")
    ids = list(range(args.events))
    chunks = [ids[i : i + args.batch] for i in range(0, len(ids), args.batch)]
    seconds = {"none": 0.0, "typical": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "typical.yaml"
        config.write_text(TYPICAL)
        bodies = [batch(chunk, f"cpu-{n}")[1] for n, chunk in enumerate(chunks)]
        pipeline = Pipeline(load_settings(config).pipeline)
        in_process(bodies[:4], pipeline)  # warm the parser and its cache alike
        cpu = {"none": in_process(bodies, None), "typical": in_process(bodies, pipeline)}
        servers = {
            "none": ServerProcess(Path(tmp) / "none"),
            "typical": ServerProcess(Path(tmp) / "typical", config=config),
        }
        for server in servers.values():
            server.start()
        try:
            for name, server in servers.items():  # warm-up
                warm = [batch(c, f"warm-{name}-{n}") for n, c in enumerate(chunks[:10])]
                asyncio.run(send(server.ingest_url, warm, 200, args.concurrency))
            for round_ in range(args.rounds):
                order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
                for name in order:
                    requests = [batch(c, f"r{round_}-{n}") for n, c in enumerate(chunks)]
                    seconds[name] += asyncio.run(
                        send(servers[name].ingest_url, requests, 200, args.concurrency)
                    )
        finally:
            for server in servers.values():
                server.stop()
    total = args.events * args.rounds
    http = {name: round(total / s) for name, s in seconds.items()}
    report = {
        "events_per_server": total,
        "batch": args.batch,
        "http_events_per_s": http,
        "http_slowdown_pct": round((1 - http["typical"] / http["none"]) * 100, 1),
        "in_process_events_per_s": {k: round(v) for k, v in cpu.items()},
        "in_process_slowdown_pct": round((1 - cpu["typical"] / cpu["none"]) * 100, 1),
        "goal_pct": 20,
    }
    path = save("bench_pipeline", report)
    print(json.dumps(report, indent=2))
    print(f"saved {path}")
    return report


if __name__ == "__main__":
    main()

"""Added latency per request of each middleware, against the same app uninstrumented.

Both apps are called in-process in the same run, interleaved in rounds so drift hits both
alike: the ASGI app directly with a fake receive/send, the WSGI app with a direct environ
call. The client is real (queue + sender thread) over an in-process transport, so the cost
measured is everything the request path pays. Goal: ≤ 30 µs median added.

    python clients/python/bench/bench_middleware.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from streamgauge_client import Client
from streamgauge_client.asgi import StreamgaugeMiddleware as ASGIMiddleware
from streamgauge_client.wsgi import StreamgaugeMiddleware as WSGIMiddleware


def sink_client() -> Client:
    ok = httpx.Response(200, json={"accepted": 0})
    return Client("http://bench", transport=httpx.MockTransport(lambda request: ok))


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def measure_asgi(app: Any, n: int) -> list[float]:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        pass

    async def run() -> list[float]:
        samples = []
        for _ in range(n):
            scope = {"type": "http", "method": "GET", "path": "/items/1", "headers": []}
            t0 = time.perf_counter_ns()
            await app(scope, receive, send)
            samples.append((time.perf_counter_ns() - t0) / 1000)
        return samples

    return asyncio.run(run())


def measure_wsgi(app: Callable[..., Any], n: int) -> list[float]:
    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        pass

    samples = []
    for _ in range(n):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/items/1"}
        t0 = time.perf_counter_ns()
        body = app(environ, start_response)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
        samples.append((time.perf_counter_ns() - t0) / 1000)
    return samples


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def compare(name: str, plain: Callable[[int], list[float]], wrapped: Callable[[int], list[float]],
            requests: int, rounds: int = 10) -> None:  # fmt: skip
    base: list[float] = []
    inst: list[float] = []
    for _ in range(rounds):
        base += plain(requests // rounds)
        inst += wrapped(requests // rounds)
    b50, i50 = statistics.median(base), statistics.median(inst)
    b99, i99 = p(base, 0.99), p(inst, 0.99)
    print(
        f"{name}: median {b50:.1f} → {i50:.1f} µs (added {i50 - b50:.1f} µs); "
        f"p99 {b99:.1f} → {i99:.1f} µs (added {i99 - b99:.1f} µs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    n = parser.parse_args().requests
    client = sink_client()
    asgi = ASGIMiddleware(asgi_app, client=client)
    wsgi = WSGIMiddleware(wsgi_app, client=client)
    measure_asgi(asgi, 1000), measure_wsgi(wsgi, 1000)  # warm up, start the sender
    compare("ASGI", lambda k: measure_asgi(asgi_app, k), lambda k: measure_asgi(asgi, k), n)
    compare("WSGI", lambda k: measure_wsgi(wsgi_app, k), lambda k: measure_wsgi(wsgi, k), n)
    client.close()
    stats = client.stats
    print(f"client: sent {stats.sent}, dropped {stats.dropped}, failed {stats.failed}")


if __name__ == "__main__":
    main()

"""``streamgauge serve``: both HTTP apps on one event loop, over one Runtime.

Ingest listens on ``--ingest-port`` (8787), queries and the dashboard on
``--query-port`` (8788). SIGTERM/SIGINT stop both servers (in-flight requests
finish), then the runtime drains the log into the sinks and closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
from collections.abc import Generator
from pathlib import Path

import uvicorn
import uvloop

from streamgauge.cluster.roles import ALL_ROLES
from streamgauge.config import Settings
from streamgauge.errors import StartupRefused
from streamgauge.runtime import Runtime

logger = logging.getLogger("streamgauge")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback
                for info in socket.getaddrinfo(host, None)
            )
        except OSError:
            return False


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to ``serve``: two share one loop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def check_secure_bind(runtime: Runtime, host: str) -> None:
    if not is_loopback(host) and not runtime.keys.has_keys():
        raise StartupRefused(
            f"refusing to listen on {host} with no API keys: anyone could read and write. "
            "Create keys first (streamgauge keys create --project P --scope write), "
            "or bind to 127.0.0.1"
        )


def serve(
    data_dir: Path,
    host: str,
    ingest_port: int,
    query_port: int,
    settings: Settings,
    roles: frozenset[str] = ALL_ROLES,
) -> None:
    runtime = Runtime(data_dir, settings, roles)
    try:
        check_secure_bind(runtime, host)
    except StartupRefused:
        runtime.close()
        raise
    runtime.start()
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_serve_both(runtime, host, ingest_port, query_port))
    finally:
        runtime.close()
        logger.info("streamgauge stopped; every acknowledged event is in the log and sinks")


async def _serve_both(runtime: Runtime, host: str, ingest_port: int, query_port: int) -> None:
    from streamgauge.api.app import create_query_app
    from streamgauge.cluster.roles import operational_app
    from streamgauge.ingest.app import create_ingest_app

    servers: list[_Server] = []

    def ready() -> bool:
        return all(s.started for s in servers)

    # A port whose role this node lacks still answers /health, /ready and /metrics.
    ingest_app = create_ingest_app if "ingest" in runtime.roles else operational_app
    query_app = create_query_app if "query" in runtime.roles else operational_app
    apps = ((ingest_app(runtime, ready), ingest_port), (query_app(runtime, ready), query_port))
    for app, port in apps:
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False,
            loop="asyncio", http="httptools", lifespan="off", timeout_graceful_shutdown=30,
        )  # fmt: skip
        servers.append(_Server(config))
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    logger.info(
        "streamgauge: ingest on http://%s:%d, queries and dashboard on http://%s:%d",
        host, ingest_port, host, query_port,
    )  # fmt: skip
    await asyncio.gather(*(s.serve() for s in servers))

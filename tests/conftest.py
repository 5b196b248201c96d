"""Shared fixtures: a real server per test, service probes that never silently skip in CI."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ServerProcess

REQUIRE_SERVICES = os.environ.get("STREAMGAUGE_REQUIRE_SERVICES") == "1"


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or, in CI, fail) when a service is not listening."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return
    except OSError as error:
        reason = f"{name} is not reachable at {host}:{port} ({error})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}; STREAMGAUGE_REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(reason)


def require_binary(name: str, path: str | None) -> str:
    if path:
        return path
    reason = f"{name} is not installed (make test installs it with apt: scripts/system-deps.sh)"
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}; STREAMGAUGE_REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(reason)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A running embedded server with its own data directory, unauthenticated (loopback)."""
    process = ServerProcess(tmp_path / "data")
    process.start()
    try:
        yield process
    finally:
        if process.process is not None and process.process.poll() is None:
            process.stop()


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 endpoint (OpenStack Swift's s3api on loopback), started for the module."""
    from tests.archive import swift

    reason = swift.missing_reason()
    if reason is not None:
        if REQUIRE_SERVICES:
            pytest.fail(f"S3 service required but unavailable: {reason}")
        pytest.skip(reason)
    server = swift.start()
    try:
        yield server.endpoint
    finally:
        server.stop()

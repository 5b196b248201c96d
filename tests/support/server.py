"""A real ``streamgauge serve`` subprocess for integration tests.

Started in its own process group on free loopback ports with its own data
directory; ``kill()`` SIGKILLs the whole group (a real crash), ``restart()``
starts it again on the same ports and data directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    condition: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.02, what: str = ""
) -> Any:
    """Poll ``condition`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception as error:  # a condition may fail while the server warms up
            last_error = error
        else:
            if value:
                return value
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what or condition}: {last_error}"
    )


class ServerProcess:
    """One streamgauge server: ``start()``, ``stop()`` (SIGTERM), ``kill()`` (SIGKILL)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        connect_host: str | None = None,
        config: Path | None = None,
        env: dict[str, str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.connect_host = connect_host or host
        self.config = config
        self.env = dict(env or {})
        self.extra_args = list(extra_args)
        self.ingest_port = free_port()
        self.query_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-server.log"

    @property
    def ingest_url(self) -> str:
        return f"http://{self.connect_host}:{self.ingest_port}"

    @property
    def query_url(self) -> str:
        return f"http://{self.connect_host}:{self.query_port}"

    def command(self) -> list[str]:
        args = [
            sys.executable, "-m", "streamgauge", "serve",
            "--data-dir", str(self.data_dir),
            "--host", self.host,
            "--ingest-port", str(self.ingest_port),
            "--query-port", str(self.query_port),
        ]  # fmt: skip
        if self.config is not None:
            args += ["--config", str(self.config)]
        return args + self.extra_args

    def start(self, *, wait: bool = True, timeout: float = 30.0) -> ServerProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode}:\n{self.output()}"
                )
            return all(
                httpx.get(f"{url}/ready", timeout=1.0).status_code == 200
                for url in (self.ingest_url, self.query_url)
            )

        try:
            wait_for(ready, timeout=timeout, interval=0.05, what="server /ready")
        except RuntimeError as error:
            raise AssertionError(str(error)) from None

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 30.0) -> int:
        """Graceful stop (SIGTERM); returns the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"server did not stop on SIGTERM:\n{self.output()}") from None

    def kill(self) -> None:
        """A real crash: SIGKILL the whole process group."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def restart(self, *, wait: bool = True) -> ServerProcess:
        return self.start(wait=wait)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()

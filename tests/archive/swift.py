"""A real S3 endpoint for tests: OpenStack Swift with its s3api middleware, on loopback.

Needs Debian's packages ``swift swift-proxy swift-account swift-container
swift-object`` (the ``swift-*-server`` and ``swift-ring-builder`` commands and
the Python ``swift`` package with ``s3api``) and ``memcached`` (tempauth keeps
its tokens there). Everything lives
in one temporary directory: configs, rings (one device, one replica), and the
storage device. The daemons drop privileges to user ``swift``, so the device
directory is handed to that user. S3 credentials come from tempauth:
access key ``test:tester``, secret ``testing``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

SERVERS = ("account", "container", "object")
ACCESS_KEY, SECRET_KEY = "test:tester", "testing"
REQUIRED_COMMANDS = (
    "memcached",
    "swift-proxy-server",
    "swift-account-server",
    "swift-container-server",
    "swift-object-server",
    "swift-ring-builder",
)


def missing_reason() -> str | None:
    """Why Swift cannot run here, or None when it can."""
    missing = [c for c in REQUIRED_COMMANDS if shutil.which(c) is None]
    if missing:
        return (
            f"Swift is not installed ({', '.join(missing)} missing): apt-get install "
            "swift swift-proxy swift-account swift-container swift-object memcached"
        )
    try:
        pwd.getpwnam("swift")
    except KeyError:
        return "user 'swift' does not exist (Debian's swift package creates it)"
    if os.geteuid() != 0:
        return "Swift daemons drop to user 'swift' and must start as root"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_COMMON = """[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
user = swift
swift_dir = {root}
devices = {root}/devices
mount_check = false
log_name = {name}
log_level = WARNING
"""

_PROXY_PIPELINE = """
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth \
copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:{memcache_port}

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
"""


@dataclass
class Swift:
    """A running Swift: ``endpoint`` speaks S3 with ``ACCESS_KEY``/``SECRET_KEY``."""

    root: Path
    endpoint: str
    processes: list[subprocess.Popen[bytes]]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _write_configs(root: Path, ports: dict[str, int]) -> None:
    (root / "swift.conf").write_text(
        "[swift-hash]\nswift_hash_path_suffix = streamgauge-tests\n"
        "[storage-policy:0]\nname = Policy-0\ndefault = yes\n"
    )
    for name in SERVERS:
        body = _COMMON.format(port=ports[name], root=root, name=name)
        body += f"\n[pipeline:main]\npipeline = {name}-server\n\n"
        body += f"[app:{name}-server]\nuse = egg:swift#{name}\n"
        (root / f"{name}-server.conf").write_text(body)
    proxy = _COMMON.format(port=ports["proxy"], root=root, name="proxy")
    proxy += _PROXY_PIPELINE.format(memcache_port=ports["memcached"])
    (root / "proxy-server.conf").write_text(proxy)


def _build_rings(root: Path, ports: dict[str, int]) -> None:
    for name in SERVERS:
        builder = str(root / f"{name}.builder")
        for args in (
            ["create", "8", "1", "0"],
            ["add", f"r1z1-127.0.0.1:{ports[name]}/d1", "1"],
            ["rebalance"],
        ):
            result = subprocess.run(
                ["swift-ring-builder", builder, *args], capture_output=True, check=False
            )
            # rebalance exits 1 with a warning on a single-device ring; 2 is an error.
            if result.returncode >= 2:
                raise RuntimeError(f"swift-ring-builder {args}: {result.stderr.decode()}")


def start(*, timeout: float = 30.0) -> Swift:
    """Configure and start Swift in a fresh directory; wait until S3 answers.

    The directory is made under the system temp dir rather than pytest's
    ``tmp_path``: pytest's is private to root, and user ``swift`` must reach it.
    """
    root = Path(tempfile.mkdtemp(prefix="streamgauge-swift-"))
    root.chmod(0o755)
    ports = {name: _free_port() for name in (*SERVERS, "proxy", "memcached")}
    _write_configs(root, ports)
    _build_rings(root, ports)
    device = root / "devices" / "d1"
    device.mkdir(parents=True, exist_ok=True)
    swift_user = pwd.getpwnam("swift")
    for path in (root, root / "devices", device):
        os.chown(path, swift_user.pw_uid, swift_user.pw_gid)
    log = (root / "swift.log").open("ab")
    memcached = ["memcached", "-l", "127.0.0.1", "-p", str(ports["memcached"]), "-U", "0"]
    processes = [
        subprocess.Popen(
            [*memcached, "-u", "swift"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
        *(
            subprocess.Popen(
                # -v: log to stdout too, since there is no syslog to receive it.
                [f"swift-{name}-server", str(root / f"{name}-server.conf"), "-v"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for name in (*SERVERS, "proxy")
        ),
    ]
    swift = Swift(root=root, endpoint=f"http://127.0.0.1:{ports['proxy']}", processes=processes)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            break
        try:
            if httpx.get(f"{swift.endpoint}/healthcheck", timeout=1).status_code == 200:
                return swift
        except httpx.HTTPError:
            pass  # not listening yet: poll again until the deadline
        time.sleep(0.1)
    swift.stop()
    raise RuntimeError(f"Swift did not start; log:\n{(root / 'swift.log').read_text()[-3000:]}")

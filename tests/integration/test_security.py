"""Keys and scopes over real HTTP, and guarantee 7: secure by default."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess, wait_for
from tests.support.store import stored_events

QUERY = {"start": "2025-10-03T00:00:00Z", "end": "2025-10-04T00:00:00Z", "groupBy": "day"}


def sg(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamgauge", *args, "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def create_key(data_dir: Path, project: str, scope: str, *extra: str) -> dict[str, str]:
    done = sg(
        data_dir, "keys", "create", "--project", project, "--scope", scope, "-o", "json", *extra
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def bearer(key: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['secret']}"}


def test_public_bind_without_keys_refuses_to_start(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", host="0.0.0.0")
    server.start(wait=False)
    assert server.process is not None
    assert server.process.wait(30) == 2
    assert "refusing to listen on 0.0.0.0 with no API keys" in server.output()


def test_public_bind_starts_once_keys_exist(tmp_path: Path) -> None:
    data = tmp_path / "data"
    create_key(data, "shop", "write")
    server = ServerProcess(data, host="0.0.0.0", connect_host="127.0.0.1")
    with server:
        assert httpx.post(f"{server.ingest_url}/events", json={"event": "x"}).status_code == 401


@pytest.fixture
def keyed(tmp_path: Path) -> tuple[ServerProcess, dict[str, dict[str, str]]]:
    data = tmp_path / "data"
    keys = {
        "write": create_key(data, "shop", "write"),
        "read": create_key(data, "shop", "read"),
        "admin": create_key(data, "shop", "admin"),
        "other_write": create_key(data, "other", "write"),
        "other_read": create_key(data, "other", "read"),
    }
    server = ServerProcess(data).start()
    yield server, keys
    if server.process and server.process.poll() is None:
        server.stop()


def test_each_scope_does_exactly_what_it_should(
    keyed: tuple[ServerProcess, dict[str, dict[str, str]]],
) -> None:
    server, keys = keyed
    event = {"event": "x", "timestamp": "2025-10-03T01:00:00Z"}
    ingest, query = f"{server.ingest_url}/events", f"{server.query_url}/query"
    assert httpx.post(ingest, json=event, headers=bearer(keys["write"])).status_code == 200
    assert httpx.post(ingest, json=event, headers=bearer(keys["admin"])).status_code == 200
    r = httpx.post(ingest, json=event, headers=bearer(keys["read"]))
    assert r.status_code == 403 and "use a write key" in r.json()["error"]["message"]
    r = httpx.post(query, json=QUERY, headers=bearer(keys["write"]))
    assert r.status_code == 403 and "use a read key" in r.json()["error"]["message"]
    for name in ("read", "admin"):
        r = httpx.post(query, json=QUERY, headers=bearer(keys[name]))
        assert r.status_code == 200 and sum(row["count"] for row in r.json()["data"]) == 2
    r = httpx.post(query, json=QUERY, headers={"X-API-Key": keys["read"]["secret"]})
    assert r.status_code == 200
    other = httpx.post(query, json=QUERY, headers=bearer(keys["other_read"])).json()["data"]
    assert sum(row["count"] for row in other) == 0


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sg_w_nope"}, {"X-API-Key": "wrong"},
     {"Authorization": "Token abc"}, {"Authorization": "Basic !!!"}],
)  # fmt: skip
def test_missing_or_wrong_keys_are_401(
    keyed: tuple[ServerProcess, dict[str, dict[str, str]]], headers: dict[str, str]
) -> None:
    server, _ = keyed
    for url, body in (
        (f"{server.ingest_url}/events", {"event": "x"}),
        (f"{server.query_url}/query", QUERY),
    ):
        r = httpx.post(url, json=body, headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_events_land_in_the_key_s_project(
    keyed: tuple[ServerProcess, dict[str, dict[str, str]]],
) -> None:
    server, keys = keyed
    httpx.post(
        f"{server.ingest_url}/events", json={"event": "a", "id": "1"}, headers=bearer(keys["write"])
    )
    httpx.post(
        f"{server.ingest_url}/events",
        json={"event": "a", "id": "1"},
        headers=bearer(keys["other_write"]),
    )
    server.stop()
    rows = stored_events(server.data_dir, "project_id, event_id")
    assert sorted((r["project_id"], r["event_id"]) for r in rows) == [("other", "1"), ("shop", "1")]


def test_a_revoked_key_stops_working(
    keyed: tuple[ServerProcess, dict[str, dict[str, str]]],
) -> None:
    server, keys = keyed
    url = f"{server.ingest_url}/events"
    assert httpx.post(url, json={"event": "a"}, headers=bearer(keys["write"])).status_code == 200
    done = sg(server.data_dir, "keys", "revoke", keys["write"]["key_id"])
    assert done.returncode == 0, done.stderr

    def refused() -> bool:
        return (
            httpx.post(url, json={"event": "a"}, headers=bearer(keys["write"])).status_code == 401
        )

    wait_for(refused, timeout=3, what="revocation to take effect")
    listed = json.loads(sg(server.data_dir, "keys", "list", "-o", "json").stdout)
    assert keys["write"]["key_id"] not in {k["key_id"] for k in listed}
    assert all("secret" not in k for k in listed)


def test_secrets_are_stored_only_hashed(tmp_path: Path) -> None:
    key = create_key(tmp_path / "data", "shop", "read", "--organization", "org_1")
    assert key["secret"].encode() not in (tmp_path / "data" / "keys.db").read_bytes()


def test_only_read_keys_can_be_organization_scoped(tmp_path: Path) -> None:
    done = sg(tmp_path / "data", "keys", "create", "--project", "p", "--scope", "write",
              "--organization", "o")  # fmt: skip
    assert done.returncode == 1 and "only read keys can be scoped" in done.stderr

"""Billing through the real server: the seed's example, keys, retries, crashes, replay, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from streamgauge.cli.main import cli
from tests.support.server import ServerProcess, wait_for

CONFIG = """
billing:
  prices:
    - sku: ai-text
      model: graduated
      tiers: [{up_to: 1000, unit_price: "0"}, {unit_price: "0.00002"}]
"""
OCTOBER = {"period": "2025-10"}
SEED_USAGE = {"start": "2025-10-01T00:00:00Z", "end": "2025-10-31T23:59:59Z"}


def usage(event_id: str, org: str, quantity: float, day: int = 3) -> dict[str, Any]:
    return {"id": event_id, "event": "usage.tracked", "timestamp": f"2025-10-{day:02d}T12:00:00Z",
            "organizationId": org, "userId": "user_123",
            "usage": {"quantity": quantity, "unit": "tokens", "sku": "ai-text"}}  # fmt: skip


def make_key(data_dir: Path, scope: str, organization: str | None = None) -> str:
    args = [sys.executable, "-m", "streamgauge", "keys", "create", "--data-dir", str(data_dir),
            "--project", "shop", "--scope", scope, "-o", "json"]  # fmt: skip
    if organization:
        args += ["--organization", organization]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return str(json.loads(out)["secret"])


class Shop:
    def __init__(self, tmp_path: Path) -> None:
        data = tmp_path / "data"
        data.mkdir()
        self.keys = {
            "write": make_key(data, "write"),
            "read": make_key(data, "read"),
            "org_a": make_key(data, "read", "org_a"),
        }
        config = tmp_path / "streamgauge.yaml"
        config.write_text(CONFIG)
        self.server = ServerProcess(data, config=config)

    def send(self, events: list[dict[str, Any]]) -> httpx.Response:
        return httpx.post(f"{self.server.ingest_url}/events/batch", json=events,
                          headers=self.auth("write"), timeout=10)  # fmt: skip

    def auth(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[key]}"}

    def post(self, path: str, body: dict[str, Any], key: str = "read") -> httpx.Response:
        return httpx.post(f"{self.server.query_url}{path}", json=body, headers=self.auth(key),
                          timeout=30)  # fmt: skip

    def invoice(self, org: str) -> dict[str, Any]:
        response = self.post("/billing/invoice", {"organizationId": org, **OCTOBER})
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    shop = Shop(tmp_path)
    shop.server.start()
    try:
        yield shop
    finally:
        if shop.server.process is not None and shop.server.process.poll() is None:
            shop.server.stop()


def test_seed_usage_example_and_invoice(shop: Shop) -> None:
    events = [usage("a1", "org_a", 1500), usage("a2", "org_a", 0.1), usage("b1", "org_b", 777)]
    assert shop.send(events).json()["accepted"] == 3
    seed = shop.post("/billing/usage", {"organizationId": "org_a", **SEED_USAGE}).json()
    assert seed["data"] == [{"organization_id": "org_a", "usage_sku": "ai-text",
                             "usage_unit": "tokens", "quantity": 1500.1, "events": 2}]  # fmt: skip
    invoice = shop.invoice("org_a")
    line = invoice["lines"][0]
    assert (line["quantity"], line["amount"], invoice["total"]) == ("1500.1", "0.01", "0.01")
    assert [(t["quantity"], t["amount"]) for t in line["tiers"]] == [
        ("1000", "0"), ("500.1", "0.010002")
    ]  # fmt: skip
    assert invoice["as_of"] == "2025-10-03T12:00:00Z"
    url = f"{shop.server.query_url}/billing/invoice?format=csv"
    body = {"organizationId": "org_b", **OCTOBER}
    csv = httpx.post(url, json=body, headers=shop.auth("read"))
    period = "org_b,2025-10-01T00:00:00Z,2025-11-01T00:00:00Z"
    assert csv.text.splitlines()[1:] == [
        f"{period},line,usage,ai-text,tokens,,777,,0.00,USD,2025-10-03T12:00:00Z",
        f"{period},tier,usage,ai-text,tokens,0,777,0,0,USD,2025-10-03T12:00:00Z",
        f"{period},total,,,,,,,0.00,USD,2025-10-03T12:00:00Z",
    ]
    meters = httpx.get(f"{shop.server.query_url}/meters", headers=shop.auth("org_a")).json()
    assert [m["name"] for m in meters] == ["usage"]
    paths = httpx.get(f"{shop.server.query_url}/openapi.json").json()["paths"]
    assert "requestBody" in paths["/billing/invoice"]["post"]
    assert "/meters/{name}/query" in paths


ATTEMPTS: list[tuple[str, dict[str, Any]]] = [
    ("/query", {**SEED_USAGE, "dimensions": ["organization_id"],
                "metrics": ["sum(usage_quantity)"]}),
    ("/query", {**SEED_USAGE, "filters": [{"field": "organization_id", "op": "eq",
                                           "value": "org_b"}], "metrics": ["sum(usage_quantity)"]}),
    ("/templates/usage", {"organizationId": "org_b", **SEED_USAGE}),
    ("/templates/usage", {**SEED_USAGE}),
    ("/billing/usage", {"organizationId": "org_b", **SEED_USAGE}),
    ("/meters/usage/query", {"organizationId": "org_b", **SEED_USAGE}),
    ("/meters/usage/query", {**SEED_USAGE, "groupBy": ["organization_id"], "window": "day"}),
    ("/meters/usage/query", {**SEED_USAGE, "filters": [{"field": "organization_id", "op": "eq",
                                                        "value": "org_b"}]}),
    ("/billing/invoice", {"organizationId": "org_b", **OCTOBER}),
    ("/billing/invoices", OCTOBER),
    ("/billing/invoices", {"organizationId": "org_b", **OCTOBER}),
    ("/sql", {"sql": "SELECT organization_id, sum(usage_quantity) FROM events GROUP BY 1"}),
    ("/sql", {"sql": "SELECT * FROM events WHERE organization_id = 'org_b'"}),
]  # fmt: skip


def test_a_scoped_key_never_sees_another_organizations_usage(shop: Shop) -> None:
    shop.send([usage("a1", "org_a", 1500), usage("b1", "org_b", 987654)])
    for path, body in ATTEMPTS:
        for fmt in ("json", "csv"):
            response = httpx.post(f"{shop.server.query_url}{path}?format={fmt}", json=body,
                                  headers=shop.auth("org_a"), timeout=30)  # fmt: skip
            assert response.status_code in (200, 403), (path, body, response.text)
            assert "987654" not in response.text and "org_b" not in response.text.replace(
                "organization 'org_a'", ""
            ), (path, body, response.text)
    assert "987654" in shop.post("/billing/invoices", OCTOBER).text  # the unscoped key does


def test_retries_crashes_and_replays_never_change_an_invoice(shop: Shop) -> None:
    first = [usage(f"r{i}", "org_a", 100 + i, day=1 + i % 28) for i in range(200)]
    expected_quantity = str(sum(100 + i for i in range(200)))
    assert shop.send(first).json()["accepted"] == 200
    assert shop.send(first).json()["duplicates"] == 200  # the same ids again
    before = shop.invoice("org_a")
    assert before["lines"][0]["quantity"] == expected_quantity

    # A client retrying the same batch until acknowledged, through a kill -9.
    batch = [usage(f"k{i}", "org_a", 1, day=20) for i in range(500)]
    done = threading.Event()

    def client() -> None:
        with httpx.Client(timeout=5) as http:
            while True:
                try:
                    r = http.post(f"{shop.server.ingest_url}/events/batch", json=batch,
                                  headers=shop.auth("write"))  # fmt: skip
                except httpx.HTTPError:
                    continue
                if r.status_code == 200:
                    done.set()
                    return

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    shop.server.kill()
    shop.server.restart()
    thread.join(30)
    assert done.is_set()
    assert shop.send(batch).json()["duplicates"] == 500
    after = shop.invoice("org_a")
    assert after["lines"][0]["quantity"] == str(int(expected_quantity) + 500)

    # The log replayed into the hot store on restart (kill -9 again, no new events).
    shop.server.kill()
    shop.server.restart()
    again = shop.invoice("org_a")
    assert (again["lines"], again["total"]) == (after["lines"], after["total"])


def test_cli_report_over_http_and_since_last(shop: Shop, tmp_path: Path) -> None:
    shop.send([usage("a1", "org_a", 2000), usage("b1", "org_b", 500)])
    args = ["billing", "report", "--period", "2025-10", "--url", shop.server.query_url,
            "--key", shop.keys["read"], "--state-dir", str(tmp_path / "reports")]  # fmt: skip
    result = CliRunner().invoke(cli, [*args, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "organization,sku,unit,quantity,billable,unit_price,amount,currency",
        "org_a,ai-text,tokens,2000,2000,,0.02,USD",
        "org_a,total,,,,,0.02,USD",
        "org_b,ai-text,tokens,500,500,,0.00,USD",
        "org_b,total,,,,,0.00,USD",
    ]
    # A late event and a correction arrive after the period ended.
    shop.send([usage("late", "org_b", 1500, day=30), usage("fix", "org_a", -500, day=31)])
    changed = CliRunner().invoke(cli, [*args, "--format", "json", "--since-last"])
    assert changed.exit_code == 0, changed.output
    found = json.loads(changed.output)["changes"]
    assert [(c["organization"], c["sku"], c["quantity_before"], c["quantity_now"],
             c["amount_before"], c["amount_now"]) for c in found] == [
        ("org_a", "ai-text", "2000", "1500", "0.02", "0.01"),
        ("org_a", "total", "", "", "0.02", "0.01"),
        ("org_b", "ai-text", "500", "2000", "0.00", "0.02"),
        ("org_b", "total", "", "", "0.00", "0.02"),
    ]  # fmt: skip
    unchanged = CliRunner().invoke(cli, [*args, "--format", "json", "--since-last"])
    assert json.loads(unchanged.output)["changes"] == []


def test_cli_reads_the_data_dir_when_no_server_runs(shop: Shop) -> None:
    shop.send([usage("a1", "org_a", 3000)])
    wait_for(lambda: shop.invoice("org_a")["lines"], timeout=10)
    shop.server.stop()
    result = CliRunner().invoke(cli, [
        "billing", "report", "--period", "2025-10", "--url", "http://127.0.0.1:9",
        "--data-dir", str(shop.server.data_dir), "--project", "shop", "--format", "json",
        "--config", str(shop.server.config),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.splitlines()[-1])
    assert [(i["organization_id"], i["total"]) for i in report["invoices"]] == [("org_a", "0.04")]

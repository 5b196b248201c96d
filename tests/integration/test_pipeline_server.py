"""The pipeline in a real server: PII never lands, custom columns filter and group everywhere."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import httpx
import msgspec
import pyarrow.parquet as pq

from tests.support.server import ServerProcess, wait_for
from tests.support.store import stored_events

EMAILS = ["alice.pii@example.com", "bob.pii@example.org", "carol.pii@example.net"]
IPS = ["203.0.113.77", "198.51.100.23", "2001:db8:85a3::8a2e:370:7334"]
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")  # fmt: skip
CONFIG = """
archive:
  commit_interval_s: 0.2
pipeline:
  schemas:
    - event: signup
      properties:
        plan: {type: string, required: true, enum: [free, pro]}
  enrichment:
    user_agent: {enabled: true}
  transforms:
    - {type: hash, fields: [user_id], key_env: SG_PIPELINE_TEST_KEY}
    - {type: redact, patterns: [email, ip]}
  columns:
    - {name: plan, from: properties.plan, type: text}
    - {name: seats, from: properties.seats, type: integer}
"""


def events() -> list[dict[str, Any]]:
    found = []
    for n in range(30):
        email, ip = EMAILS[n % 3], IPS[n % 3]
        found.append({
            "event": "signup", "id": f"e{n}", "userId": email,
            "properties": {"plan": "pro" if n % 3 == 0 else "free", "seats": n,
                           "note": f"reach me at {email} from {ip}", "marker": "visible-marker"},
            "context": {"ip": ip, "userAgent": CHROME},
        })  # fmt: skip
    return found


def test_pii_never_lands_and_custom_columns_work(tmp_path: Path) -> None:
    path = tmp_path / "sg.yaml"
    path.write_text(CONFIG)
    data = tmp_path / "data"
    env = {"SG_PIPELINE_TEST_KEY": "pepper"}
    batch = [
        *events(),
        {"event": "signup", "id": "bad-plan", "userId": EMAILS[0],
         "properties": {"plan": "gold", "contact": EMAILS[1]}, "context": {"ip": IPS[0]}},
        {"id": "no-name", "userId": EMAILS[2], "context": {"ip": IPS[2]}},
    ]  # fmt: skip
    with ServerProcess(data, config=path, env=env) as server:
        answer = httpx.post(f"{server.ingest_url}/events/batch", json=batch).json()
        assert (answer["accepted"], answer["rejected"]) == (30, 2)
        assert [(e["index"], e["field"]) for e in answer["errors"]] == [
            (30, "properties.plan"), (31, "event"),
        ]  # fmt: skip
        query = {"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z",
                 "groupBy": "none", "dimensions": ["plan", "browser"],
                 "filters": [{"field": "seats", "op": "gte", "value": 3}],
                 "metrics": ["count", "max(seats)"]}  # fmt: skip

        def grouped() -> list[dict[str, Any]] | None:
            rows = httpx.post(f"{server.query_url}/query", json=query).json().get("data")
            return rows if rows and sum(r["count"] for r in rows) == 27 else None

        rows = wait_for(grouped, timeout=5, what="the grouped custom columns")
        by_plan = {r["plan"]: (r["browser"], r["count"], r["max(seats)"]) for r in rows}
        pro = [n for n in range(3, 30) if n % 3 == 0]
        free = [n for n in range(3, 30) if n % 3]
        assert by_plan == {"pro": ("Chrome", len(pro), max(pro)),
                           "free": ("Chrome", len(free), max(free))}  # fmt: skip
        sql = {"sql": "SELECT plan, count(*) AS n, max(seats) AS top, bool_or(is_bot) AS bots "
                      "FROM events GROUP BY plan ORDER BY plan"}  # fmt: skip
        assert httpx.post(f"{server.query_url}/sql", json=sql).json()["data"] == [
            {"plan": "free", "n": 20, "top": 29, "bots": False},
            {"plan": "pro", "n": 10, "top": 27, "bots": False},
        ]
        flushed = httpx.post(f"{server.query_url}/archive/flush")
        assert flushed.status_code == 200, flushed.text
    stored = stored_events(data, "event_id, user_id, plan, seats, device_type, properties")
    assert len(stored) == 30 and {r["device_type"] for r in stored} == {"desktop"}
    assert stored[0]["plan"] == "pro" and stored[0]["seats"] == 0
    assert len(stored[0]["user_id"]) == 64

    texts = readable_contents(data)
    assert any("visible-marker" in t for t in texts.values())  # the readers do see content
    for secret in [*EMAILS, *IPS]:
        assert not [name for name, text in texts.items() if secret in text], secret
        leaked = [p for p in data.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
        assert leaked == [], (secret, leaked)


def readable_contents(data: Path) -> dict[str, str]:
    """Every store's content as text, decoded by its own reader (bytes may be compressed)."""
    texts: dict[str, str] = {}
    log = sqlite3.connect(data / "log" / "log.db")
    tables = [r[0] for r in log.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        for row in log.execute(f'SELECT * FROM "{table}"'):
            texts[f"log/{table}"] = texts.get(f"log/{table}", "") + "".join(
                _text(value) for value in row
            )
    log.close()
    hot = duckdb.connect(str(data / "hot" / "hot.duckdb"), read_only=True)
    texts["hot"] = str(hot.execute("SELECT * FROM hot_events").fetchall())
    hot.close()
    for parquet in (data / "archive").rglob("*.parquet"):
        table = pq.read_table(parquet)
        assert {"plan", "seats", "browser", "is_bot"} <= set(table.column_names)  # evolved
        texts[str(parquet)] = str(table.to_pylist())
    assert any(name.endswith(".parquet") for name in texts), "the archive holds files"
    return texts


def _text(value: object) -> str:
    if isinstance(value, bytes):
        try:
            return str(msgspec.msgpack.decode(value))
        except msgspec.DecodeError:
            return value.decode(errors="replace")
    return str(value)

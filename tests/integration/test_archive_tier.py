"""The archive tier in the running server: every event archived exactly once, hot
retention that moves rows only once archived, and one planner over both tiers."""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from streamgauge.archive import Archive, ArchiveSettings, attach_archive
from tests.support.server import ServerProcess, wait_for
from tests.support.store import stored_events


def archived(data_dir: Path, columns: str = "event_id") -> list[dict[str, Any]]:
    """The archive's rows as an independent reader (DuckDB's iceberg_scan) sees them."""
    con = duckdb.connect()
    relation = attach_archive(con, Archive(ArchiveSettings(), data_dir))
    cursor = con.execute(f"SELECT {columns} FROM {relation} ORDER BY event_id")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "streamgauge.yaml"
    path.write_text(text)
    return path


def test_every_event_reaches_the_archive_by_shutdown(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data") as server:
        batch = [{"event": "a", "id": f"a{i}", "userId": f"u{i % 3}"} for i in range(300)]
        assert httpx.post(f"{server.ingest_url}/events/batch", json=batch).json()["accepted"] == 300
    rows = archived(tmp_path / "data", "event_id, user_id")
    assert [r["event_id"] for r in rows] == sorted(f"a{i}" for i in range(300))
    assert Counter(r["user_id"] for r in rows) == {"u0": 100, "u1": 100, "u2": 100}


def iso(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_hot_retention_moves_only_archived_rows_and_answers_do_not_change(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    rng = random.Random(4)
    events = []
    for n in range(400):
        age = timedelta(hours=rng.choice([70, 50, 30, 0.2]), minutes=rng.randrange(30))
        events.append({
            "event": "api.request", "id": f"r{n}", "timestamp": iso(now - age),
            "userId": f"u{rng.randrange(40)}",
            "performance": {"duration": rng.randrange(1, 5000) / 8, "statusCode": 200},
        })  # fmt: skip
    start, end = now - timedelta(days=4), now + timedelta(minutes=1)
    durations = sorted(e["performance"]["duration"] for e in events)  # type: ignore[index]
    expected = {
        "count": 400,
        "uniq(user_id)": len({e["userId"] for e in events}),
        "p50(duration_ms)": statistics.quantiles(durations, n=2, method="inclusive")[0],
        "max(duration_ms)": max(durations),
    }
    body = {"start": iso(start), "end": iso(end), "groupBy": "none", "metrics": list(expected)}
    yaml = (
        "hot:\n  retention_s: 3600\n"
        "archive:\n  commit_interval_s: 0.2\n  maintenance_interval_s: 0.3\n"
    )
    with ServerProcess(tmp_path / "data", config=config(tmp_path, yaml)) as server:
        assert (
            httpx.post(f"{server.ingest_url}/events/batch", json=events).json()["accepted"] == 400
        )

        # Every answer is exact at every moment: before, while and after rows move.
        def moved() -> bool:
            answer = httpx.post(f"{server.query_url}/query", json=body).json()
            row = answer["data"][0]
            assert {k: row[k] for k in expected} == pytest.approx(expected, rel=1e-9)
            return answer["meta"]["tiers"] == ["archive", "hot"] and old_rows_left_hot()

        old_ids = {e["id"] for e in events if e["timestamp"] < iso(now - timedelta(hours=1))}

        def old_rows_left_hot() -> bool:
            metrics = httpx.get(f"{server.query_url}/metrics").text
            return f"streamgauge_events_moved_to_archive_total {float(len(old_ids))}" in metrics

        wait_for(moved, timeout=30, what="rows to move to the archive")
        recent = {**body, "start": iso(now - timedelta(minutes=59))}
        assert httpx.post(f"{server.query_url}/query", json=recent).json()["meta"]["tiers"] == [
            "hot"
        ]
        old = {**body, "end": iso(now - timedelta(hours=2))}
        old_answer = httpx.post(f"{server.query_url}/query", json=old).json()
        assert old_answer["meta"]["tiers"] == ["archive", "hot"]  # hot: what is not archived yet
        assert old_answer["data"][0]["count"] == sum(
            1 for e in events if e["timestamp"] < iso(now - timedelta(hours=2))
        )
        sql = {"sql": "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM events"
                      f" WHERE timestamp >= TIMESTAMPTZ '{iso(start)}'"}  # fmt: skip
        assert httpx.post(f"{server.query_url}/sql", json=sql).json()["data"] == [
            {"n": 400, "ids": 400}
        ]
    hot_ids = {r["event_id"] for r in stored_events(tmp_path / "data", "event_id")}
    recent_ids = {e["id"] for e in events if e["timestamp"] >= iso(now - timedelta(hours=1))}
    assert hot_ids == recent_ids  # the old rows left the hot store ...
    assert len(archived(tmp_path / "data")) == 400  # ... and every event is in the archive


@pytest.mark.slow
def test_kill_9_while_archiving_neither_loses_nor_duplicates(tmp_path: Path) -> None:
    yaml = "archive:\n  commit_interval_s: 0.1\n  commit_max_events: 500\n"
    server = ServerProcess(tmp_path / "data", config=config(tmp_path, yaml)).start()
    acknowledged: set[str] = set()
    stop = threading.Event()

    def client() -> None:
        n = 0
        while not stop.is_set():
            ids = [f"k{n}-{i}" for i in range(100)]
            body = [{"event": "k", "id": i} for i in ids]
            while not stop.is_set():
                try:
                    r = httpx.post(f"{server.ingest_url}/events/batch", json=body, timeout=5)
                except httpx.HTTPError:
                    continue
                if r.status_code == 200:
                    acknowledged.update(ids)
                    break
            n += 1

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    try:
        for _ in range(3):
            before = len(acknowledged)
            wait_for(lambda b=before: len(acknowledged) >= b + 1500, timeout=60, what="progress")
            server.kill()
            server.restart()
    finally:
        stop.set()
        thread.join(30)
    assert server.stop() == 0
    counts = Counter(r["event_id"] for r in archived(tmp_path / "data"))
    assert [i for i, c in counts.items() if c > 1] == []
    assert acknowledged - counts.keys() == set()


def test_archive_cli_status_flush_and_export(tmp_path: Path) -> None:
    def sg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "streamgauge", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    with ServerProcess(tmp_path / "data") as server:
        batch = [
            {"event": "x", "id": f"x{i}", "timestamp": "2025-10-03T12:00:00Z"} for i in range(50)
        ]
        httpx.post(f"{server.ingest_url}/events/batch", json=batch)
        flushed = sg("archive", "flush", "--url", server.query_url, "-o", "json")
        assert flushed.returncode == 0, flushed.stderr
        assert json.loads(flushed.stdout)["committed_offset"] == 50
        status = sg("archive", "status", "--data-dir", str(tmp_path / "data"), "-o", "json")
        assert status.returncode == 0, status.stderr
        assert sum(p["events"] for p in json.loads(status.stdout)["partitions"]) == 50
        out = tmp_path / "out.ndjson"
        window = ["--since", "2025-10-03T00:00Z", "--until", "2025-10-04T00:00Z"]
        done = sg("export", "--data-dir", str(tmp_path / "data"), *window,
                  "--format", "ndjson", "--output", str(out))  # fmt: skip
        assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["event_id"] for line in lines) == sorted(f"x{i}" for i in range(50))

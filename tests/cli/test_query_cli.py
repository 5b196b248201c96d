"""``streamgauge query`` and ``streamgauge sql`` against a real server, and on its data
directory once it has stopped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.server import ServerProcess

EVENTS = [
    {"event": "api.request", "id": f"q{i}", "timestamp": f"2025-10-03T1{i % 3}:00:00Z",
     "properties": {"method": "GET", "route": "/a" if i % 2 else "/b"},
     "performance": {"duration": float(i), "statusCode": 200}}
    for i in range(12)
]  # fmt: skip
RANGE = ["--since", "2025-10-03T00:00:00Z", "--until", "2025-10-04T00:00:00Z"]


def sg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamgauge", *args], capture_output=True, text=True, timeout=120
    )


def test_query_template_and_sql_from_the_shell(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data") as server:
        httpx.post(f"{server.ingest_url}/events/batch", json=EVENTS).raise_for_status()
        url = ["--url", server.query_url]
        done = sg("query", '{"groupBy": "none", "dimensions": ["path"], "metrics": ["count"]}',
                  *RANGE, *url, "-o", "json")  # fmt: skip
        assert done.returncode == 0, done.stderr
        counts = {row["path"]: row["count"] for row in json.loads(done.stdout)["data"]}
        assert counts == {"/a": 6, "/b": 6}
        done = sg("query", "--template", "performance", *RANGE, "-p", "groupBy=hour", *url,
                  "-o", "csv")  # fmt: skip
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0].startswith("time,requests") and len(lines) == 4
        assert [line.split(",")[1] for line in lines[1:]] == ["4", "4", "4"]
        done = sg("query", '{"groupBy": "hour"}', *RANGE, *url, "--chart")
        assert done.returncode == 0, done.stderr
        assert "count" in done.stdout and "│" in done.stdout  # the table and the plot
        done = sg(
            "sql", "SELECT count(*) AS n, max(duration_ms) AS m FROM events", *url, "-o", "json"
        )
        assert json.loads(done.stdout)["data"] == [{"n": 12, "m": 11.0}]
        done = sg("sql", "DROP TABLE events", *url)
        assert done.returncode == 1 and "answered 400" in done.stderr
    # No server: the same answers from the data directory.
    local = ["--url", "http://127.0.0.1:9", "--data-dir", str(tmp_path / "data")]
    done = sg("sql", "SELECT count(*) AS n FROM events", *local, "-o", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data"] == [{"n": 12}]
    done = sg("query", '{"groupBy": "none"}', *RANGE, *local, "-o", "json")
    assert json.loads(done.stdout)["data"] == [{"count": 12}]


def test_query_needs_a_query_or_a_template() -> None:
    done = sg("query", "--url", "http://127.0.0.1:9")
    assert done.returncode == 1 and "give a JSON query or --template NAME" in done.stderr

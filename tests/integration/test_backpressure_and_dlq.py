"""Guarantee 5 (overload: 429/503 with Retry-After, never silent loss) and dead letters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.server import ServerProcess, wait_for
from tests.support.store import stored_events


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_low_disk_answers_503_with_retry_after(tmp_path: Path) -> None:
    config = write_config(tmp_path / "sg.yaml", "backpressure:\n  min_free_disk_mib: 1000000000\n")
    with ServerProcess(tmp_path / "data", config=config) as server:
        r = httpx.post(f"{server.ingest_url}/events", json={"event": "a"})
        assert r.status_code == 503
        assert r.headers["retry-after"] == "5"
        assert "MiB free" in r.json()["error"]["message"]
    assert stored_events(tmp_path / "data", "event_id") == []


def test_a_stuck_sink_means_503_then_nothing_is_lost_after_it_recovers(tmp_path: Path) -> None:
    # A 1 MB memory limit makes every hot-store write fail: the sink is stuck.
    stuck = write_config(
        tmp_path / "stuck.yaml",
        'backpressure:\n  max_sink_lag_events: 100\nhot:\n  memory_limit: "1MB"\n',
    )
    batch = [{"event": "a", "id": str(i), "properties": {"pad": "p" * 200}} for i in range(1000)]
    with ServerProcess(tmp_path / "data", config=stuck) as server:
        assert httpx.post(f"{server.ingest_url}/events/batch", json=batch).status_code == 200
        r = httpx.post(f"{server.ingest_url}/events", json={"event": "b", "id": "late"})
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert "1000 events behind (limit 100)" in r.json()["error"]["message"]
        metrics = httpx.get(f"{server.ingest_url}/metrics").text
        assert 'streamgauge_requests_refused_total{reason="sink_lag"} 1.0' in metrics
    with ServerProcess(tmp_path / "data") as server:  # the sink can write again
        wait_for(
            lambda: httpx.post(
                f"{server.ingest_url}/events", json={"event": "b", "id": "late"}
            ).status_code == 200,
            timeout=30, interval=0.05, what="the sink to catch up",
        )  # fmt: skip
    assert len(stored_events(tmp_path / "data", "event_id")) == 1001


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "sg.yaml", "ingest:\n  rate_limit_per_project: 1\n  rate_limit_burst: 10\n"
    )
    with ServerProcess(tmp_path / "data", config=config) as server:
        batch = [{"event": "a"} for _ in range(10)]
        assert httpx.post(f"{server.ingest_url}/events/batch", json=batch).status_code == 200
        r = httpx.post(f"{server.ingest_url}/events/batch", json=batch)
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 9
        assert "rate limit of 1 events/s" in r.json()["error"]["message"]


def test_oversize_batches_are_413_naming_the_limit(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "sg.yaml", "ingest:\n  max_batch_events: 3\n  max_body_bytes: 2000\n"
    )
    with ServerProcess(tmp_path / "data", config=config) as server:
        r = httpx.post(f"{server.ingest_url}/events/batch", json=[{"event": "a"}] * 4)
        assert r.status_code == 413 and "the limit is 3 per request" in r.json()["error"]["message"]
        r = httpx.post(f"{server.ingest_url}/events/batch", json=[{"event": "a" * 3000}])
        assert r.status_code == 413 and "larger than 2000 bytes" in r.json()["error"]["message"]


def sg(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamgauge", *args, "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_rejected_events_are_kept_and_replayed_once_rules_allow(tmp_path: Path) -> None:
    strict = write_config(tmp_path / "strict.yaml", "ingest:\n  max_future_skew_s: 0\n")
    future = {"event": "late", "id": "fut-1", "timestamp": "2999-01-01T00:00:00Z"}
    with ServerProcess(tmp_path / "data", config=strict) as server:
        r = httpx.post(
            f"{server.ingest_url}/events/batch",
            json=[future, {"event": "ok", "id": "ok-1"}, {"nope": 5}],
        )
        assert (r.json()["accepted"], r.json()["rejected"]) == (1, 2)
    listed = json.loads(sg(tmp_path / "data", "dlq", "list", "-o", "json").stdout)
    assert sorted(row["field"] for row in listed) == ["event", "timestamp"]
    shown = json.loads(
        sg(tmp_path / "data", "dlq", "show", str(listed[-1]["id"]), "-o", "json").stdout
    )
    assert json.loads(shown["payload"]) == future

    # Rules relaxed (a 2999 timestamp is still too far: replay keeps it), then fixed payloads pass.
    relaxed = write_config(tmp_path / "relaxed.yaml", "ingest:\n  max_future_skew_s: 1e12\n")
    with ServerProcess(tmp_path / "data", config=relaxed) as server:
        done = sg(tmp_path / "data", "dlq", "replay", "--config", str(relaxed), "-o", "json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"replayed": 1, "duplicates": 0, "still_invalid": 1}
        again = json.loads(sg(tmp_path / "data", "dlq", "replay", "-o", "json").stdout)
        assert again == {"replayed": 0, "duplicates": 0, "still_invalid": 1}
        server.stop()
    assert [r["event_id"] for r in stored_events(tmp_path / "data", "event_id")] == [
        "fut-1",
        "ok-1",
    ]

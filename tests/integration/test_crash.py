"""Guarantees 1 and 2 under real crashes: kill -9 at random moments, restart, count.

Concurrent clients send batches of unique ids and retry each batch (same ids)
until it is acknowledged, across crashes. After several SIGKILLs every
acknowledged id must be stored exactly once, and nothing never sent may appear.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess, wait_for
from tests.support.store import stored_events

CLIENTS = 4
KILLS = 4


@pytest.mark.slow
def test_kill_9_never_loses_or_duplicates_an_acknowledged_event(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    acknowledged: set[str] = set()
    sent: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()
    rng = random.Random(20251003)

    def client(n: int) -> None:
        batch_no = 0
        with httpx.Client(timeout=5.0) as http:
            while not stop.is_set():
                ids = [f"c{n}-b{batch_no}-e{i}" for i in range(rng.randint(1, 200))]
                with lock:
                    sent.update(ids)
                body = [{"event": "crash.test", "id": i} for i in ids]
                while not stop.is_set():  # retry the same ids until acknowledged
                    try:
                        r = http.post(f"{server.ingest_url}/events/batch", json=body)
                    except httpx.HTTPError:
                        time.sleep(0.02)
                        continue
                    if r.status_code == 200:
                        assert r.json()["accepted"] + r.json()["duplicates"] == len(ids)
                        with lock:
                            acknowledged.update(ids)
                        break
                    assert r.status_code == 503, r.text
                batch_no += 1

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        for _ in range(KILLS):
            before = len(acknowledged)
            wait_for(lambda b=before: len(acknowledged) > b + 500, timeout=30, what="progress")
            time.sleep(rng.uniform(0.0, 0.4))  # a random moment in the stream
            server.kill()
            server.restart()
        wait_for(lambda: len(acknowledged) > 0, timeout=5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert server.stop() == 0
    stored = Counter(row["event_id"] for row in stored_events(server.data_dir, "event_id"))
    duplicated = [i for i, n in stored.items() if n > 1]
    lost = acknowledged - stored.keys()
    invented = stored.keys() - sent
    assert not duplicated, f"{len(duplicated)} ids stored twice, e.g. {duplicated[:5]}"
    assert not lost, f"{len(lost)} acknowledged ids lost, e.g. {sorted(lost)[:5]}"
    assert not invented
    assert len(acknowledged) > KILLS * 500

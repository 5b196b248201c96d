"""Helpers for integration tests: the repo's real-server harness, and SQL on the server.

The harness (``tests/support/server.py``) is loaded by path: this folder is its own test
tree, and the repo's ``tests`` package name is taken. These tests need the ``streamgauge``
package importable (the repo's venv); they are marked ``integration``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import httpx

_HARNESS = Path(__file__).resolve().parents[4] / "tests" / "support" / "server.py"
_spec = importlib.util.spec_from_file_location("streamgauge_test_server", _HARNESS)
assert _spec is not None and _spec.loader is not None
harness = importlib.util.module_from_spec(_spec)
sys.modules["streamgauge_test_server"] = harness
_spec.loader.exec_module(harness)

ServerProcess = harness.ServerProcess
wait_for = harness.wait_for


def sql(server: Any, statement: str) -> list[dict[str, Any]]:
    response = httpx.post(f"{server.query_url}/sql", json={"sql": statement}, timeout=10)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


def stored(server: Any, event: str) -> tuple[int, int]:
    """(events stored, distinct event ids) for one event name."""
    (row,) = sql(
        server,
        "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM events "
        f"WHERE event = '{event}'",  # a constant of the test, never user input
    )
    return int(row["n"]), int(row["ids"])

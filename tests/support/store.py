"""Reading what a stopped server stored, straight from its files (independent of its API)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def stored_events(data_dir: Path, columns: str = "*") -> list[dict[str, Any]]:
    """Every row of the hot store, ordered by event id; the server must be stopped."""
    con = duckdb.connect(str(data_dir / "hot" / "hot.duckdb"), read_only=True)
    try:
        cursor = con.execute(f"SELECT {columns} FROM events ORDER BY event_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()

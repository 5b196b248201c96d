"""The dead-letter store: every rejected event, its raw payload and the reason.

Dead letters are written by the log in the same transaction as the accepted
events of their request. ``replay`` re-validates them (the rules or the
payload may have changed) and appends what now passes; the rest stay.
"""

from __future__ import annotations

import builtins
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from streamgauge.config import IngestSettings
from streamgauge.errors import NotFound
from streamgauge.log.base import Log
from streamgauge.sources import NORMALIZERS
from streamgauge.sources.native import InvalidEvent, NormalizeOptions


@dataclass(frozen=True, slots=True)
class DeadLetterEntry:
    id: int
    project_id: str
    received_at: int
    source: str
    field: str
    reason: str
    payload: bytes
    replayed_at: int | None


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    replayed: int
    still_invalid: int
    duplicates: int


class DeadLetterStore:
    """Reads and replays the ``dead_letters`` table of the log database."""

    def __init__(self, log_path: Path) -> None:
        if not log_path.exists():
            raise NotFound(f"no event log at {log_path}: is --data-dir right?")
        self._conn = sqlite3.connect(log_path, isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout=30000")

    def list(
        self, *, project_id: str | None = None, limit: int = 50, include_replayed: bool = False
    ) -> list[DeadLetterEntry]:
        query = (
            "SELECT id, project_id, received_at, source, field, reason, payload, replayed_at"
            " FROM dead_letters WHERE (? IS NULL OR project_id = ?)"
        )
        if not include_replayed:
            query += " AND replayed_at IS NULL"
        rows = self._conn.execute(
            query + " ORDER BY id DESC LIMIT ?", (project_id, project_id, limit)
        )
        return [DeadLetterEntry(*row) for row in rows]

    def get(self, entry_id: int) -> DeadLetterEntry:
        row = self._conn.execute(
            "SELECT id, project_id, received_at, source, field, reason, payload, replayed_at"
            " FROM dead_letters WHERE id = ?",
            (entry_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no dead letter with id {entry_id} (see `streamgauge dlq list`)")
        return DeadLetterEntry(*row)

    def count(self) -> int:
        return int(self._conn.execute(
            "SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL"
        ).fetchone()[0])  # fmt: skip

    def replay(
        self, log: Log, entries: builtins.list[DeadLetterEntry], limits: IngestSettings
    ) -> ReplayOutcome:
        """Append the entries that now validate; mark them replayed."""
        now_us = time.time_ns() // 1000
        events, done, invalid = [], [], 0
        for entry in entries:
            normalizer = NORMALIZERS.get(entry.source, NORMALIZERS["native"])
            options = NormalizeOptions(
                project_id=entry.project_id,
                received_at=now_us,
                max_future_us=int(limits.max_future_skew_s * 1_000_000),
                max_name_length=limits.max_name_length,
                max_event_bytes=limits.max_event_bytes,
                source=entry.source,
            )
            try:
                events.append(normalizer(entry.payload, options))
            except InvalidEvent:
                invalid += 1
            else:
                done.append(entry.id)
        duplicates = 0
        if events:
            duplicates = len(log.append(events).result().duplicate_indexes)
            self._conn.executemany(
                "UPDATE dead_letters SET replayed_at = ? WHERE id = ?", [(now_us, i) for i in done]
            )
        return ReplayOutcome(len(events) - duplicates, invalid, duplicates)

    def close(self) -> None:
        self._conn.close()

"""The key table in PostgreSQL: one set of keys for every node of a distributed deployment.

Distributed mode already has one database every node reaches, the Iceberg
catalog (``archive.catalog``); the keys live beside the catalog's tables in
``streamgauge_keys``, so a key created (or revoked) from any machine works (or
stops working) on every ingest and query node within ``_REFRESH_EVERY_S``.
Nodes notice changes by a cheap version query (row count, newest creation,
sum of revocation times) instead of re-reading the table.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy
from sqlalchemy import text

from streamgauge.keys import Rows

TABLE = "streamgauge_keys"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
  key_id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  organization_id TEXT,
  secret_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  name TEXT
)
"""
_VERSION = (
    f"SELECT count(*), coalesce(max(created_at), 0), coalesce(sum(revoked_at), 0) FROM {TABLE}"
)
_CREATE_ATTEMPTS = 5


class PostgresKeyDatabase:
    """``streamgauge_keys`` in the database of a SQLAlchemy URL (``postgresql+psycopg://…``)."""

    table = TABLE

    def __init__(self, url: str) -> None:
        self._engine = sqlalchemy.create_engine(url, pool_pre_ping=True, pool_size=2)
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                with self._engine.begin() as connection:
                    connection.execute(text(SCHEMA))
                break
            except sqlalchemy.exc.IntegrityError:
                # Nodes starting together race to create the table; the loser finds it.
                if attempt == _CREATE_ATTEMPTS - 1:
                    raise

    def execute(self, sql: str, params: dict[str, Any]) -> tuple[Rows, int]:
        with self._engine.begin() as connection:
            result = connection.execute(text(sql), params)
            rows = [tuple(row) for row in result] if result.returns_rows else []
            return rows, result.rowcount

    def version(self) -> object:
        rows, _ = self.execute(_VERSION, {})
        return rows[0]

    def close(self) -> None:
        self._engine.dispose()

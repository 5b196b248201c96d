"""Projects' API keys: created, listed, revoked; secrets stored only as hashes.

A key looks like ``sg_<scope letter>_<key id>_<secret>``; the database holds the
key id, its project, scope, optional organization and the SHA-256 of the whole
key (keys are 192-bit random tokens, so a fast hash is the right one). The
server re-reads the table when the database's version says another process
(the CLI, another node) changed it, so a revoked key stops working within a second.

Where keys live (``open_key_store``): ``<data-dir>/keys.db`` (SQLite) for one
process; when the archive catalog is PostgreSQL (distributed mode), the table
``streamgauge_keys`` in that database, so every ingest and query node accepts
the same keys (``streamgauge_keys`` in ``keys_postgres.py``).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from streamgauge.errors import BadRequest, NotFound
from streamgauge.scope import KeyScope, Principal

if TYPE_CHECKING:
    from streamgauge.config import Settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
  key_id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  organization_id TEXT,
  secret_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  name TEXT
);
"""

_REFRESH_EVERY_S = 0.5

Rows = list[tuple[Any, ...]]


class KeyDatabase(Protocol):
    """Where the key table lives: SQL with ``:name`` parameters, on table ``table``."""

    table: str

    def execute(self, sql: str, params: dict[str, Any]) -> tuple[Rows, int]:
        """Run one statement in its own transaction: its rows and its row count."""

    def version(self) -> object:
        """A value that changes whenever another connection changes the table."""

    def close(self) -> None: ...


class SqliteKeyDatabase:
    """``keys.db`` under the data directory (one machine)."""

    table = "keys"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.executescript(SCHEMA)

    def execute(self, sql: str, params: dict[str, Any]) -> tuple[Rows, int]:
        cursor = self._conn.execute(sql, params)
        return cursor.fetchall(), cursor.rowcount

    def version(self) -> object:
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        self._conn.close()


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key_id: str
    project_id: str
    scope: KeyScope
    organization_id: str | None
    created_at: int
    revoked_at: int | None
    name: str | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _valid_name(value: str, what: str) -> str:
    if not value or len(value) > 128 or not value.replace("-", "").replace("_", "").isalnum():
        raise BadRequest(f"{what} must be 1-128 letters, digits, '-' or '_': {value!r}")
    return value


def open_key_store(settings: Settings, path: Path) -> KeyStore:
    """The key store every node of a deployment shares (see the module docstring)."""
    catalog = settings.archive.catalog
    if catalog.startswith("postgresql"):
        from streamgauge.keys_postgres import PostgresKeyDatabase

        return KeyStore(database=PostgresKeyDatabase(catalog))
    return KeyStore(path)


class KeyStore:
    """Keys in ``<data-dir>/keys.db``, or in another ``KeyDatabase``."""

    def __init__(self, path: Path | None = None, *, database: KeyDatabase | None = None) -> None:
        if database is None:
            if path is None:
                raise ValueError("a key store needs a path or a database")
            database = SqliteKeyDatabase(path)
        self._db = database
        self._table = database.table
        self._lock = threading.Lock()
        self._by_hash: dict[str, Principal] = {}
        self._version: object = None
        self._checked = 0.0
        self._refresh(force=True)

    def create(
        self,
        project_id: str,
        scope: KeyScope,
        *,
        organization_id: str | None = None,
        name: str | None = None,
    ) -> tuple[KeyInfo, str]:
        """A new key; the secret is returned once and never stored."""
        _valid_name(project_id, "project")
        if organization_id is not None:
            if scope is not KeyScope.READ:
                raise BadRequest("only read keys can be scoped to an organization")
            _valid_name(organization_id, "organization")
        key_id = secrets.token_hex(6)
        secret = f"sg_{scope.value[0]}_{key_id}_{secrets.token_urlsafe(24)}"
        now = int(time.time())
        row = {
            "key_id": key_id, "project_id": project_id, "scope": scope.value,
            "organization_id": organization_id, "secret_hash": _hash(secret),
            "created_at": now, "name": name,
        }  # fmt: skip
        with self._lock:
            self._db.execute(
                f"INSERT INTO {self._table} (key_id, project_id, scope, organization_id,"
                " secret_hash, created_at, name) VALUES (:key_id, :project_id, :scope,"
                " :organization_id, :secret_hash, :created_at, :name)",
                row,
            )
        self._refresh(force=True)
        return KeyInfo(key_id, project_id, scope, organization_id, now, None, name), secret

    def list(
        self, *, project_id: str | None = None, include_revoked: bool = False
    ) -> list[KeyInfo]:
        query = "SELECT key_id, project_id, scope, organization_id, created_at, revoked_at, name"
        query += f" FROM {self._table} WHERE (project_id = :project OR :any_project)"
        if not include_revoked:
            query += " AND revoked_at IS NULL"
        params = {"project": project_id or "", "any_project": project_id is None}
        with self._lock:
            rows, _ = self._db.execute(query + " ORDER BY created_at, key_id", params)
        return [KeyInfo(r[0], r[1], KeyScope(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def revoke(self, key_id: str) -> None:
        with self._lock:
            _, changed = self._db.execute(
                f"UPDATE {self._table} SET revoked_at = :now"
                " WHERE key_id = :key_id AND revoked_at IS NULL",
                {"now": int(time.time()), "key_id": key_id},
            )
        if not changed:
            raise NotFound(f"no active key with id {key_id!r} (see `streamgauge keys list`)")
        self._refresh(force=True)

    def has_keys(self) -> bool:
        self._refresh()
        return bool(self._by_hash)

    def authenticate(self, secret: str) -> Principal | None:
        """The principal a key stands for, or None for an unknown or revoked key."""
        self._refresh()
        return self._by_hash.get(_hash(secret))

    def _refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < _REFRESH_EVERY_S:
            return
        with self._lock:
            self._checked = now
            version = self._db.version()
            if not force and version == self._version:
                return
            self._version = version
            rows, _ = self._db.execute(
                "SELECT key_id, project_id, scope, organization_id, secret_hash"
                f" FROM {self._table} WHERE revoked_at IS NULL",
                {},
            )
            self._by_hash = {
                r[4]: Principal(
                    project_id=r[1], scope=KeyScope(r[2]), organization_id=r[3], key_id=r[0]
                )
                for r in rows
            }

    def close(self) -> None:
        self._db.close()

"""Projects' API keys: created, listed, revoked; secrets stored only as hashes.

A key looks like ``sg_<scope letter>_<key id>_<secret>``; the database holds the
key id, its project, scope, optional organization and the SHA-256 of the whole
key (keys are 192-bit random tokens, so a fast hash is the right one). The
server re-reads the table when SQLite's ``data_version`` says another process
(the CLI) changed it, so a revoked key stops working within a second.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from streamgauge.errors import BadRequest, NotFound
from streamgauge.scope import KeyScope, Principal

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


class KeyStore:
    """Keys in ``<data-dir>/keys.db``."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._by_hash: dict[str, Principal] = {}
        self._version = -1
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
        with self._lock:
            self._conn.execute(
                "INSERT INTO keys (key_id, project_id, scope, organization_id, secret_hash,"
                " created_at, name) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key_id, project_id, scope.value, organization_id, _hash(secret), now, name),
            )
        self._refresh(force=True)
        return KeyInfo(key_id, project_id, scope, organization_id, now, None, name), secret

    def list(
        self, *, project_id: str | None = None, include_revoked: bool = False
    ) -> list[KeyInfo]:
        query = "SELECT key_id, project_id, scope, organization_id, created_at, revoked_at, name"
        query += " FROM keys WHERE (? IS NULL OR project_id = ?)"
        if not include_revoked:
            query += " AND revoked_at IS NULL"
        with self._lock:
            rows = self._conn.execute(
                query + " ORDER BY created_at, key_id", (project_id, project_id)
            )
            return [KeyInfo(r[0], r[1], KeyScope(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def revoke(self, key_id: str) -> None:
        with self._lock:
            changed = self._conn.execute(
                "UPDATE keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (int(time.time()), key_id),
            ).rowcount
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
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            if not force and version == self._version:
                return
            self._version = version
            rows = self._conn.execute(
                "SELECT key_id, project_id, scope, organization_id, secret_hash FROM keys"
                " WHERE revoked_at IS NULL"
            ).fetchall()
            self._by_hash = {
                r[4]: Principal(
                    project_id=r[1], scope=KeyScope(r[2]), organization_id=r[3], key_id=r[0]
                )
                for r in rows
            }

    def close(self) -> None:
        self._conn.close()

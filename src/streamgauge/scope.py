"""Who is asking, and what they may see: the mandatory filter of every query."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class KeyScope(enum.StrEnum):
    WRITE = "write"  # ingest only
    READ = "read"  # query the project (or one organization of it)
    ADMIN = "admin"  # everything in the project


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a project, a key scope and an optional organization.

    ``organization_id`` is set for organization-scoped read keys: such a caller
    sees only rows whose ``organization_id`` equals it, on every query path.
    """

    project_id: str
    scope: KeyScope
    organization_id: str | None = None
    key_id: str | None = None

    @property
    def can_ingest(self) -> bool:
        return self.scope in (KeyScope.WRITE, KeyScope.ADMIN)

    @property
    def can_query(self) -> bool:
        return self.scope in (KeyScope.READ, KeyScope.ADMIN)

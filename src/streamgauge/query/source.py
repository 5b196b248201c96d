"""Where events come from and who may see them: the scoped event relation.

Every query path starts from ``scoped_events``: the tier relation for the time
range, the mandatory ``project_id`` (and, for organization-scoped keys,
``organization_id``) filter, the half-open time range, and the caller's
event and filter predicates — all values bound, never spliced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from streamgauge.scope import Principal

from .dsl import Filter
from .filters import compile_filter, event_predicate
from .params import Params

RelationFor = Callable[[datetime, datetime], tuple[str, list[str]]]
"""Maps a time range to (SQL relation, tier names): a table name or a
parenthesised subquery holding the canonical columns for that range."""


def hot_relation(start: datetime, end: datetime) -> tuple[str, list[str]]:
    """The default tier: the hot store's ``events`` table, all of it."""
    return "events", ["hot"]


@dataclass(slots=True)
class QueryContext:
    """One request's connection, caller, tiers and clock."""

    con: duckdb.DuckDBPyConnection
    principal: Principal
    relation_for: RelationFor = hot_relation
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    tiers: list[str] = field(default_factory=list)

    def relation(self, start: datetime, end: datetime) -> str:
        """The relation for ``[start, end)``, remembering which tiers answered."""
        relation, tiers = self.relation_for(start, end)
        for tier in tiers:
            if tier not in self.tiers:
                self.tiers.append(tier)
        return relation


def scoped_events(
    ctx: QueryContext,
    params: Params,
    start: datetime,
    end: datetime,
    *,
    event: str | list[str] | None = None,
    filters: Sequence[Filter] = (),
    extra: Sequence[str] = (),
    columns: str = "*",
) -> str:
    """``SELECT columns FROM <tier> WHERE <mandatory scope> AND <range> AND ...``.

    ``extra`` holds trusted predicates built by templates (with bound values).
    """
    predicates = [f'"project_id" = {params.add(ctx.principal.project_id)}']
    if ctx.principal.organization_id is not None:
        predicates.append(f'"organization_id" = {params.add(ctx.principal.organization_id)}')
    predicates.append(f'"timestamp" >= {params.add(start)}')
    predicates.append(f'"timestamp" < {params.add(end)}')
    named = event_predicate(event, params)
    if named is not None:
        predicates.append(named)
    predicates.extend(compile_filter(f, i, params, ctx.now) for i, f in enumerate(filters))
    predicates.extend(extra)
    relation = ctx.relation(start, end)
    return f"SELECT {columns} FROM {relation} WHERE {' AND '.join(predicates)}"

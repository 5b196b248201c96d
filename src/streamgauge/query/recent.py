"""The newest events of a time range: the dashboard's live tail.

Rows come from ``scoped_events`` like every other query path, so the
caller's project (and organization, for scoped keys) filter always applies.
Newest means most recently *received*: a live tail shows arrivals, and a
client that backfills old timestamps still shows up in it. Events received
together (one batch) come newest timestamp first.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Final

import duckdb
import msgspec

from streamgauge.errors import ValidationFailed
from streamgauge.scope import Principal

from .dsl import decode
from .engine import fetch, finish, make_context
from .params import Params
from .result import QueryResult
from .source import RelationFor, hot_relation, scoped_events
from .templates.common import RangeParams
from .timerange import make_range

MAX_RECENT: Final = 200
RECENT_COLUMNS: Final = (
    "timestamp",
    "received_at",
    "event",
    "event_id",
    "user_id",
    "organization_id",
    "session_id",
    "method",
    "path",
    "status_code",
    "duration_ms",
    "error",
    "usage_quantity",
    "usage_unit",
    "usage_sku",
)


class RecentParams(RangeParams):
    """The body of ``POST /events/recent``: a range, event and filters, and how many."""

    limit: int = 20


class RecentRow(msgspec.Struct):
    timestamp: datetime
    received_at: datetime
    event: str
    event_id: str
    user_id: str | None
    organization_id: str | None
    session_id: str | None
    method: str | None
    path: str | None
    status_code: int | None
    duration_ms: float | None
    error: str | None
    usage_quantity: float | None
    usage_unit: str | None
    usage_sku: str | None


def recent_events(
    con: duckdb.DuckDBPyConnection,
    principal: Principal,
    body: Any,
    *,
    relation_for: RelationFor = hot_relation,
    now: datetime | None = None,
) -> QueryResult:
    """The ``limit`` newest events of the range that ``principal`` may see."""
    started = time.perf_counter()
    params = decode(body, RecentParams)
    if not 1 <= params.limit <= MAX_RECENT:
        raise ValidationFailed(f"limit: give 1..{MAX_RECENT}", details={"field": "limit"})
    ctx = make_context(con, principal, relation_for, now)
    rng = make_range(params.start, params.end, "none", params.timezone, ctx.now)
    bound = Params()
    scoped = scoped_events(
        ctx,
        bound,
        rng.start,
        rng.end,
        event=params.event,
        filters=params.filters,
        columns=", ".join(f'"{name}"' for name in RECENT_COLUMNS),
    )
    order = "received_at DESC, timestamp DESC, event_id DESC"
    sql = f"{scoped} ORDER BY {order} LIMIT {bound.add(params.limit)}"
    result = QueryResult.from_arrow(fetch(ctx, sql, bound.values))
    return finish(ctx, result, started, truncated=False)

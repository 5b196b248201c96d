"""A meter's aggregate over a range: totals per group and, optionally, a window series.

One statement over the scoped events (mandatory project and organization
filter, half-open range, the meter's event and filters, the caller's filters;
every value bound). With a window it groups by ``GROUPING SETS`` so the series
and the totals come from one scan; totals are aggregated over the whole range,
never summed from windows (``unique_count``, ``max``, ``latest`` are not additive).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from streamgauge.query.dsl import Filter
from streamgauge.query.engine import fetch
from streamgauge.query.fields import Field
from streamgauge.query.params import Params
from streamgauge.query.source import QueryContext, scoped_events
from streamgauge.query.timerange import BucketSQL, TimeRange

from .amounts import QUANTITY_SQL_TYPE, mean, plain
from .meters import Meter

Group = dict[str, str | None]
_TIMESTAMP = '"timestamp"'


@dataclass(frozen=True, slots=True)
class MeterRow:
    """The meter's value for one group (and one window, when ``time`` is set)."""

    time: datetime | None
    group: Group
    value: Decimal
    events: int
    as_of: datetime | None = None
    received_through: datetime | None = None


@dataclass(frozen=True, slots=True)
class MeterTotals:
    series: list[MeterRow]
    totals: list[MeterRow]
    as_of: datetime | None  # the latest event time included
    received_through: datetime | None  # the latest receive time included


def _value_sql(field: Field, params: Params) -> str:
    if field.is_json_path:
        return f"TRY_CAST({field.sql(params)} AS {QUANTITY_SQL_TYPE})"
    return f"CAST({field.sql(params)} AS {QUANTITY_SQL_TYPE})"


def _aggregate_sql(meter: Meter) -> str:
    kind = meter.aggregation
    if kind == "count":
        return "CAST(count(*) AS DECIMAL(38, 0))"
    if kind == "unique_count":
        return "CAST(count(DISTINCT __v) AS DECIMAL(38, 0))"
    if kind == "latest":
        return "arg_max(__v, (__ts, __id))"
    if kind == "avg":
        return "sum(__v)"  # divided by the event count in Python, exactly
    return f"{kind}(__v)"


def aggregate_meter(
    ctx: QueryContext,
    meter: Meter,
    rng: TimeRange,
    *,
    group_by: Sequence[Field] | None = None,
    filters: Sequence[Filter] = (),
) -> MeterTotals:
    """``meter`` over ``rng`` (windowed when ``rng.bucketed``), per group."""
    params = Params()
    dims = list(meter.group_by if group_by is None else group_by)
    projected = [f"{d.sql(params)} AS __d{i}" for i, d in enumerate(dims)]
    extra: list[str] = []
    if meter.value is not None:
        value = (
            meter.value.sql(params)
            if meter.aggregation == "unique_count"
            else _value_sql(meter.value, params)
        )
        projected.append(f"{value} AS __v")
        extra.append(f"({value}) IS NOT NULL")
        if meter.aggregation != "unique_count" and not meter.config.allow_negative:
            extra.append(f"({value}) >= 0")
    if rng.bucketed:
        projected.append(f"{BucketSQL(rng, params.add).start(_TIMESTAMP)} AS __t")
    projected += ['"timestamp" AS __ts', '"received_at" AS __rt', '"event_id" AS __id']
    scoped = scoped_events(
        ctx, params, rng.start, rng.end,
        event=meter.config.event, filters=[*meter.filters, *filters], extra=extra,
        columns=", ".join(projected),
    )  # fmt: skip
    keys = [f"__d{i}" for i in range(len(dims))]
    if rng.bucketed:
        grouping = f"GROUPING SETS (({', '.join(['__t', *keys])}), ({', '.join(keys)}))"
        head = "grouping(__t) AS __total, __t"
    else:
        grouping = f"GROUPING SETS (({', '.join(keys)}))"
        head = "1 AS __total, NULL::TIMESTAMPTZ AS __t"
    order = ", ".join(f"{key} NULLS LAST" for key in ["__t", *keys])
    sql = (
        f"WITH scoped AS ({scoped}) "
        f"SELECT {', '.join([head, *keys])}, {_aggregate_sql(meter)} AS __value, "
        "count(*) AS __events, max(__ts) AS __as_of, max(__rt) AS __received "
        f"FROM scoped GROUP BY {grouping} HAVING count(*) > 0 ORDER BY {order}"
    )
    rows = fetch(ctx, sql, params.values).to_pylist()
    return _collect(meter, [d.name for d in dims], rows)


def _collect(meter: Meter, names: list[str], rows: list[dict[str, Any]]) -> MeterTotals:
    series, totals = [], []
    as_of: datetime | None = None
    received: datetime | None = None
    for row in rows:
        raw = row["__value"] if row["__value"] is not None else Decimal(0)
        events = int(row["__events"])
        value = mean(raw, events) if meter.aggregation == "avg" else plain(raw)
        group = {name: row[f"__d{i}"] for i, name in enumerate(names)}
        if row["__total"]:
            totals.append(MeterRow(None, group, value, events, row["__as_of"], row["__received"]))
            as_of = _later(as_of, row["__as_of"])
            received = _later(received, row["__received"])
        else:
            series.append(MeterRow(row["__t"], group, value, events))
    return MeterTotals(series, totals, as_of, received)


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current

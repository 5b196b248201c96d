"""Compile a validated ``QueryRequest`` into one DuckDB statement.

Shape of the statement (internal aliases ``__t``, ``__d0``, ``__m0`` keep user
text out of identifiers; public names are applied to the fetched columns):

    WITH scoped AS (SELECT <bucket> AS __t, <dims> AS __dN, * FROM <tier> WHERE ...),
         agg    AS (SELECT __t, __dN, <aggregates> AS __mN FROM scoped GROUP BY ALL)
         [, buckets, keys: every bucket × every seen dimension value, for fill]
    SELECT ... ORDER BY ... LIMIT limit + 1      -- the extra row sets ``truncated``
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from streamgauge.errors import ValidationFailed

from .dsl import MAX_LIMIT, NamedMetric, QueryRequest
from .fields import Field, Metric, parse_field, parse_metric
from .params import Params
from .source import QueryContext, scoped_events
from .timerange import FIXED_WIDTHS, BucketSQL, TimeRange, make_range

MAX_DIMENSIONS: Final = 10
MAX_METRICS: Final = 50
MAX_FILTERS: Final = 50
_NAME_LIMIT: Final = 128


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    sql: str
    params: dict[str, object]
    names: list[str]  # public column names, in SELECT order
    limit: int
    range: TimeRange


def _named_metrics(request: QueryRequest) -> list[tuple[str, Metric]]:
    if not 1 <= len(request.metrics) <= MAX_METRICS:
        raise ValidationFailed(
            f"metrics: give 1..{MAX_METRICS} metrics", details={"field": "metrics"}
        )
    named = []
    for i, item in enumerate(request.metrics):
        where = f"metrics[{i}]"
        if isinstance(item, NamedMetric):
            metric = parse_metric(item.metric, where)
            name = item.as_ if item.as_ is not None else item.metric
        else:
            metric, name = parse_metric(item, where), item
        if not name or len(name) > _NAME_LIMIT:
            raise ValidationFailed(
                f"{where}.as: give a name of 1..{_NAME_LIMIT} characters", details={"field": where}
            )
        named.append((name, metric))
    return named


def _check_limits(request: QueryRequest) -> None:
    if not 1 <= request.limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit: give 1..{MAX_LIMIT}", details={"field": "limit"})
    if len(request.dimensions) > MAX_DIMENSIONS:
        raise ValidationFailed(
            f"dimensions: at most {MAX_DIMENSIONS}", details={"field": "dimensions"}
        )
    if len(request.filters) > MAX_FILTERS:
        raise ValidationFailed(f"filters: at most {MAX_FILTERS}", details={"field": "filters"})


def _fill_sql(rng: TimeRange, buckets: BucketSQL, params: Params, dims: list[str]) -> str:
    """CTEs ``buckets`` (every bucket meeting the range) and ``grid`` (× seen keys).

    The series steps at most 15 minutes (1 hour for calendar buckets), finer than
    any bucket, plus the range's last instant, so no bucket is missed.
    """
    width = FIXED_WIDTHS.get(rng.granularity, timedelta(hours=1))
    step_minutes = int(min(width, timedelta(minutes=15)).total_seconds() // 60)
    if rng.granularity not in FIXED_WIDTHS:
        step_minutes = 60
    last = params.add(rng.end - timedelta(microseconds=1))
    series = (
        f"SELECT unnest(generate_series({params.add(rng.start)}::TIMESTAMPTZ, {last}::TIMESTAMPTZ, "
        f"INTERVAL {step_minutes} MINUTE)) AS i UNION ALL SELECT {last}::TIMESTAMPTZ"
    )
    bucket = buckets.start("i")
    keys = f"SELECT DISTINCT {', '.join(dims)} FROM agg" if dims else "SELECT 1 AS __one"
    return (
        f"buckets AS (SELECT DISTINCT {bucket} AS __t FROM ({series})), "
        f"grid AS (SELECT * FROM buckets CROSS JOIN ({keys}))"
    )


def _order_sql(
    request: QueryRequest, public: dict[str, str], keys: list[str], metric_alias: str | None
) -> str:
    terms = []
    for i, order in enumerate(request.order_by):
        if order.field not in public:
            raise ValidationFailed(
                f"orderBy[{i}].field: {order.field!r} is not an output column; use one of "
                f"{', '.join(public)}",
                details={"field": f"orderBy[{i}].field"},
            )
        terms.append(f"{public[order.field]} {'DESC' if order.desc else 'ASC'} NULLS LAST")
    if not request.order_by and "__t" not in keys and keys and metric_alias:
        # Grouped by dimensions only: the biggest groups first is what people look for.
        terms.append(f"{metric_alias} DESC NULLS LAST")
    terms.extend(f"{key} ASC NULLS LAST" for key in keys)
    return f" ORDER BY {', '.join(terms)}" if terms else ""


def _seconds_sql(rng: TimeRange, bucket: str, buckets: BucketSQL | None, params: Params) -> str:
    """Length in seconds of a bucket clipped to the range: the divisor of ``rate``."""
    if buckets is None:
        return repr(rng.seconds)
    end = buckets.end(bucket)
    return (
        f"(epoch(least({end}, {params.add(rng.end)}::TIMESTAMPTZ)) - "
        f"epoch(greatest({bucket}, {params.add(rng.start)}::TIMESTAMPTZ)))"
    )


def compile_query(ctx: QueryContext, request: QueryRequest) -> CompiledQuery:
    """Validate every field of ``request`` and build its statement."""
    _check_limits(request)
    rng = make_range(request.start, request.end, request.group_by, request.timezone, ctx.now)
    params = Params()
    metrics = _named_metrics(request)
    dimensions: list[Field] = [
        parse_field(d, f"dimensions[{i}]") for i, d in enumerate(request.dimensions)
    ]
    buckets = BucketSQL(rng, params.add) if rng.bucketed else None

    keys = (["__t"] if rng.bucketed else []) + [f"__d{i}" for i in range(len(dimensions))]
    names = (
        (["time"] if rng.bucketed else []) + [d.name for d in dimensions] + [n for n, _ in metrics]
    )
    if len(set(names)) != len(names):
        raise ValidationFailed(
            "metrics: two output columns have the same name; give one an 'as'",
            details={"field": "metrics", "columns": names},
        )
    timestamp = '"timestamp"'
    projected = [f"{buckets.start(timestamp)} AS __t"] if buckets else []
    projected += [f"{d.sql(params)} AS __d{i}" for i, d in enumerate(dimensions)]
    scoped = scoped_events(
        ctx,
        params,
        rng.start,
        rng.end,
        event=request.event,
        filters=request.filters,
        columns=", ".join([*projected, "*"]),
    )
    aggregates = [
        f"{'count(*)' if m.kind == 'rate' else m.aggregate_sql(params, '')} AS __m{i}"
        for i, (_, m) in enumerate(metrics)
    ]
    agg = f"SELECT {', '.join([*keys, *aggregates])} FROM scoped"
    if keys:
        agg += f" GROUP BY {', '.join(keys)}"
    ctes = [f"scoped AS ({scoped})", f"agg AS ({agg})"]

    fill = rng.bucketed and request.fill
    prefix = "g" if fill else "a"
    has_rate = any(m.kind == "rate" for _, m in metrics)
    seconds = _seconds_sql(rng, f"{prefix}.__t", buckets, params) if has_rate else ""
    outputs = []
    for i, (_, metric) in enumerate(metrics):
        value = f"a.__m{i}"
        if metric.zero_when_empty:
            value = f"coalesce({value}, 0)"
        if metric.kind == "rate":
            value = f"{value} / {seconds}"
        outputs.append(f"{value} AS __m{i}")
    source = "agg a"
    if fill:
        assert buckets is not None
        ctes.append(_fill_sql(rng, buckets, params, [k for k in keys if k != "__t"]))
        join = " AND ".join(f"g.{k} IS NOT DISTINCT FROM a.{k}" for k in keys)
        source = f"grid g LEFT JOIN agg a ON {join}"
    select = [f"{prefix}.{k} AS {k}" for k in keys] + outputs
    aliases = [*keys, *(f"__m{i}" for i in range(len(metrics)))]
    public = dict(zip(names, aliases, strict=True))
    order = _order_sql(request, public, keys, "__m0" if metrics else None)
    limit = params.add(request.limit + 1)
    sql = f"WITH {', '.join(ctes)} SELECT {', '.join(select)} FROM {source}{order} LIMIT {limit}"
    return CompiledQuery(sql, params.values, names, request.limit, rng)

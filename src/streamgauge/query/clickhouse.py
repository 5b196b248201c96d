"""ClickHouse-style SQL (as written for Analytics Engine) over the DuckDB sandbox.

sqlglot translates ClickHouse to DuckDB but passes many ClickHouse functions
through unchanged. What it leaves behind is mapped in two places:

- AST rewrites (``clickhouse_to_duckdb``) where DuckDB needs another shape:
  parametric aggregates ``f(level)(x, w)``, ``uniq`` (sqlglot makes it
  approximate; we keep numbers exact), variadic ``multiIf``;
- DuckDB macros (``CLICKHOUSE_MACROS``) defined in every sandbox connection for
  the rest: ``intDiv``, ``toUInt32``, ``toStartOfInterval`` ...

``quantileExactWeighted(level)(x, w)`` follows ClickHouse: sort by ``x``, return
the first ``x`` whose cumulative weight reaches ``ceil(level * sum(w))``.
``quantileWeighted`` (Analytics Engine's name for weighting by
``_sample_interval``) is computed the same, exactly: there is no sampling here.
"""

from __future__ import annotations

import math

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType  # type: ignore[attr-defined]

_WEIGHTED_QUANTILE_UDF = "_streamgauge_weighted_quantile"

_SPELLINGS = {"quantileweighted": "quantileExactWeighted"}
"""Names sqlglot's ClickHouse parser does not accept as parametric aggregates."""

_PARAMETRIC = {"quantileexactweighted": "quantileexactweighted"}


def clickhouse_to_duckdb(sql: str) -> list[exp.Expr]:
    """Parse ClickHouse SQL into DuckDB-ready sqlglot expressions."""
    statements = [s for s in sqlglot.parse(_respell(sql), read="clickhouse") if s is not None]
    return [s.transform(_rewrite) for s in statements]


def _respell(sql: str) -> str:
    """Rename functions by token position, so strings and comments are never touched."""
    tokens = Dialect.get_or_raise("clickhouse").tokenize(sql)
    if not tokens:  # empty, or only comments: nothing to rename
        return sql
    pieces: list[str] = []
    last = 0
    for token, following in zip(tokens, [*tokens[1:], None], strict=True):
        spelling = _SPELLINGS.get(token.text.lower())
        if spelling and following is not None and following.token_type == TokenType.L_PAREN:
            pieces += [sql[last : token.start], spelling]
            last = token.end + 1
    return "".join([*pieces, sql[last:]])


def _rewrite(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.ParameterizedAgg):
        name = str(node.this).lower()
        if name not in _PARAMETRIC:
            return node
        # sqlglot keeps the parameters (level) in `expressions`, the arguments in `params`
        levels, arguments = node.expressions, node.args.get("params") or []
        return exp.Anonymous(this=_PARAMETRIC[name], expressions=[*levels, *arguments])
    if isinstance(node, exp.ApproxDistinct):
        return exp.Count(this=exp.Distinct(expressions=[node.this]))
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "multiif":
        return _multi_if(node.expressions)
    return node


def _multi_if(arguments: list[exp.Expr]) -> exp.Expr:
    if len(arguments) < 3 or len(arguments) % 2 == 0:
        return exp.Anonymous(this="multiIf", expressions=arguments)
    case = exp.Case(default=arguments[-1])
    for condition, value in zip(arguments[:-1:2], arguments[1:-1:2], strict=True):
        case = case.when(condition, value)
    return case


def _epoch_cast(name: str, target: str) -> str:
    return (
        # one typed overload only: DuckDB casts TIMESTAMP and DATE to it, and more
        # typed overloads make arguments of not-yet-known type ambiguous
        f"CREATE MACRO {name}(x TIMESTAMP WITH TIME ZONE) AS CAST(floor(epoch(x)) AS {target}),"
        f" (x) AS CAST(trunc(CAST(x AS DOUBLE)) AS {target})"
    )


def _bucket(name: str, interval: str) -> str:
    return f"CREATE MACRO {name}(t) AS time_bucket(INTERVAL {interval}, t, {_EPOCH})"


_EPOCH = "TIMESTAMPTZ '1970-01-01 00:00:00+00'"

CLICKHOUSE_MACROS: tuple[str, ...] = (
    "CREATE MACRO intdiv(a, b) AS CAST(trunc(a / b) AS BIGINT)",
    "CREATE MACRO intdivorzero(a, b) AS"
    " CASE WHEN b = 0 THEN 0 ELSE CAST(trunc(a / b) AS BIGINT) END",
    _epoch_cast("touint32", "UINTEGER"),
    _epoch_cast("touint64", "UBIGINT"),
    _epoch_cast("toint32", "INTEGER"),
    _epoch_cast("toint64", "BIGINT"),
    _epoch_cast("tounixtimestamp", "BIGINT"),
    "CREATE MACRO tofloat64(x) AS CAST(x AS DOUBLE)",
    "CREATE MACRO tostring(x) AS CAST(x AS VARCHAR)",
    "CREATE MACRO todate(x) AS CAST(x AS DATE)",
    "CREATE MACRO todatetime(x VARCHAR) AS CAST(x AS TIMESTAMPTZ),"
    " (x TIMESTAMP WITH TIME ZONE) AS x, (x) AS to_timestamp(CAST(x AS DOUBLE))",
    f"CREATE MACRO tostartofinterval(t, i) AS time_bucket(i, t, {_EPOCH})",
    _bucket("tostartoffiveminutes", "5 MINUTE"),
    _bucket("tostartoftenminutes", "10 MINUTE"),
    _bucket("tostartoffifteenminutes", "15 MINUTE"),
    "CREATE MACRO toyyyymmdd(t) AS CAST(strftime(t, '%Y%m%d') AS UINTEGER)",
    "CREATE MACRO uniqexact(x) AS count(DISTINCT x)",
    "CREATE MACRO sumif(x, c) AS sum(x) FILTER (WHERE c)",
    "CREATE MACRO avgif(x, c) AS avg(x) FILTER (WHERE c)",
    "CREATE MACRO minif(x, c) AS min(x) FILTER (WHERE c)",
    "CREATE MACRO maxif(x, c) AS max(x) FILTER (WHERE c)",
    f"CREATE MACRO quantileexactweighted(level, x, w) AS {_WEIGHTED_QUANTILE_UDF}("
    "level, list({'v': CAST(x AS DOUBLE), 'w': CAST(w AS DOUBLE)})"
    " FILTER (WHERE x IS NOT NULL AND w IS NOT NULL AND w > 0))",
)


def install_clickhouse_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Define the ClickHouse functions in ``con`` (before its configuration is locked)."""
    pair = duckdb.struct_type({"v": "DOUBLE", "w": "DOUBLE"})
    con.create_function(  # type: ignore[call-overload]
        _WEIGHTED_QUANTILE_UDF,
        _weighted_quantiles,
        ["DOUBLE", duckdb.list_type(pair)],
        "DOUBLE",
        type="arrow",
        side_effects=False,
    )
    for macro in CLICKHOUSE_MACROS:
        con.execute(macro)


def _weighted_quantiles(levels: pa.Array, groups: pa.Array) -> pa.Array:
    answers = [
        weighted_quantile(levels[i].as_py(), groups[i].values if groups[i].is_valid else None)
        for i in range(len(groups))
    ]
    return pa.array(answers, pa.float64())


def weighted_quantile(level: float | None, pairs: pa.StructArray | None) -> float | None:
    """ClickHouse's ``quantileExactWeighted``: first value whose cumulative weight ≥ ⌈level·W⌉."""
    if level is None or pairs is None or len(pairs) == 0:
        return None
    values, weights = pairs.field("v"), pairs.field("w")
    order = pc.sort_indices(values)
    values, weights = pc.take(values, order), pc.take(weights, order)
    cumulative = pc.cumulative_sum(weights)
    threshold = math.ceil(cumulative[-1].as_py() * level)
    index = pc.index(pc.greater_equal(cumulative, threshold), True).as_py()
    value = values[index if index >= 0 else len(values) - 1].as_py()
    return None if value is None else float(value)

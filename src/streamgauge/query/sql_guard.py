"""The statement layer of the SQL guard: what a user statement may be, and what it reads.

``parse_user_sql`` parses with sqlglot (exactly one statement) and refuses all
but ``SELECT``/``WITH``/set operations and ``EXPLAIN [ANALYZE]`` of those, table
references outside the ``events`` view, and functions that reach outside the
sandbox or describe it. This layer is a first refusal with a clear message;
the engine (``sandbox``) denies the same things again on its own.

``plan_scan`` derives from the parsed statement which canonical columns and
which ``timestamp`` range the query can possibly read, so the source streams
only those: a superset, never a subset, of what the query looks at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from streamgauge.errors import BadRequest, ValidationFailed
from streamgauge.model.event import COLUMN_NAMES
from streamgauge.pipeline.columns import registered_types

from .clickhouse import clickhouse_to_duckdb

VIEW = "events"
TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
"""Table functions a query may call: they generate values, they read nothing."""

_DENIED_PREFIXES = (
    "read_", "duckdb_", "pragma_", "glob", "sniff_", "parquet_", "iceberg_", "delta_",
    "arrow_", "python_", "sqlite_", "postgres_", "mysql_", "json_execute", "load_", "install_",
)  # fmt: skip
_DENIED_NAMES = frozenset({
    "query", "query_table", "current_setting", "getenv", "getvariable", "sleep", "sleep_ms",
    "which_secret", "checkpoint", "force_checkpoint", "sql_auto_complete", "test_all_types",
    "summary", "repeat_row", "seq_scan", "index_scan", "current_database", "current_catalog",
    "current_schemas", "current_schema", "version", "pg_typeof_internal",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class UserStatement:
    """A user statement that passed the guard, in DuckDB's dialect."""

    expression: exp.Expr
    sql: str
    explain: str = ""
    """``EXPLAIN`` or ``EXPLAIN ANALYZE`` when the statement is explained."""

    @property
    def parameter_names(self) -> set[str]:
        return {p.name for p in self.expression.find_all(exp.Placeholder) if p.this is not None}


@dataclass(slots=True)
class ScanPlan:
    """What the query can read from ``events``: columns, and bounds on ``timestamp``."""

    columns: set[str] = field(default_factory=set)
    lower: list[exp.Expr] | None = field(default_factory=list)
    upper: list[exp.Expr] | None = field(default_factory=list)
    """Per scan, the expressions bounding ``timestamp``; None when some scan is unbounded."""


def parse_user_sql(sql: str, dialect: str) -> UserStatement:
    """The one allowed statement in ``sql``, or BadRequest saying why not."""
    if dialect not in ("duckdb", "clickhouse"):
        raise ValidationFailed(f"dialect must be 'duckdb' or 'clickhouse', not {dialect!r}")
    text = sql.strip().rstrip(";").strip()
    explain, body = _split_explain(text)
    try:
        if dialect == "clickhouse":
            statements = clickhouse_to_duckdb(body)
        else:
            statements = [s for s in sqlglot.parse(body, read="duckdb") if s is not None]
    except (ParseError, TokenError) as error:
        raise BadRequest(f"SQL syntax error: {_first_line(str(error))}") from error
    if len(statements) != 1:
        raise BadRequest(f"exactly one statement is allowed, got {len(statements)}")
    expression = statements[0]
    _check_statement(expression)
    _check_references(expression)
    generated = body if dialect == "duckdb" else expression.sql(dialect="duckdb")
    return UserStatement(expression, generated, explain)


def _split_explain(text: str) -> tuple[str, str]:
    words = text.split(None, 2)
    if words and words[0].upper() == "EXPLAIN":
        if len(words) > 1 and words[1].upper() == "ANALYZE":
            return "EXPLAIN ANALYZE", words[2] if len(words) > 2 else ""
        return "EXPLAIN", text.split(None, 1)[1] if len(words) > 1 else ""
    return "", text


def _check_statement(expression: exp.Expr) -> None:
    node = expression
    while isinstance(node, exp.Subquery):
        node = node.this
    if not isinstance(node, exp.Select | exp.SetOperation):
        kind = node.key.upper() if not isinstance(node, exp.Command) else str(node.this).upper()
        raise BadRequest(f"only SELECT, WITH and EXPLAIN statements are allowed, not {kind}")
    for inner in expression.walk():
        if isinstance(inner, exp.DDL | exp.DML | exp.Command | exp.Set | exp.Pragma | exp.Into):
            raise BadRequest(f"only SELECT, WITH and EXPLAIN statements are allowed: {inner.key}")


def _check_references(expression: exp.Expr) -> None:
    ctes = {cte.alias_or_name.lower() for cte in expression.find_all(exp.CTE)}
    if VIEW in ctes:
        raise BadRequest(f"'{VIEW}' names the events view and cannot name a CTE")
    for table in expression.find_all(exp.Table):
        if table.args.get("db") or table.args.get("catalog"):
            raise BadRequest(f"only the '{VIEW}' view is visible; '{table.sql()}' is not")
        if isinstance(table.this, exp.Func):
            name = function_name(table.this)
            if name not in TABLE_FUNCTIONS:
                raise BadRequest(f"table function {name}() is not allowed")
    for function in expression.find_all(exp.Func):
        name = function_name(function)
        if name in _DENIED_NAMES or name.startswith(_DENIED_PREFIXES):
            raise BadRequest(f"function {name}() is not allowed")


def function_name(function: exp.Func) -> str:
    """The lower-case name DuckDB resolves ``function`` by."""
    if isinstance(function, exp.Anonymous):
        return str(function.name).lower()
    return function.sql(dialect="duckdb").split("(", 1)[0].strip().lower()


def plan_scan(expression: exp.Expr) -> ScanPlan:
    """Columns and ``timestamp`` bounds that cover every scan of ``events`` in the query."""
    plan = ScanPlan(columns=_referenced_columns(expression))
    for table in _view_scans(expression):
        lower, upper = _scan_bounds(table)
        plan.lower = None if plan.lower is None or lower is None else [*plan.lower, lower]
        plan.upper = None if plan.upper is None or upper is None else [*plan.upper, upper]
    return plan


def _view_scans(expression: exp.Expr) -> Iterator[exp.Table]:
    for table in expression.find_all(exp.Table):
        if isinstance(table.this, exp.Identifier) and table.name.lower() == VIEW:
            yield table


def _referenced_columns(expression: exp.Expr) -> set[str]:
    row_names = {VIEW} | {t.alias.lower() for t in _view_scans(expression) if t.alias}
    for node in expression.walk():
        whole_row = (
            (isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count))
            or (isinstance(node, exp.Column) and node.name.lower() in row_names)
            or (isinstance(node, exp.Join) and node.args.get("method"))
            or (isinstance(node, exp.Anonymous) and node.name.lower() == "columns")
        )
        if whole_row:
            return set(COLUMN_NAMES) | registered_types().keys()
    names = {i.name.lower() for i in expression.find_all(exp.Identifier)}
    names |= {c.name.lower() for c in expression.find_all(exp.Column)}
    return names & (set(COLUMN_NAMES) | registered_types().keys())


_LOWER: dict[type[exp.Expr], str] = {
    exp.GT: "lower",
    exp.GTE: "lower",
    exp.LT: "upper",
    exp.LTE: "upper",
    exp.EQ: "both",
}
_FLIPPED = {"lower": "upper", "upper": "lower", "both": "both"}
_CONSTANT_NODES = (
    exp.Literal, exp.Placeholder, exp.Cast, exp.Interval, exp.Neg, exp.Add, exp.Sub,
    exp.Paren, exp.Var, exp.DataType, exp.Identifier, exp.Tuple,
)  # fmt: skip


def _scan_bounds(table: exp.Table) -> tuple[exp.Expr | None, exp.Expr | None]:
    """Bounds from the WHERE of the SELECT whose only source is ``table``."""
    select = table.parent.parent if isinstance(table.parent, exp.From) else None
    if not isinstance(select, exp.Select) or select.args.get("joins"):
        return None, None
    where = select.args.get("where")
    if where is None:
        return None, None
    names = {VIEW, table.alias.lower()} if table.alias else {VIEW}
    lower: exp.Expr | None = None
    upper: exp.Expr | None = None
    for conjunct in _conjuncts(where.this):
        for side, bound in _bounds_of(conjunct, names):
            if side in ("lower", "both") and lower is None:
                lower = bound
            if side in ("upper", "both") and upper is None:
                upper = bound
    return lower, upper


def _conjuncts(condition: exp.Expr) -> Iterator[exp.Expr]:
    if isinstance(condition, exp.And):
        yield from _conjuncts(condition.left)
        yield from _conjuncts(condition.right)
    elif isinstance(condition, exp.Paren):
        yield from _conjuncts(condition.this)
    else:
        yield condition


def _bounds_of(condition: exp.Expr, names: set[str]) -> Iterator[tuple[str, exp.Expr]]:
    if isinstance(condition, exp.Between) and _is_timestamp(condition.this, names):
        low, high = condition.args["low"], condition.args["high"]
        if _is_constant(low):
            yield "lower", low
        if _is_constant(high):
            yield "upper", high
        return
    side = _LOWER.get(type(condition))
    if side is None or not isinstance(condition, exp.Binary):
        return
    left, right = condition.left, condition.right
    if _is_timestamp(left, names) and _is_constant(right):
        yield side, right
    elif _is_timestamp(right, names) and _is_constant(left):
        yield _FLIPPED[side], left


def _is_timestamp(node: exp.Expr, names: set[str]) -> bool:
    return (
        isinstance(node, exp.Column)
        and node.name.lower() == "timestamp"
        and (not node.table or node.table.lower() in names)
    )


def _is_constant(node: exp.Expr) -> bool:
    """Literals, bound parameters, casts and interval arithmetic: no columns, no clocks."""
    return all(isinstance(n, _CONSTANT_NODES) for n in node.walk())


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "invalid SQL"

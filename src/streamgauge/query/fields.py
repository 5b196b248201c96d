"""Field references and metrics: the only way user names become SQL.

A field is a canonical column (checked against ``model.COLUMNS``) or a JSON
path ``properties.<path>`` / ``context.<path>`` (checked with a strict regex;
the path itself travels as a bound parameter). A metric string such as
``p95(duration_ms)`` is parsed here into an aggregate over a validated field.

Percentiles are DuckDB's ``quantile_cont``: linear interpolation between the
closest ranks (numpy's ``method="linear"``, Hyndman-Fan type 7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from streamgauge.errors import ValidationFailed
from streamgauge.model.event import COLUMNS
from streamgauge.pipeline.columns import registered_types

from .params import Params

_JSON_PATH: Final = re.compile(r"^(properties|context)((?:\.[A-Za-z_][A-Za-z0-9_\-]{0,63}){1,8})$")
_COLUMN_TYPES: Final = {c.name: c.sql_type for c in COLUMNS}
NUMERIC_TYPES: Final = frozenset({"DOUBLE", "INTEGER", "BIGINT"})
_METRIC: Final = re.compile(r"^([a-z_]+[0-9.]*)(?:\((.*)\))?$")
_PERCENTILE: Final = re.compile(r"^p(\d{1,2}(?:\.\d{1,3})?)$")


@dataclass(frozen=True, slots=True)
class Field:
    """A validated field: its public name, SQL type and how to read it."""

    name: str
    sql_type: str  # the column's type; JSON paths read as VARCHAR
    column: str | None  # the canonical column, or None for a JSON path
    json_root: str | None = None
    json_path: str | None = None

    @property
    def is_json_path(self) -> bool:
        return self.column is None

    def sql(self, params: Params) -> str:
        """An expression reading this field (JSON leaves as text)."""
        if self.column is not None:
            return f'"{self.column}"'
        return f'json_extract_string("{self.json_root}", {params.add(self.json_path)})'

    def numeric_sql(self, params: Params) -> str:
        """An expression reading this field as a number (JSON text cast leniently)."""
        if self.column is not None:
            return self.sql(params)
        return f"TRY_CAST({self.sql(params)} AS DOUBLE)"


def parse_field(name: str, where: str) -> Field:
    """Validate ``name`` as a column or JSON path; ``where`` names it in errors."""
    if name in _COLUMN_TYPES:
        return Field(name, _COLUMN_TYPES[name], name)
    custom = registered_types()  # pipeline.columns: typed, so as fast as built-in ones
    if name in custom:
        return Field(name, custom[name], name)
    match = _JSON_PATH.match(name)
    if match:
        return Field(name, "VARCHAR", None, match[1], "$" + match[2])
    raise ValidationFailed(
        f"{where}: {name!r} is not a field; use a column "
        f"({', '.join([*_COLUMN_TYPES, *registered_types()])}) "
        "or 'properties.<path>' / 'context.<path>' with letters, digits, '_' and '-'",
        details={"field": where},
    )


def parse_numeric_field(name: str, where: str) -> Field:
    field = parse_field(name, where)
    if field.column is not None and field.sql_type not in NUMERIC_TYPES:
        types = {**_COLUMN_TYPES, **registered_types()}
        numeric = [c for c, t in types.items() if t in NUMERIC_TYPES]
        raise ValidationFailed(
            f"{where}: {name!r} is not numeric; use one of {', '.join(numeric)} "
            "or a 'properties.<path>' holding numbers",
            details={"field": where},
        )
    return field


@dataclass(frozen=True, slots=True)
class Metric:
    """A parsed metric: ``kind`` is count, sum, avg, min, max, quantile, uniq,
    error_rate or rate; ``field`` the input, ``arg`` the quantile or threshold."""

    text: str
    kind: str
    field: Field | None = None
    arg: float = 0.0

    @property
    def zero_when_empty(self) -> bool:
        """Counts are 0 in an empty bucket; averages and the like are null."""
        return self.kind in ("count", "uniq", "rate")

    def aggregate_sql(self, params: Params, rate_seconds: str) -> str:
        """The aggregate over the scoped events; ``rate_seconds`` is the bucket length."""
        if self.kind == "count":
            return "count(*)"
        if self.kind == "rate":
            return f"count(*) / {rate_seconds}"
        if self.kind == "error_rate":
            threshold = params.add(int(self.arg))
            return (
                f'avg(CASE WHEN "status_code" >= {threshold} OR "error" IS NOT NULL '
                "THEN 1.0 ELSE 0.0 END)"
            )
        assert self.field is not None
        if self.kind == "uniq":
            return f"count(DISTINCT {self.field.sql(params)})"
        value = self.field.numeric_sql(params)
        if self.kind == "quantile":
            return f"quantile_cont({value}, {self.arg!r})"
        return f"{self.kind}({value})"


_USAGE = (
    "use count, rate, error_rate, error_rate(400), sum|avg|min|max(field), "
    "pNN(field) with NN in 1..99 (or 99.9), uniq(field)"
)


def parse_metric(text: str, where: str) -> Metric:
    """Parse one metric string such as ``count``, ``p99.9(duration_ms)``, ``uniq(user_id)``."""
    match = _METRIC.match(text.strip())
    if not match:
        raise ValidationFailed(
            f"{where}: {text!r} is not a metric; {_USAGE}", details={"field": where}
        )
    name, argument = match[1], match[2]
    if name in ("count", "rate") and argument in (None, ""):
        return Metric(text, name)
    if name == "error_rate":
        if argument in (None, ""):
            return Metric(text, "error_rate", arg=500)
        if argument.isdigit() and 100 <= int(argument) <= 599:
            return Metric(text, "error_rate", arg=int(argument))
        raise ValidationFailed(
            f"{where}: error_rate takes a status code threshold 100..599, like error_rate(400)",
            details={"field": where},
        )
    if argument:
        if name in ("sum", "avg", "min", "max"):
            return Metric(text, name, parse_numeric_field(argument, where))
        if name == "uniq":
            return Metric(text, "uniq", parse_field(argument, where))
        percentile = _PERCENTILE.match(name)
        if percentile:
            value = float(percentile[1])
            if not 1 <= value < 100:
                raise ValidationFailed(
                    f"{where}: percentile {name!r} is out of range; use p1 .. p99 or p99.9",
                    details={"field": where},
                )
            quantile = round(value / 100, 6)
            return Metric(text, "quantile", parse_numeric_field(argument, where), quantile)
    raise ValidationFailed(f"{where}: {text!r} is not a metric; {_USAGE}", details={"field": where})

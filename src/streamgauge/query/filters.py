"""Filters: ``{"field", "op", "value"}`` compiled to a predicate with bound values.

``neq`` and ``not_in`` keep rows where the field is missing (SQL ``IS DISTINCT
FROM`` semantics): "status_code neq 200" includes events without a status.
On ``properties.<path>``, a number compares numerically, a boolean compares
with JSON ``true``/``false`` and a string compares the JSON text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from streamgauge.errors import ValidationFailed

from .dsl import Filter, Scalar
from .fields import NUMERIC_TYPES, Field, parse_field
from .params import Params
from .timerange import parse_instant

_COMPARE: Final = {
    "eq": "=",
    "neq": "IS DISTINCT FROM",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
}
MAX_IN_VALUES: Final = 1000


def _fail(where: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{where}: {message}", details={"field": where})


def _operand(
    field: Field, value: Any, where: str, params: Params, now: datetime
) -> tuple[str, str]:
    """(field expression, placeholder) with the value checked against the field's type."""
    if value is None or isinstance(value, list | dict):
        raise _fail(where, f"value must be a string, number or boolean for {field.name!r}")
    if field.is_json_path:
        if isinstance(value, bool):
            return field.sql(params), params.add("true" if value else "false")
        if isinstance(value, int | float):
            return field.numeric_sql(params), params.add(float(value))
        return field.sql(params), params.add(value)
    if field.sql_type in NUMERIC_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(where, f"{field.name!r} is numeric; give a number, not {value!r}")
        return field.sql(params), params.add(value)
    if field.sql_type == "TIMESTAMPTZ":
        if not isinstance(value, str):
            raise _fail(where, f"{field.name!r} is a time; give an ISO-8601 string")
        instant = parse_instant(value, where, now)
        return field.sql(params), params.add(instant)
    if field.sql_type == "JSON":
        raise _fail(where, f"{field.name!r} is a JSON object; filter on '{field.name}.<path>'")
    if not isinstance(value, str):
        raise _fail(where, f"{field.name!r} is text; give a string, not {value!r}")
    return field.sql(params), params.add(value)


def compile_filter(item: Filter, index: int, params: Params, now: datetime) -> str:
    """One predicate; ``index`` names the filter in error messages, ``now`` resolves
    relative times on time columns."""
    where = f"filters[{index}]"
    field = parse_field(item.field, f"{where}.field")
    value = item.value
    if item.op in ("exists", "not_exists"):
        if value is not None:
            raise _fail(where, f"op {item.op!r} takes no value; remove 'value'")
        return f"({field.sql(params)} IS {'NOT ' if item.op == 'exists' else ''}NULL)"
    if item.op in ("in", "not_in"):
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_IN_VALUES:
            raise _fail(where, f"op {item.op!r} takes a list of 1..{MAX_IN_VALUES} values")
        operands = [_operand(field, v, where, params, now) for v in value]
        expression = operands[0][0]
        listed = ", ".join(placeholder for _, placeholder in operands)
        if item.op == "in":
            return f"({expression} IN ({listed}))"
        return f"({expression} IS NULL OR {expression} NOT IN ({listed}))"
    if item.op in ("contains", "starts_with"):
        if not isinstance(value, str) or field.sql_type not in ("VARCHAR",):
            raise _fail(where, f"op {item.op!r} takes a string value on a text field")
        return f"{item.op}({field.sql(params)}, {params.add(value)})"
    if value is None:
        raise _fail(where, f"op {item.op!r} needs a 'value'")
    expression, placeholder = _operand(field, value, where, params, now)
    return f"({expression} {_COMPARE[item.op]} {placeholder})"


def event_predicate(event: str | list[str] | None, params: Params) -> str | None:
    """``event = ...`` for one name, ``IN`` for several, nothing for None."""
    if event is None:
        return None
    names: list[Scalar] = [event] if isinstance(event, str) else list(event)
    if not names or len(names) > MAX_IN_VALUES:
        raise _fail("event", f"give one event name or a list of 1..{MAX_IN_VALUES}")
    return f'("event" IN ({", ".join(params.add(n) for n in names)}))'

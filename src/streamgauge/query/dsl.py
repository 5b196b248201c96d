"""The JSON query DSL of ``POST /query``: request shapes and their validation.

The request shapes are msgspec Structs (they also generate the JSON Schema of
the OpenAPI document). ``decode`` turns a request body into a Struct, naming
the offending field in a ``ValidationFailed`` (400), unknown fields included.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypeVar

import msgspec

from streamgauge.errors import ValidationFailed

Scalar = str | int | float | bool
FilterOp = Literal[
    "eq",
    "neq",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "starts_with",
    "exists",
    "not_exists",
]

DEFAULT_LIMIT: Final = 10_000
MAX_LIMIT: Final = 100_000


class Strict(msgspec.Struct, forbid_unknown_fields=True, rename="camel", omit_defaults=True):
    """Request shapes reject unknown fields and use camelCase on the wire."""


class Filter(Strict):
    """``field op value``; ``exists``/``not_exists`` take no value, ``in``/``not_in`` a list."""

    field: str
    op: FilterOp
    value: Scalar | list[Scalar] | None = None


class NamedMetric(Strict):
    """A metric with its output name: ``{"metric": "p99(duration_ms)", "as": "p99_ms"}``."""

    metric: str
    as_: str | None = msgspec.field(default=None, name="as")


class OrderBy(Strict):
    """Order by an output column: ``time``, a dimension, a metric string or its ``as``."""

    field: str
    desc: bool = False


class TimeFields(Strict):
    """Fields every query and template share. Times are ISO-8601 or relative."""

    start: str = "-24h"
    end: str = "now"
    timezone: str = "UTC"


class QueryRequest(TimeFields):
    """The body of ``POST /query``."""

    group_by: str = "none"
    event: str | list[str] | None = None
    filters: list[Filter] = msgspec.field(default_factory=list)
    dimensions: list[str] = msgspec.field(default_factory=list)
    metrics: list[str | NamedMetric] = msgspec.field(default_factory=lambda: ["count"])
    order_by: list[OrderBy] = msgspec.field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    fill: bool = False


T = TypeVar("T")


def decode(body: Any, shape: type[T]) -> T:
    """Convert a JSON body (already parsed) into ``shape`` or raise ``ValidationFailed``."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ValidationFailed("the request body must be a JSON object")
    try:
        return msgspec.convert(body, shape)
    except msgspec.ValidationError as error:
        message = str(error)
        path = message.rsplit(" - at ", 1)[1] if " - at " in message else None
        raise ValidationFailed(f"invalid request: {message}", details={"path": path}) from None

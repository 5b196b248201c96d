"""The template registry: named, documented questions with typed parameters.

A template is a params Struct (its request body), a row Struct (its output
shape, for the OpenAPI document) and a function answering it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import duckdb
import msgspec

from streamgauge.errors import NotFound
from streamgauge.scope import Principal

from ..dsl import decode
from ..engine import finish, make_context
from ..result import QueryResult
from ..source import QueryContext, RelationFor, hot_relation

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Template(Generic[P]):
    name: str
    summary: str
    params: type[P]
    row: type[msgspec.Struct]
    answer: Callable[[QueryContext, P], QueryResult]


class TemplateInfo(msgspec.Struct):
    """One entry of ``GET /templates``: the name, what it answers, its parameters."""

    name: str
    summary: str
    path: str
    parameters: dict[str, Any]


REGISTRY: dict[str, Template[Any]] = {}
ALIASES: dict[str, str] = {
    "/metrics/performance": "performance",
    "/metrics/errors": "errors",
    "/metrics/users": "users",
    "/billing/usage": "usage",
}


def register(template: Template[Any]) -> None:
    REGISTRY[template.name] = template


def get_template(name: str) -> Template[Any]:
    if name not in REGISTRY:
        raise NotFound(
            f"no template {name!r}; GET /templates lists them: {', '.join(sorted(REGISTRY))}",
            details={"template": name},
        )
    return REGISTRY[name]


def parameters_schema(params: type[Any]) -> dict[str, Any]:
    """The JSON Schema of a params Struct, its nested shapes under ``$defs``."""
    schema = msgspec.json.schema(params)
    defs: dict[str, Any] = schema.pop("$defs", {})
    top: dict[str, Any] = defs.pop(params.__name__, schema)
    return {**top, "$defs": defs} if defs else top


def list_templates() -> list[TemplateInfo]:
    return [
        TemplateInfo(t.name, t.summary, f"/templates/{t.name}", parameters_schema(t.params))
        for t in REGISTRY.values()
    ]


def run_template(
    con: duckdb.DuckDBPyConnection,
    principal: Principal,
    name: str,
    body: Any,
    *,
    relation_for: RelationFor = hot_relation,
    now: datetime | None = None,
) -> QueryResult:
    """Answer ``POST /templates/{name}`` (and the seed's alias paths) for ``principal``."""
    started = time.perf_counter()
    template = get_template(name)
    params = decode(body, template.params)
    ctx = make_context(con, principal, relation_for, now)
    result = template.answer(ctx, params)
    return finish(ctx, result, started, truncated=bool(result.meta.get("truncated", False)))

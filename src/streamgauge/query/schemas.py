"""JSON Schemas of the query endpoints, for the OpenAPI document.

``endpoint_schemas()`` maps each route (``/query``, ``/templates/{name}`` and
the seed's aliases) to its request and response schema; shared shapes are
returned once in ``components`` and referenced as ``#/components/schemas/Name``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .dsl import QueryRequest
from .result import QueryResponse
from .templates import ALIASES, REGISTRY, TemplateInfo

REF_TEMPLATE = "#/components/schemas/{name}"


class EndpointSchema(msgspec.Struct):
    method: str
    summary: str
    request: dict[str, Any] | None
    response: dict[str, Any]


def endpoint_schemas() -> tuple[dict[str, EndpointSchema], dict[str, Any]]:
    """``({path: EndpointSchema}, components)`` for every query and template route."""
    shapes: list[Any] = [QueryRequest, QueryResponse[dict[str, Any]], list[TemplateInfo]]
    for template in REGISTRY.values():
        shapes += [template.params, QueryResponse[template.row]]  # type: ignore[name-defined]
    refs, components = msgspec.json.schema_components(shapes, ref_template=REF_TEMPLATE)
    paths = {
        "/query": EndpointSchema(
            "POST",
            "Run a JSON DSL query (percentiles: quantile_cont, linear interpolation)",
            refs[0],
            refs[1],
        ),
        "/templates": EndpointSchema(
            "GET", "List the templates and their parameters", None, refs[2]
        ),
    }
    for i, template in enumerate(REGISTRY.values()):
        request, response = refs[3 + 2 * i], refs[4 + 2 * i]
        paths[f"/templates/{template.name}"] = EndpointSchema(
            "POST", template.summary, request, response
        )
    for alias, name in ALIASES.items():
        paths[alias] = paths[f"/templates/{name}"]
    return paths, components

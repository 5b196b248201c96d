"""The OpenAPI document: FastAPI's, with request and response schemas from msgspec.

Routes are added as plain Starlette routes (bodies are decoded by msgspec, not
pydantic), so their schemas come from the query modules' structs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from streamgauge.query.schemas import endpoint_schemas

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}


def _error_responses() -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Error"}
    return {
        str(status): {"description": text, "content": {"application/json": {"schema": ref}}}
        for status, text in (
            (400, "The request is invalid; the message says what to fix"),
            (401, "An API key is required"),
            (403, "The key may not do this"),
            (408, "The query ran past its time limit"),
        )
    }


def build_openapi(app: FastAPI, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    paths, components = endpoint_schemas()
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(components)
    schemas["Error"] = ERROR_SCHEMA
    for path, endpoint in paths.items():
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "responses": {
                "200": {
                    "description": "The result (JSON by default; ?format=csv|ndjson|parquet|arrow)",
                    "content": {"application/json": {"schema": endpoint.response}},
                },
                **_error_responses(),
            },
        }
        if endpoint.request is not None:
            operation["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": endpoint.request}},
            }
        document["paths"].setdefault(path, {})[endpoint.method.lower()] = operation
    for path, operations in (extra or {}).items():
        document["paths"].setdefault(path, {}).update(operations)
    return document


def operation(
    summary: str, response: Any, request: Any = None, *, media_type: str = "application/json"
) -> dict[str, Any]:
    """One OpenAPI operation with a JSON request (optional) and a response schema."""
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            "200": {"description": summary, "content": {media_type: {"schema": response}}},
            **_error_responses(),
        },
    }
    if request is not None:
        op["requestBody"] = {"content": {"application/json": {"schema": request}}}
    return op


def document(
    app: FastAPI, paths: dict[str, dict[str, Any]], components: dict[str, Any] | None = None
) -> None:
    """Add a route module's operations (and shared schemas) to the app's OpenAPI document."""
    extra: dict[str, Any] | None = getattr(app.state, "openapi_extra", None)
    if extra is None:
        extra = app.state.openapi_extra = {"paths": {}, "components": {}}
    extra["components"].update(components or {})
    for path, operations in paths.items():
        for op in operations.values():
            op["responses"] = {**_error_responses(), **op["responses"]}
        extra["paths"].setdefault(path, {}).update(operations)


def _route_module_extra(app: FastAPI, document_: dict[str, Any]) -> None:
    extra: dict[str, Any] = getattr(app.state, "openapi_extra", None) or {}
    document_["components"]["schemas"].update(extra.get("components", {}))
    for path, operations in extra.get("paths", {}).items():
        document_["paths"].setdefault(path, {}).update(operations)


def install_openapi(app: FastAPI) -> None:
    cache: dict[str, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        if "document" not in cache:
            document = build_openapi(app)
            _route_module_extra(app, document)
            cache["document"] = document
        return cache["document"]

    app.openapi = openapi  # type: ignore[method-assign]

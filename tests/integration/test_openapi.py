"""The OpenAPI document describes every endpoint of the query port, with schemas."""

from __future__ import annotations

from pathlib import Path

import httpx
import schemathesis
from starlette.routing import Route

from streamgauge.api.app import create_query_app
from streamgauge.config import load_settings
from streamgauge.runtime import Runtime
from tests.support.server import ServerProcess


def test_every_route_is_documented_with_a_response_schema(tmp_path: Path) -> None:
    runtime = Runtime(tmp_path / "data", load_settings(environ={}))
    try:
        app = create_query_app(runtime, lambda: True)
        document = app.openapi()
        operational = {"/health", "/ready", "/metrics", "/openapi.json", "/docs",
                       "/docs/oauth2-redirect", "/redoc"}  # fmt: skip
        routes = {
            (route.path, method.lower())
            for route in app.routes
            if isinstance(route, Route) and route.path not in operational
            and not route.path.startswith("/static")
            for method in (route.methods or ()) - {"HEAD"}
        }  # fmt: skip
        documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
        # /templates/{name} is documented once per template, each with its own schemas.
        templates = {p for p, _ in documented if p.startswith("/templates/")}
        assert len(templates) >= 9
        assert routes - documented == {("/templates/{name}", "post")}
        for path, ops in document["paths"].items():
            for method, op in ops.items():
                assert op["responses"]["200"]["content"], (path, method)
                assert "400" in op["responses"], (path, method)
    finally:
        runtime.close()


def test_openapi_json_and_docs_are_served(server: ServerProcess) -> None:
    document = httpx.get(f"{server.query_url}/openapi.json").json()
    assert document["info"]["title"] == "streamgauge query API"
    assert "/query" in document["paths"] and "/sql" in document["paths"]
    assert httpx.get(f"{server.query_url}/docs").status_code == 200
    schema = schemathesis.openapi.from_dict(document)
    assert len(list(schema.get_all_operations())) >= 25

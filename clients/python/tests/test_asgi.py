"""The ASGI middleware with FastAPI and Starlette: route templates, statuses, errors, options."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from client_support import ListClient
from streamgauge_client.asgi import StreamgaugeMiddleware


def fastapi_app(client: ListClient, **options: Any) -> FastAPI:
    app = FastAPI()
    router = APIRouter(prefix="/orgs/{org_id}")

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(404)
        return {"id": item_id}

    @app.post("/items")
    async def create(request: Request) -> dict[str, str]:
        request.state.user_id = "user_9"
        return {}

    @app.get("/boom")
    def boom() -> None:
        raise ValueError("kaboom")

    @app.get("/health")
    def health() -> str:
        return "ok"

    @router.get("/members/{member_id}")
    def member(org_id: str, member_id: str) -> dict[str, str]:
        return {}

    app.include_router(router)
    app.add_middleware(StreamgaugeMiddleware, client=client, **options)
    return app


def summary(event: dict[str, Any]) -> tuple[Any, ...]:
    p, perf = event["properties"], event["performance"]
    return (p["method"], p["route"], perf["statusCode"], perf.get("error"))


def test_fastapi_requests_are_recorded_with_route_templates(list_client: ListClient) -> None:
    http = TestClient(fastapi_app(list_client), raise_server_exceptions=False)
    assert http.get("/items/42").status_code == 200
    assert http.get("/items/0").status_code == 404
    assert http.get("/no/such/page/17").status_code == 404
    assert http.get("/boom").status_code == 500
    assert http.get("/orgs/acme/members/m1").status_code == 200
    assert [summary(e) for e in list_client.events] == [
        ("GET", "/items/{item_id}", 200, None),
        ("GET", "/items/{item_id}", 404, None),
        ("GET", "<unmatched>", 404, None),
        ("GET", "/boom", 500, "ValueError"),
        ("GET", "/orgs/{org_id}/members/{member_id}", 200, None),
    ]
    assert all(e["event"] == "api.request" for e in list_client.events)
    assert all(0 < e["performance"]["duration"] < 5000 for e in list_client.events)


def test_unhandled_exceptions_are_re_raised_unchanged(list_client: ListClient) -> None:
    http = TestClient(fastapi_app(list_client))
    with pytest.raises(ValueError, match="kaboom"):
        http.get("/boom")
    assert summary(list_client.events[0]) == ("GET", "/boom", 500, "ValueError")


def test_hooks_skip_paths_and_extra_properties(list_client: ListClient) -> None:
    app = fastapi_app(
        list_client,
        skip_paths=["/health"],
        user_id=lambda scope: scope["state"].get("user_id"),
        organization_id=lambda scope: scope["path_params"].get("org_id"),
        session_id=lambda scope: dict(scope["headers"]).get(b"x-session", b"").decode() or None,
        properties=lambda scope: {"client": "test"},
    )
    http = TestClient(app)
    http.get("/health")
    http.post("/items", headers={"x-session": "s-1"})
    http.get("/orgs/acme/members/m1")
    first, second = list_client.events
    assert (first.get("userId"), first.get("sessionId")) == ("user_9", "s-1")
    assert first["properties"] == {"method": "POST", "route": "/items", "client": "test"}
    assert second["organizationId"] == "acme"


def test_a_failing_hook_never_fails_the_request(list_client: ListClient) -> None:
    def broken(scope: Any) -> str:
        raise KeyError("no user")

    http = TestClient(fastapi_app(list_client, user_id=broken))
    assert http.get("/items/1").status_code == 200
    assert "userId" not in list_client.events[0]


def test_sampling(list_client: ListClient) -> None:
    http = TestClient(fastapi_app(list_client, sample_rate=0.0))
    http.get("/items/1")
    assert list_client.events == []
    with pytest.raises(ValueError, match="sample_rate"):
        StreamgaugeMiddleware(fastapi_app(list_client), client=list_client, sample_rate=1.5)


def test_starlette_mounts_and_static_prefixes(list_client: ListClient) -> None:
    async def user(request: Request) -> PlainTextResponse:
        return PlainTextResponse("u")

    async def files(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("file")(scope, receive, send)

    app = Starlette(
        routes=[
            Mount("/api", routes=[Route("/users/{user_id}", user)]),
            Mount("/static", app=files),
        ]
    )
    http = TestClient(StreamgaugeMiddleware(app, client=list_client))
    http.get("/api/users/7")
    http.get("/static/css/site.css")
    assert [e["properties"]["route"] for e in list_client.events] == [
        "/api/users/{user_id}",
        "/static",
    ]


def test_non_http_scopes_pass_through(list_client: ListClient) -> None:
    with TestClient(fastapi_app(list_client)):  # runs lifespan startup and shutdown
        pass
    assert list_client.events == []


def test_a_custom_route_function_for_other_frameworks(list_client: ListClient) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("x", status_code=201)(scope, receive, send)

    wrapped = StreamgaugeMiddleware(app, client=list_client, route=lambda scope: "/custom")
    TestClient(wrapped).put("/anything/123")
    assert summary(list_client.events[0]) == ("PUT", "/custom", 201, None)

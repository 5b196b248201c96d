"""The Flask extension: ``Streamgauge(app)`` / ``init_app`` over the WSGI middleware."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, abort, g, stream_with_context

from client_support import ListClient
from streamgauge_client.flask import Streamgauge


def make_app(*, testing: bool = False, **options: Any) -> Flask:
    app = Flask(__name__)
    app.config["TESTING"] = testing
    app.config["STREAMGAUGE_SKIP_PATHS"] = ["/health"]

    @app.before_request
    def login() -> None:
        g.user_id = "user_1"

    @app.get("/items/<int:item_id>")
    def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            abort(404)
        return {"id": item_id}

    @app.get("/boom")
    def boom() -> str:
        raise ValueError("kaboom")

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.get("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[str]:
            yield "a"
            yield "b"

        return Response(stream_with_context(chunks()))

    Streamgauge(**options).init_app(app)
    return app


def summary(event: dict[str, Any]) -> tuple[Any, ...]:
    p, perf = event["properties"], event["performance"]
    return (p["method"], p["route"], perf["statusCode"], perf.get("error"))


def test_flask_requests_are_recorded_with_url_rules(list_client: ListClient) -> None:
    app = make_app(client=list_client, user_id=lambda request: g.user_id)
    http = app.test_client()
    assert http.get("/items/42", buffered=True).status_code == 200
    assert http.get("/items/0", buffered=True).status_code == 404
    assert http.get("/nope/3", buffered=True).status_code == 404
    assert http.get("/boom", buffered=True).status_code == 500
    assert http.get("/health", buffered=True).status_code == 200
    assert http.get("/stream", buffered=True).data == b"ab"
    assert [summary(e) for e in list_client.events] == [
        ("GET", "/items/<int:item_id>", 200, None),
        ("GET", "/items/<int:item_id>", 404, None),
        ("GET", "<unmatched>", 404, None),
        ("GET", "/boom", 500, "ValueError"),
        ("GET", "/stream", 200, None),
    ]
    assert {e.get("userId") for e in list_client.events} == {"user_1"}
    assert all(e["performance"]["duration"] > 0 for e in list_client.events)


def test_propagated_exceptions_are_re_raised_unchanged(list_client: ListClient) -> None:
    app = make_app(testing=True, client=list_client)
    with pytest.raises(ValueError, match="kaboom"):
        app.test_client().get("/boom", buffered=True)
    assert summary(list_client.events[0]) == ("GET", "/boom", 500, "ValueError")


def test_options_and_a_failing_hook(list_client: ListClient) -> None:
    def broken(request: Any) -> str:
        raise RuntimeError("hook bug")

    app = make_app(
        client=list_client,
        organization_id=broken,
        properties=lambda request: {"agent": request.headers.get("User-Agent")},
        sample_rate=1.0,
    )
    app.test_client().get("/items/5", buffered=True, headers={"User-Agent": "probe"})
    (event,) = list_client.events
    assert "organizationId" not in event
    assert event["properties"]["agent"] == "probe"


def test_settings_from_app_config() -> None:
    app = Flask(__name__)
    app.config.update(
        STREAMGAUGE_URL="http://analytics.internal:8787",
        STREAMGAUGE_WRITE_KEY="sg_w",
        STREAMGAUGE_SAMPLE_RATE=0.25,
    )
    Streamgauge(app)
    middleware = app.wsgi_app
    recorder = middleware.recorder  # type: ignore[attr-defined]
    assert recorder.client.endpoint == "http://analytics.internal:8787/events/batch"
    assert recorder.client.write_key == "sg_w"
    assert recorder.sample_rate == 0.25
    assert app.extensions["streamgauge"] is not None

"""FastAPI, Flask and Django apps, instrumented, send their requests to a real server; the
events come back from ``/sql`` with route templates, statuses and durations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from server_support import sql, wait_for

from streamgauge_client import Client


@pytest.fixture
def client(server: Any) -> Iterator[Client]:
    with Client(server.ingest_url, flush_interval=0.05) as sg:
        yield sg


def requests_of(server: Any, event: str, expected: int) -> list[tuple[Any, ...]]:
    def query() -> list[dict[str, Any]]:
        rows = sql(
            server,
            "SELECT method, path, status_code, error, duration_ms FROM events "
            f"WHERE event = '{event}' ORDER BY timestamp",
        )
        return rows if len(rows) >= expected else []

    rows = wait_for(query, timeout=10, what=f"{expected} {event} events")
    assert all(0 < row["duration_ms"] < 5000 for row in rows)
    return [(r["method"], r["path"], r["status_code"], r["error"]) for r in rows]


def test_fastapi(server: Any, client: Client) -> None:
    from fastapi import FastAPI
    from starlette.testclient import TestClient

    from streamgauge_client.asgi import StreamgaugeMiddleware

    app = FastAPI()

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/boom")
    def boom() -> None:
        raise ValueError("kaboom")

    app.add_middleware(StreamgaugeMiddleware, client=client, event="fastapi.request")
    http = TestClient(app, raise_server_exceptions=False)
    assert [http.get(p).status_code for p in ("/items/1", "/items/2", "/nope", "/boom")] == [
        200, 200, 404, 500,
    ]  # fmt: skip
    assert client.flush(10)
    assert requests_of(server, "fastapi.request", 4) == [
        ("GET", "/items/{item_id}", 200, None),
        ("GET", "/items/{item_id}", 200, None),
        ("GET", "<unmatched>", 404, None),
        ("GET", "/boom", 500, "ValueError"),
    ]


def test_flask(server: Any, client: Client) -> None:
    from flask import Flask

    from streamgauge_client.flask import Streamgauge

    app = Flask(__name__)

    @app.get("/items/<int:item_id>")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/boom")
    def boom() -> str:
        raise ValueError("kaboom")

    Streamgauge(app, client=client, event="flask.request")
    http = app.test_client()
    statuses = [http.get(p, buffered=True).status_code for p in ("/items/1", "/nope", "/boom")]
    assert statuses == [200, 404, 500]
    assert client.flush(10)
    assert requests_of(server, "flask.request", 3) == [
        ("GET", "/items/<int:item_id>", 200, None),
        ("GET", "<unmatched>", 404, None),
        ("GET", "/boom", 500, "ValueError"),
    ]


def test_django(server: Any, client: Client) -> None:
    from django.test import Client as DjangoClient
    from django.test import override_settings

    import django_app

    django_app.configure()
    with override_settings(STREAMGAUGE={"CLIENT": client, "EVENT": "django.request"}):
        http = DjangoClient(raise_request_exception=False)
        statuses = [http.get(p).status_code for p in ("/items/7/", "/nope/", "/boom/")]
    assert statuses == [200, 404, 500]
    assert client.flush(10)
    assert requests_of(server, "django.request", 3) == [
        ("GET", "/items/<int:item_id>/", 200, None),
        ("GET", "<unmatched>", 404, None),
        ("GET", "/boom/", 500, "ValueError"),
    ]

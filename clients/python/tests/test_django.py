"""The Django middleware: a ``MIDDLEWARE`` entry configured from ``settings.STREAMGAUGE``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import AsyncClient, Client, override_settings

import django_app

django_app.configure()
CLIENT = django_app.CLIENT


@pytest.fixture(autouse=True)
def fresh_events() -> None:
    CLIENT.events.clear()


def summary(event: dict[str, Any]) -> tuple[Any, ...]:
    p, perf = event["properties"], event["performance"]
    return (p["method"], p["route"], perf["statusCode"], perf.get("error"))


def test_django_requests_are_recorded_with_resolver_routes() -> None:
    http = Client(raise_request_exception=False)
    assert http.get("/items/42/").status_code == 200
    assert http.get("/items/0/").status_code == 404
    assert http.get("/nope/17/").status_code == 404
    assert http.get("/boom/").status_code == 500
    assert http.get("/health/").status_code == 200
    assert http.get("/api/v1/orgs/acme/items/3").status_code == 200
    assert http.get("/legacy/abc/").status_code == 200
    assert [summary(e) for e in CLIENT.events] == [
        ("GET", "/items/<int:item_id>/", 200, None),
        ("GET", "/items/<int:item_id>/", 404, None),  # Http404 is an answer, not an error
        ("GET", "<unmatched>", 404, None),
        ("GET", "/boom/", 500, "ValueError"),
        ("GET", "/api/v1/orgs/<slug:org>/items/<int:item_id>", 200, None),
        ("GET", "/^legacy/(?P<slug>[a-z]+)/$", 200, None),
    ]
    assert all(e["performance"]["duration"] > 0 for e in CLIENT.events)


def test_hooks_from_settings() -> None:
    Client().post("/items/5/", HTTP_X_USER="user_7")
    (event,) = CLIENT.events
    assert event["userId"] == "user_7"
    assert event["properties"] == {"method": "POST", "route": "/items/<int:item_id>/",
                                   "host": "testserver"}  # fmt: skip


def test_the_exception_reaches_django_unchanged() -> None:
    with pytest.raises(ValueError, match="kaboom"):
        Client().get("/boom/")  # the test client re-raises what the view raised
    assert summary(CLIENT.events[0]) == ("GET", "/boom/", 500, "ValueError")


def test_async_django() -> None:
    async def main() -> int:
        response = await AsyncClient().get("/async/")
        return int(response.status_code)

    assert asyncio.run(main()) == 200
    assert summary(CLIENT.events[0]) == ("GET", "/async/", 200, None)


def test_a_dotted_client_path_and_a_bad_client_are_checked() -> None:
    from streamgauge_client.django import recorder_from_settings

    recorder = recorder_from_settings({"CLIENT": "django_app.CLIENT", "SAMPLE_RATE": "0.5"})
    assert recorder.client is CLIENT and recorder.sample_rate == 0.5
    with pytest.raises(TypeError, match=r"must be a streamgauge_client\.Client"):
        recorder_from_settings({"CLIENT": object()})


@override_settings(STREAMGAUGE={"URL": "http://analytics.internal:8787", "WRITE_KEY": "sg_w"})
def test_url_and_write_key_from_settings() -> None:
    from streamgauge_client.django import StreamgaugeMiddleware

    middleware = StreamgaugeMiddleware(lambda request: HttpResponse())
    assert middleware.recorder.client.endpoint == "http://analytics.internal:8787/events/batch"
    assert middleware.recorder.client.write_key == "sg_w"

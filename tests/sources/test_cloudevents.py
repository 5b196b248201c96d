"""CloudEvents (OpenMeter-style) → Events, field by field, and what is rejected."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streamgauge.errors import BadRequest
from streamgauge.sources import cloudevents
from streamgauge.sources.native import InvalidEvent
from tests.sources.helpers import RECEIVED_AT, as_json, options

OPTIONS = cloudevents.CloudEventsOptions()


def cloud_event(**overrides: Any) -> dict[str, Any]:
    base = {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "billing-api",
        "type": "ai.tokens",
        "subject": "org-9",
        "time": "2025-10-03T11:59:00Z",
        "data": {"value": "1500", "unit": "tokens", "model": "m1"},
        "tenantregion": "eu",
    }
    return {**base, **overrides}


def events(
    body: Any, batch: bool | None = None, opts: cloudevents.CloudEventsOptions = OPTIONS
) -> list[Any]:
    envelopes = cloudevents.split_request(json.dumps(body).encode(), batch=batch, options=opts)
    return [cloudevents.normalize(e, options("cloudevents")) for e in envelopes]


def test_a_cloud_event_maps_every_column_and_its_usage() -> None:
    [event] = events(cloud_event(), batch=False)
    assert event.event == "ai.tokens"
    assert event.event_id == "billing-api evt-1"
    assert event.organization_id == "org-9"
    assert event.timestamp == RECEIVED_AT - 60_000_000
    assert (event.usage_quantity, event.usage_unit, event.usage_sku) == (
        1500.0,
        "tokens",
        "ai.tokens",
    )
    assert as_json(event.properties) == {"value": "1500", "unit": "tokens", "model": "m1"}
    assert as_json(event.context) == {
        "specversion": "1.0",
        "source": "billing-api",
        "tenantregion": "eu",
    }
    assert event.source == "cloudevents"


def test_usage_paths_and_subject_mapping_are_configurable() -> None:
    opts = cloudevents.CloudEventsOptions(
        subject_as_organization=False,
        usage_quantity="$.usage.tokens",
        usage_unit="",
        usage_sku="model",
    )
    data = {"usage": {"tokens": 7}, "model": "m2"}
    [event] = events([cloud_event(data=data)], batch=True, opts=opts)
    assert event.organization_id is None
    assert (event.usage_quantity, event.usage_unit, event.usage_sku) == (7.0, None, "m2")


def test_data_without_the_quantity_is_no_usage_and_other_data_is_wrapped() -> None:
    [plain, text, none] = events(
        [
            cloud_event(id="1", data={"k": 1}),
            cloud_event(id="2", data="hello"),
            cloud_event(id="3", data=None, time=None),
        ]
    )
    assert (plain.usage_quantity, plain.usage_sku, plain.usage_unit) == (None, None, None)
    assert as_json(text.properties) == {"data": "hello"}
    assert none.properties is None and none.timestamp == RECEIVED_AT


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"specversion": "0.3"}, "specversion", "specversion must be '1.0'"),
        ({"id": ""}, "id", "`id` must not be empty"),
        ({"source": "my app"}, "source", "source must be a URI-reference (no spaces)"),
        ({"type": None}, "type", "Expected `str`, got `null`"),
        ({"data": {"value": "lots"}}, "data.value", "data.value must be a number"),
        ({"data": {"value": True}}, "data.value", "data.value must be a number"),
        ({"time": "noon"}, "time", "Invalid RFC3339 encoded datetime"),
    ],
)
def test_invalid_events_are_rejected_naming_the_field(
    overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidEvent) as raised:
        events(cloud_event(**overrides))
    assert (raised.value.field, raised.value.message) == (field, message)


def test_missing_required_attributes_are_named() -> None:
    body = cloud_event()
    del body["source"]
    with pytest.raises(InvalidEvent) as raised:
        events(body)
    assert (raised.value.field, raised.value.message) == ("source", "`source` is required")


@pytest.mark.parametrize(
    ("body", "batch", "message"),
    [
        (b"[]", False, "this content type carries one JSON event object"),
        (b"{}", True, "this content type carries a JSON array of events"),
        (b"{", None, "request body is not valid JSON"),
        (b'"x"', None, "request body is not valid JSON"),
    ],
)
def test_bodies_of_the_wrong_shape_are_bad_requests(
    body: bytes, batch: bool | None, message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        cloudevents.split_request(body, batch=batch, options=OPTIONS)

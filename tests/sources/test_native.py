"""The native wire shape: every field's mapping, every rejection, hostile input."""

from __future__ import annotations

import contextlib
import json

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamgauge.errors import BadRequest
from streamgauge.model import Event
from streamgauge.sources.native import (
    InvalidEvent,
    NormalizeOptions,
    check_single,
    normalize,
    split_batch,
)

RECEIVED = 1_759_492_800_000_000  # 2025-10-03T12:00:00Z in µs
OPTIONS = NormalizeOptions(
    project_id="shop",
    received_at=RECEIVED,
    max_future_us=3_600_000_000,
    max_name_length=256,
    max_event_bytes=4096,
)


def norm(value: object) -> Event:
    return normalize(json.dumps(value).encode(), OPTIONS)


def test_every_field_of_the_seed_shape_maps_to_its_column() -> None:
    event = norm(
        {
            "id": "evt_1",
            "event": "api.request",
            "timestamp": "2025-10-03T11:59:00.250+02:00",
            "userId": "user_123",
            "anonymousId": "anon_9",
            "sessionId": "sess_1",
            "organizationId": "org_456",
            "properties": {"method": "GET", "route": "/api/users/{id}", "path": "/api/users/7"},
            "context": {"ip": "127.0.0.1"},
            "performance": {"duration": 45.5, "statusCode": 503, "error": "boom"},
            "usage": {"quantity": 1500, "unit": "tokens", "sku": "ai-text-generation"},
        }
    )
    assert event == Event(
        project_id="shop",
        event_id="evt_1",
        event="api.request",
        timestamp=1_759_485_540_250_000,  # 09:59:00.25Z
        received_at=RECEIVED,
        user_id="user_123",
        anonymous_id="anon_9",
        session_id="sess_1",
        organization_id="org_456",
        duration_ms=45.5,
        status_code=503,
        error="boom",
        usage_quantity=1500.0,
        usage_unit="tokens",
        usage_sku="ai-text-generation",
        method="GET",
        path="/api/users/{id}",
        source="native",
        properties='{"method": "GET", "route": "/api/users/{id}", "path": "/api/users/7"}',
        context='{"ip": "127.0.0.1"}',
    )


def test_minimal_event_gets_receive_time_and_a_uuid7_id() -> None:
    event = norm({"event": "signup"})
    assert event.timestamp == RECEIVED
    assert len(event.event_id) == 36 and event.event_id[14] == "7"
    assert (event.properties, event.context, event.path, event.method) == (None, None, None, None)


@pytest.mark.parametrize(("key", "expected"), [("id", "a"), ("eventId", "b"), ("messageId", "c")])
def test_event_id_comes_from_any_of_its_names(key: str, expected: str) -> None:
    assert norm({"event": "x", key: expected}).event_id == expected


def test_path_falls_back_to_properties_path() -> None:
    assert norm({"event": "x", "properties": {"path": "/a"}}).path == "/a"


@pytest.mark.parametrize(
    ("timestamp", "micros"),
    [
        (1_759_492_800_123, 1_759_492_800_123_000),  # epoch milliseconds
        (1_759_492_800_123.5, 1_759_492_800_123_500),
        ("2025-10-03T12:00:00Z", 1_759_492_800_000_000),
        ("2025-10-03T14:00:00+02:00", 1_759_492_800_000_000),
        ("2025-10-03T12:00:00", 1_759_492_800_000_000),  # no offset: UTC
        ("2020-01-01T00:00:00Z", 1_577_836_800_000_000),  # backfill is fine
    ],
)
def test_timestamps(timestamp: object, micros: int) -> None:
    assert norm({"event": "x", "timestamp": timestamp}).timestamp == micros


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({}, "event", "`event` is required"),
        ({"event": ""}, "event", "1 to 256 characters"),
        ({"event": "x" * 257}, "event", "1 to 256 characters"),
        ({"event": 5}, "event", "Expected `str`"),
        ({"event": "x", "userId": 1}, "userId", "Expected `str | null`"),
        ({"event": "x", "timestamp": "yesterday"}, "timestamp", "RFC3339"),
        ({"event": "x", "timestamp": -5}, "timestamp", "milliseconds since"),
        ({"event": "x", "timestamp": "2025-10-03T14:00:01Z"}, "timestamp", "in the future"),
        ({"event": "x", "properties": [1, 2]}, "properties", "must be a JSON object"),
        ({"event": "x", "properties": "s"}, "properties", "must be a JSON object"),
        ({"event": "x", "context": 3}, "context", "must be a JSON object"),
        ({"event": "x", "performance": {"statusCode": "200"}}, "performance.statusCode", "int"),
        ({"event": "x", "performance": {"statusCode": 42}}, "performance.statusCode", "100-999"),
        ({"event": "x", "performance": {"duration": "fast"}}, "performance.duration", "float"),
        ({"event": "x", "usage": {"quantity": "1"}}, "usage.quantity", "float"),
        ({"event": "x", "usage": 7}, "usage", "Expected `object"),
        ({"event": "x", "id": "i" * 257}, "id", "at most 256"),
        ({"event": "x", "properties": {"pad": "p" * 5000}}, "", "the limit is 4096 bytes"),
    ],
)
def test_rejections_name_the_field_and_what_to_fix(
    payload: dict[str, object], field: str, fragment: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        norm(payload)
    assert caught.value.field == field
    assert fragment in caught.value.message


def test_non_object_event_is_rejected() -> None:
    with pytest.raises(InvalidEvent, match="Expected `object`, got `array`"):
        normalize(b"[1]", OPTIONS)


@pytest.mark.parametrize(
    ("body", "ndjson", "count"),
    [
        (b'[{"event":"a"},{"event":"b"}]', False, 2),
        (b'{"events":[{"event":"a"}]}', False, 1),
        (b" \n[ ]", False, 0),
        (b'{"event":"a"}\n\n{"event":"b"}\n{"event":"c"}', True, 3),
        (b'{"event":"a"}\r\n{"event":"b"}\r\n', True, 2),
    ],
)
def test_split_batch_shapes(body: bytes, ndjson: bool, count: int) -> None:
    assert len(split_batch(body, ndjson=ndjson)) == count


@pytest.mark.parametrize("body", [b"[{]", b"{", b"nope", b"42", b'"s"', b'{"other": 1}', b""])
def test_split_batch_rejects_malformed_bodies_with_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest):
        split_batch(body, ndjson=False)


def test_a_bad_line_in_ndjson_only_rejects_that_event() -> None:
    raws = split_batch(b'{"event":"a"}\n{oops\n{"event":"c"}', ndjson=True)
    assert normalize(raws[0], OPTIONS).event == "a"
    with pytest.raises(InvalidEvent, match="not valid JSON"):
        normalize(raws[1], OPTIONS)
    assert normalize(raws[2], OPTIONS).event == "c"


def test_single_event_body_must_be_an_object() -> None:
    assert check_single(b'{"event": "a"}') == b'{"event": "a"}'
    for body in (b"[]", b"{", b""):
        with pytest.raises(BadRequest):
            check_single(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    ["event", "id", "timestamp", "userId", "properties", "context", "performance", "usage",
     "sessionId", "organizationId", "eventId", "messageId", "anonymousId"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(field_names | st.text(max_size=8), json_values, max_size=8))
def test_hostile_objects_are_accepted_or_rejected_never_crash(payload: dict[str, object]) -> None:
    raw = msgspec.json.encode(payload)
    try:
        event = normalize(raw, OPTIONS)
    except InvalidEvent as invalid:
        assert invalid.message
    else:
        assert event.project_id == "shop" and event.event == payload["event"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.booleans())
def test_arbitrary_bytes_never_crash_the_decoder(body: bytes, ndjson: bool) -> None:
    try:
        raws = split_batch(body, ndjson=ndjson)
    except BadRequest:
        return
    for raw in raws:
        with contextlib.suppress(InvalidEvent):
            normalize(raw, OPTIONS)

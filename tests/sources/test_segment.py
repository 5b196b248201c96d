"""Segment / RudderStack calls → Events, field by field, and what is rejected."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streamgauge.errors import BadRequest
from streamgauge.sources import NORMALIZERS, segment
from streamgauge.sources.native import InvalidEvent
from tests.sources.helpers import RECEIVED_AT, as_json, options

OPTIONS = segment.SegmentOptions(group_as_organization=True, max_event_bytes=32 * 1024)


def batch(*calls: dict[str, Any], **top: Any) -> bytes:
    return json.dumps({"batch": list(calls), **top}).encode()


def one(body: bytes, call: str | None = None, opts: segment.SegmentOptions = OPTIONS) -> Any:
    [envelope] = segment.split_request(body, call, opts).envelopes
    return segment.normalize(envelope, options("segment"))


def test_a_track_call_maps_every_column_with_clock_skew_corrected() -> None:
    body = batch(
        {
            "type": "track",
            "event": "Order Completed",
            "messageId": "m-1",
            "userId": "u1",
            "anonymousId": "a1",
            "timestamp": "2025-10-03T11:59:00Z",
            "properties": {"total": 12.5, "method": "POST", "route": "/orders"},
            "context": {"groupId": "org-7", "ip": "10.0.0.1"},
        },
        sentAt="2025-10-03T11:59:50Z",  # the client's clock is 10 s slow
        writeKey="wk",
    )
    event = one(body)
    assert event.event_id == "m-1"
    assert event.event == "Order Completed"
    assert event.user_id == "u1" and event.anonymous_id == "a1"
    assert event.organization_id == "org-7"
    assert event.timestamp == RECEIVED_AT - 50_000_000  # 11:59:10 in server time
    assert event.received_at == RECEIVED_AT
    assert event.method == "POST" and event.path == "/orders"
    assert event.source == "segment" and event.project_id == "p1"
    assert as_json(event.properties) == {"total": 12.5, "method": "POST", "route": "/orders"}
    assert as_json(event.context) == {"groupId": "org-7", "ip": "10.0.0.1", "type": "track"}


def test_the_batch_context_is_merged_under_the_calls_own() -> None:
    body = batch(
        {"type": "track", "event": "e", "userId": "u", "context": {"locale": "fr"}},
        context={"locale": "en", "library": {"name": "x"}},
    )
    assert as_json(one(body).context) == {
        "locale": "fr",
        "library": {"name": "x"},
        "type": "track",
    }


@pytest.mark.parametrize("kind", ["page", "screen"])
def test_page_and_screen_calls_become_events_named_after_their_type(kind: str) -> None:
    call = {"userId": "u", "name": "Pricing", "category": "Docs", "properties": {"path": "/p"}}
    event = one(json.dumps(call).encode(), kind)
    assert event.event == kind
    assert event.path == "/p"
    assert as_json(event.properties) == {"path": "/p"}
    assert as_json(event.context) == {"type": kind, "name": "Pricing", "category": "Docs"}
    assert event.timestamp == RECEIVED_AT  # no timestamp: receive time


def test_identify_traits_become_properties_also_under_context_traits_as_rudderstack_sends() -> None:
    segment_style = one(batch({"type": "identify", "userId": "u", "traits": {"plan": "pro"}}))
    rudder_style = one(
        batch({"type": "identify", "userId": "u", "context": {"traits": {"plan": "team"}}})
    )
    assert segment_style.event == "identify"
    assert as_json(segment_style.properties) == {"plan": "pro"}
    assert as_json(rudder_style.properties) == {"plan": "team"}


def test_a_group_calls_group_id_is_the_organization_only_where_configured() -> None:
    call = {"type": "group", "userId": "u", "groupId": 42, "traits": {"name": "Acme"}}
    event = one(batch(call))
    assert event.event == "group" and event.organization_id == "42"
    assert as_json(event.properties) == {"name": "Acme"}
    assert as_json(event.context) == {"type": "group", "groupId": "42"}
    off = segment.SegmentOptions(group_as_organization=False)
    assert one(batch(call), opts=off).organization_id is None


def test_alias_keeps_the_previous_id_in_context() -> None:
    event = one(batch({"type": "alias", "userId": "u2", "previousId": "u1"}))
    assert event.event == "alias"
    assert as_json(event.context) == {"type": "alias", "previousId": "u1"}


def test_the_write_key_in_the_body_is_returned_for_authentication() -> None:
    assert segment.split_request(batch(writeKey="wk-1"), None, OPTIONS).write_key == "wk-1"
    single = segment.split_request(b'{"writeKey": "wk-2", "userId": "u"}', "track", OPTIONS)
    assert single.write_key == "wk-2"


@pytest.mark.parametrize(
    ("call", "field", "message"),
    [
        ({"type": "track", "userId": "u"}, "event", "a track call needs `event`"),
        ({"type": "track", "event": "e"}, "userId", "every call needs userId or anonymousId"),
        ({"type": "launch", "userId": "u"}, "type", "type must be one of track, identify, page, "
         "screen, group, alias"),
        ({"type": "track", "event": "e", "userId": "u", "properties": [1]}, "properties",
         "properties must be a JSON object"),
        ({"type": "track", "event": "e", "userId": "u", "timestamp": "yesterday"}, "timestamp",
         "Invalid RFC3339 encoded datetime"),
        ({"type": "track", "event": "e", "userId": "u", "context": {"groupId": 5}},
         "context.groupId", "context.groupId must be a string"),
    ],
)  # fmt: skip
def test_invalid_calls_are_rejected_naming_the_field(
    call: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidEvent) as raised:
        one(batch(call))
    assert (raised.value.field, raised.value.message) == (field, message)


def test_events_above_segments_32_kb_are_rejected() -> None:
    call = {"type": "track", "event": "e", "userId": "u", "properties": {"pad": "x" * 33_000}}
    with pytest.raises(InvalidEvent) as raised:
        one(batch(call))
    size = len(json.dumps(call))
    assert raised.value.message == f"event is {size} bytes; the limit is 32768 bytes"


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"batch": 3}'])
def test_a_body_that_is_no_batch_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest, match="request body is not a Segment batch"):
        segment.split_request(body, None, OPTIONS)


def test_replay_maps_a_dead_letter_envelope_as_the_request_did() -> None:
    envelope = segment.split_request(
        batch({"type": "group", "userId": "u", "groupId": "g"}),
        None,
        segment.SegmentOptions(group_as_organization=False),
    ).envelopes[0]
    assert NORMALIZERS["segment"](envelope, options("segment")).organization_id is None

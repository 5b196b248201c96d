"""PostHog capture (v0 and v1) → Events, field by field, and what is rejected."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streamgauge.errors import BadRequest
from streamgauge.sources import posthog
from streamgauge.sources.native import InvalidEvent
from tests.sources.helpers import RECEIVED_AT, as_json, options

V0 = posthog.PostHogOptions(organization_group_type="company")
V1 = posthog.PostHogOptions(organization_group_type="company", v1=True)
UUID = "0199a3b4-0000-7000-8000-000000000001"


def events(body: dict[str, Any] | list[Any], opts: posthog.PostHogOptions = V0) -> list[Any]:
    split = posthog.split_request(json.dumps(body).encode(), opts)
    return [posthog.normalize(e, options("posthog")) for e in split.envelopes]


def test_a_v0_batch_event_maps_every_column_with_clock_skew_corrected() -> None:
    capture = {
        "event": "clicked",
        "uuid": UUID,
        "distinct_id": "u1",
        "timestamp": "2025-10-03T11:58:00+00:00",
        "properties": {
            "$session_id": "s1",
            "$groups": {"company": "acme", "team": "t1"},
            "$lib": "posthog-python",
            "button": "buy",
            "path": "/pricing",
        },
    }
    [event] = events({"api_key": "k", "batch": [capture], "sent_at": "2025-10-03T11:59:00Z"})
    assert event.event_id == UUID and event.event == "clicked"
    assert event.user_id == "u1" and event.anonymous_id is None
    assert event.session_id == "s1" and event.organization_id == "acme"
    assert event.timestamp == RECEIVED_AT - 60_000_000
    assert event.path == "/pricing" and event.source == "posthog"
    assert as_json(event.properties) == {"button": "buy", "path": "/pricing"}
    assert as_json(event.context) == {
        "$session_id": "s1",
        "$groups": {"company": "acme", "team": "t1"},
        "$lib": "posthog-python",
    }


def test_personless_events_carry_the_distinct_id_as_anonymous() -> None:
    capture = {"event": "e", "distinct_id": "d", "properties": {"$process_person_profile": False}}
    [event] = events({"batch": [capture]})
    assert (event.user_id, event.anonymous_id) == (None, "d")


def test_ignore_sent_at_turns_skew_correction_off() -> None:
    capture = {
        "event": "e",
        "distinct_id": "d",
        "timestamp": "2025-10-03T11:00:00Z",
        "properties": {"$ignore_sent_at": True},
    }
    [event] = events({"batch": [capture], "sent_at": "2025-10-03T10:00:00Z"})
    assert event.timestamp == RECEIVED_AT - 3_600_000_000


def test_set_calls_keep_set_in_context_and_identify_links_the_anonymous_id() -> None:
    capture = {
        "event": "$identify",
        "distinct_id": "u",
        "$set": {"email": "a@b.c"},
        "properties": {"$anon_distinct_id": "anon-1"},
    }
    [event] = events({"batch": [capture]})
    assert (event.user_id, event.anonymous_id) == ("u", "anon-1")
    assert as_json(event.context) == {"$anon_distinct_id": "anon-1", "$set": {"email": "a@b.c"}}


def test_posthog_js_arrays_take_the_key_from_properties_token_and_offset_as_time() -> None:
    body = [
        {"event": "$pageview", "offset": 1500, "properties": {"distinct_id": "d", "token": "phc"}}
    ]
    split = posthog.split_request(json.dumps(body).encode(), V0)
    assert split.api_key == "phc"
    event = posthog.normalize(split.envelopes[0], options("posthog"))
    assert event.user_id == "d" and event.timestamp == RECEIVED_AT - 1_500_000
    assert as_json(event.properties) == {"token": "phc"}


def test_a_single_capture_body_is_one_event_and_its_api_key_authenticates() -> None:
    body = {"api_key": "k1", "event": "e", "distinct_id": "d"}
    split = posthog.split_request(json.dumps(body).encode(), V0)
    assert split.api_key == "k1" and len(split.envelopes) == 1


def test_v1_events_use_top_level_session_and_options() -> None:
    capture = {
        "event": "e",
        "uuid": UUID,
        "distinct_id": "d",
        "timestamp": "2025-10-03T11:59:00Z",
        "session_id": "s9",
        "window_id": "w1",
        "options": {"process_person_profile": False, "disable_skew_correction": True},
        "properties": {"$groups": {"company": "c1"}, "k": 1},
    }
    [event] = events({"created_at": "2025-10-03T11:00:00Z", "batch": [capture]}, V1)
    assert event.session_id == "s9" and event.organization_id == "c1"
    assert (event.user_id, event.anonymous_id) == (None, "d")
    assert event.timestamp == RECEIVED_AT - 60_000_000
    assert as_json(event.properties) == {"k": 1}
    assert as_json(event.context) == {
        "$groups": {"company": "c1"},
        "$window_id": "w1",
        "$session_id": "s9",
    }


def test_uuid_of_finds_the_event_a_v1_answer_names() -> None:
    split = posthog.split_request(json.dumps({"batch": [{"uuid": UUID}]}).encode(), V1)
    assert posthog.uuid_of(split.envelopes[0]) == UUID


@pytest.mark.parametrize(
    ("capture", "opts", "field", "message"),
    [
        ({"distinct_id": "d"}, V0, "event", "`event` is required"),
        ({"event": "e"}, V0, "distinct_id", "`distinct_id` is required"),
        ({"event": "e", "distinct_id": "d"}, V1, "uuid", "`uuid` is required"),
        ({"event": "e", "distinct_id": "d", "properties": {"$groups": [1]}}, V0,
         "properties.$groups", "$groups must map group types to keys"),
        ({"event": "e", "distinct_id": "d", "properties": 3}, V0, "properties",
         "Expected `object | null`, got `int`"),
    ],
)  # fmt: skip
def test_invalid_events_are_rejected_naming_the_field(
    capture: dict[str, Any], opts: posthog.PostHogOptions, field: str, message: str
) -> None:
    with pytest.raises(InvalidEvent) as raised:
        events({"batch": [capture]}, opts)
    assert (raised.value.field, raised.value.message) == (field, message)


def test_events_above_the_size_limit_are_rejected() -> None:
    small = posthog.PostHogOptions(max_event_bytes=100)
    capture = {"event": "e", "distinct_id": "d", "properties": {"pad": "x" * 100}}
    with pytest.raises(InvalidEvent, match="the limit is 100 bytes"):
        events({"batch": [capture]}, small)


@pytest.mark.parametrize("body", [b"{", b'{"batch": {}}', b"[1", b"3"])
def test_a_body_that_is_no_capture_payload_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest, match="request body is not a PostHog capture payload"):
        posthog.split_request(body, V0)

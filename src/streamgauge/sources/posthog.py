"""PostHog capture (v0 ``/batch/``, ``/capture/``, ``/e/``; v1 analytics events) → Events.

``uuid`` is the event id, ``distinct_id`` the user (the anonymous id when
``$process_person_profile`` is false), ``$session_id`` (v1: ``session_id``)
the session, the key of a configured group type in ``$groups`` the
organization. ``$``-prefixed SDK properties go to the context, the rest stay
properties. Timestamps are corrected for the client's clock with the batch's
``sent_at`` (v1: ``created_at``) unless the event opts out, as PostHog does.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from streamgauge.errors import BadRequest
from streamgauge.model import Event
from streamgauge.sources.envelope import (
    check_size,
    decode,
    encode,
    envelope_prefix,
    enveloped,
    from_micros,
    skew_corrected,
    text_id,
)
from streamgauge.sources.native import InvalidEvent, NativeEvent, NormalizeOptions, build_event

SOURCE = "posthog"
_SKEW_OPT_OUT = "$ignore_sent_at"
_PERSONLESS = "$process_person_profile"


class PostHogOptions(msgspec.Struct, frozen=True):
    organization_group_type: str = "organization"
    max_event_bytes: int = 1024 * 1024
    v1: bool = False


class _V1Options(msgspec.Struct):
    process_person_profile: bool | None = None
    disable_skew_correction: bool | None = None


class _Capture(msgspec.Struct):
    event: str | None = None
    uuid: str | None = None
    distinct_id: str | int | None = None
    timestamp: datetime | None = None
    offset: int | None = None  # posthog-js: milliseconds before sending
    properties: dict[str, msgspec.Raw] | None = None
    set: msgspec.Raw = msgspec.field(default=msgspec.Raw(b""), name="$set")
    set_once: msgspec.Raw = msgspec.field(default=msgspec.Raw(b""), name="$set_once")
    session_id: str | None = None  # v1
    window_id: str | None = None  # v1
    options: _V1Options | None = None  # v1


class _Envelope(msgspec.Struct):
    message: msgspec.Raw
    options: PostHogOptions = PostHogOptions()
    sentAt: datetime | None = None


class _Batch(msgspec.Struct):
    """Every v0/v1 body shape: ``batch``, one event, and the keys and send times."""

    batch: list[msgspec.Raw] | None = None
    api_key: str | None = None
    token: str | None = None
    sent_at: msgspec.Raw = msgspec.Raw(b"")
    created_at: msgspec.Raw = msgspec.Raw(b"")
    properties: dict[str, msgspec.Raw] | None = None


class PostHogRequest(msgspec.Struct, frozen=True):
    envelopes: list[bytes]
    api_key: str | None


_envelope_decoder = msgspec.json.Decoder(_Envelope)
_capture_decoder = msgspec.json.Decoder(_Capture)
_batch_decoder = msgspec.json.Decoder(_Batch)
_list_decoder = msgspec.json.Decoder(list[msgspec.Raw])
_text_decoder = msgspec.json.Decoder(str | int | None)
_groups_decoder = msgspec.json.Decoder(dict[str, str | int | None] | None)
_bool_decoder = msgspec.json.Decoder(bool | str | int | None)


class _Head(msgspec.Struct):
    uuid: str | None = None
    api_key: str | None = None
    properties: dict[str, msgspec.Raw] | None = None


_head_decoder = msgspec.json.Decoder(_Head)


def split_request(body: bytes, options: PostHogOptions) -> PostHogRequest:
    """A capture body (a batch, an array, or one event) → one envelope per event."""
    try:
        if body.lstrip()[:1] == b"[":
            events, head = _list_decoder.decode(body), _Batch()
        else:
            head = _batch_decoder.decode(body)
            events = head.batch if head.batch is not None else [msgspec.Raw(body)]
    except msgspec.DecodeError as error:
        raise BadRequest(f"request body is not a PostHog capture payload: {error}") from None
    sent_at = bytes(head.created_at if options.v1 else head.sent_at) or None
    prefix = envelope_prefix({"options": encode(options), "sentAt": sent_at})
    api_key = head.api_key or head.token or _property_token(head.properties)
    if api_key is None and events:
        first = _first_head(events[0])
        api_key = first.api_key or _property_token(first.properties)
    return PostHogRequest([enveloped(prefix, raw) for raw in events], api_key)


def _first_head(raw: msgspec.Raw) -> _Head:
    # posthog-js puts the key in each event; a malformed event is rejected later, on its own.
    try:
        return _head_decoder.decode(raw)
    except msgspec.DecodeError:
        return _Head()


def uuid_of(envelope: bytes) -> str | None:
    """The ``uuid`` of an envelope's event, where it has one (v1 answers per uuid)."""
    try:
        return _head_decoder.decode(_envelope_decoder.decode(envelope).message).uuid
    except msgspec.DecodeError:
        return None


def normalize(raw: bytes, options: NormalizeOptions) -> Event:
    """One envelope → a canonical Event, or :class:`InvalidEvent`."""
    envelope = decode(_envelope_decoder, raw)
    mapping = envelope.options
    check_size(envelope.message, mapping.max_event_bytes)
    capture = decode(_capture_decoder, envelope.message)
    if not capture.event:
        raise InvalidEvent("event", "`event` is required")
    if mapping.v1 and not capture.uuid:
        raise InvalidEvent("uuid", "`uuid` is required")
    sdk, properties = _split_properties(capture.properties or {})
    distinct_id = text_id(capture.distinct_id) or _text(properties.pop("distinct_id", None))
    if distinct_id is None:
        raise InvalidEvent("distinct_id", "`distinct_id` is required")
    v1 = capture.options or _V1Options()
    personless = v1.process_person_profile is False or _flag(sdk.get(_PERSONLESS)) is False
    skew_opt_out = bool(v1.disable_skew_correction) or bool(_flag(sdk.get(_SKEW_OPT_OUT)))
    timestamp = capture.timestamp
    if timestamp is None and capture.offset is not None:
        timestamp = from_micros(options.received_at - capture.offset * 1000)
    elif not skew_opt_out:
        timestamp = skew_corrected(timestamp, envelope.sentAt, options.received_at)
    for name, value in (("$set", capture.set), ("$set_once", capture.set_once)):
        if value:
            sdk[name] = value
    native = NativeEvent(
        event=capture.event,
        id=capture.uuid,
        timestamp=timestamp,
        userId=None if personless else distinct_id,
        anonymousId=distinct_id if personless else _text(sdk.get("$anon_distinct_id")),
        sessionId=capture.session_id or _text(sdk.get("$session_id")),
        organizationId=_organization(sdk.get("$groups"), mapping.organization_group_type),
        properties=msgspec.Raw(encode(properties)),
        context=msgspec.Raw(encode(_v1_facts(sdk, capture))),
    )
    return build_event(native, options)


def _split_properties(
    properties: dict[str, msgspec.Raw],
) -> tuple[dict[str, msgspec.Raw], dict[str, msgspec.Raw]]:
    sdk = {k: v for k, v in properties.items() if k.startswith("$")}
    return sdk, {k: v for k, v in properties.items() if not k.startswith("$")}


def _v1_facts(sdk: dict[str, msgspec.Raw], capture: _Capture) -> dict[str, object]:
    context: dict[str, object] = dict(sdk)
    if capture.window_id is not None:
        context["$window_id"] = capture.window_id
    if capture.session_id is not None:
        context["$session_id"] = capture.session_id
    return context


def _organization(groups: msgspec.Raw | None, group_type: str) -> str | None:
    if groups is None or not group_type:
        return None
    try:
        decoded = _groups_decoder.decode(groups)
    except msgspec.DecodeError:
        raise InvalidEvent("properties.$groups", "$groups must map group types to keys") from None
    return text_id((decoded or {}).get(group_type))


def _text(raw: msgspec.Raw | None) -> str | None:
    if raw is None:
        return None
    try:
        return text_id(_text_decoder.decode(raw))
    except msgspec.DecodeError:
        return None


def _flag(raw: msgspec.Raw | None) -> bool | None:
    """A PostHog boolean property: true/false, "true"/"false", 1/0."""
    if raw is None:
        return None
    try:
        value = _bool_decoder.decode(raw)
    except msgspec.DecodeError:
        return None
    if isinstance(value, str):
        return {"true": True, "1": True, "false": False, "0": False}.get(value.strip().lower())
    return None if value is None else bool(value)


def _property_token(properties: dict[str, msgspec.Raw] | None) -> str | None:
    raw = (properties or {}).get("token")
    return _text(raw)

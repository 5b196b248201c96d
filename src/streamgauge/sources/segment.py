"""The Segment / RudderStack HTTP tracking API: batches and calls → Events.

Calls are ``track``, ``identify``, ``page``, ``screen``, ``group`` and
``alias``. A track call's ``event`` names the event; every other call becomes
an event named after its type (a ``page`` call is a ``page`` event).
``messageId`` is the event id (dedup), the timestamp is corrected for the
client's clock with ``sentAt``, identify and group traits (RudderStack sends
identify traits under ``context.traits``) become the properties, and a batch's
top-level ``context`` is merged under each call's own.
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
    skew_corrected,
    text_id,
)
from streamgauge.sources.native import InvalidEvent, NativeEvent, NormalizeOptions, build_event

SOURCE = "segment"
CALL_TYPES = ("track", "identify", "page", "screen", "group", "alias")
_TRAIT_CALLS = ("identify", "group")


class SegmentOptions(msgspec.Struct, frozen=True):
    group_as_organization: bool = True
    max_event_bytes: int = 32 * 1024


class _Envelope(msgspec.Struct):
    message: msgspec.Raw
    options: SegmentOptions = SegmentOptions()
    type: str | None = None  # the call a single-call endpoint's path names
    sentAt: datetime | None = None
    context: dict[str, msgspec.Raw] | None = None  # the batch's context


class _Call(msgspec.Struct):
    type: str | None = None
    event: str | None = None
    name: str | None = None
    category: str | None = None
    messageId: str | int | None = None
    userId: str | int | None = None
    anonymousId: str | int | None = None
    groupId: str | int | None = None
    previousId: str | int | None = None
    timestamp: datetime | None = None
    originalTimestamp: datetime | None = None
    sentAt: datetime | None = None
    channel: str | None = None
    properties: msgspec.Raw = msgspec.Raw(b"")
    traits: msgspec.Raw = msgspec.Raw(b"")
    context: dict[str, msgspec.Raw] | None = None


class _Batch(msgspec.Struct):
    batch: list[msgspec.Raw]
    writeKey: str | None = None
    sentAt: msgspec.Raw = msgspec.Raw(b"")
    context: msgspec.Raw = msgspec.Raw(b"")


class _Single(msgspec.Struct):
    writeKey: str | None = None


class SegmentRequest(msgspec.Struct, frozen=True):
    """A request split into envelopes, with the write key its body carried."""

    envelopes: list[bytes]
    write_key: str | None


_envelope_decoder = msgspec.json.Decoder(_Envelope)
_call_decoder = msgspec.json.Decoder(_Call)
_batch_decoder = msgspec.json.Decoder(_Batch)
_single_decoder = msgspec.json.Decoder(_Single)
_text_decoder = msgspec.json.Decoder(str)


def split_request(body: bytes, call: str | None, options: SegmentOptions) -> SegmentRequest:
    """``POST /v1/batch`` (``call`` None) or ``/v1/<call>`` → one envelope per call."""
    fields: dict[str, bytes | None] = {"options": encode(options)}
    try:
        if call is None:
            batch = _batch_decoder.decode(body)
            fields["sentAt"] = bytes(batch.sentAt) or None
            fields["context"] = bytes(batch.context) or None
            prefix = envelope_prefix(fields)
            return SegmentRequest([enveloped(prefix, raw) for raw in batch.batch], batch.writeKey)
        single = _single_decoder.decode(body)
    except msgspec.DecodeError as error:
        raise BadRequest(f"request body is not a Segment {call or 'batch'}: {error}") from None
    fields["type"] = encode(call)
    return SegmentRequest([enveloped(envelope_prefix(fields), body)], single.writeKey)


def normalize(raw: bytes, options: NormalizeOptions) -> Event:
    """One envelope → a canonical Event, or :class:`InvalidEvent`."""
    envelope = decode(_envelope_decoder, raw)
    mapping = envelope.options
    check_size(envelope.message, mapping.max_event_bytes)
    call = decode(_call_decoder, envelope.message)
    kind = (call.type or envelope.type or "").lower()
    if kind not in CALL_TYPES:
        raise InvalidEvent("type", f"type must be one of {', '.join(CALL_TYPES)}")
    if kind == "track" and not call.event:
        raise InvalidEvent("event", "a track call needs `event`")
    user_id, anonymous_id = text_id(call.userId), text_id(call.anonymousId)
    if user_id is None and anonymous_id is None:
        raise InvalidEvent("userId", "every call needs userId or anonymousId")
    context = {**(envelope.context or {}), **(call.context or {})}
    group_id = text_id(call.groupId)
    organization = None
    if mapping.group_as_organization:
        organization = group_id if kind == "group" else _context_text(context, "groupId")
    timestamp = skew_corrected(
        call.timestamp or call.originalTimestamp,
        call.sentAt or envelope.sentAt,
        options.received_at,
    )
    native = NativeEvent(
        event=call.event if kind == "track" and call.event else kind,
        messageId=text_id(call.messageId),
        timestamp=timestamp,
        userId=user_id,
        anonymousId=anonymous_id,
        organizationId=organization,
        properties=_properties(kind, call, context),
        context=msgspec.Raw(encode({**context, **_call_facts(kind, call, group_id)})),
    )
    return build_event(native, options)


def _properties(kind: str, call: _Call, context: dict[str, msgspec.Raw]) -> msgspec.Raw:
    if kind in _TRAIT_CALLS:
        return call.traits if call.traits else context.get("traits", msgspec.Raw(b""))
    return call.properties


def _call_facts(kind: str, call: _Call, group_id: str | None) -> dict[str, object]:
    """What the call says beside its properties, kept in the event's context."""
    facts: dict[str, object] = {"type": kind}
    for name, value in (
        ("name", call.name),
        ("category", call.category),
        ("groupId", group_id),
        ("previousId", text_id(call.previousId)),
        ("channel", call.channel),
    ):
        if value is not None:
            facts[name] = value
    return facts


def _context_text(context: dict[str, msgspec.Raw], key: str) -> str | None:
    raw = context.get(key)
    if raw is None:
        return None
    try:
        return _text_decoder.decode(raw) or None
    except msgspec.DecodeError:
        raise InvalidEvent(f"context.{key}", f"context.{key} must be a string") from None

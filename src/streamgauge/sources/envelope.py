"""What the protocol sources share: per-event envelopes, times, decoding errors.

A request of another protocol is split into one self-contained JSON
*envelope* per event: the event exactly as the client sent it (``message``)
beside what the request adds to it (a batch's ``sentAt`` or ``context``, a
header's organization) and the mapping options in force (``options``). The
envelope is the raw payload the ingestor normalizes and the dead-letter store
keeps, so a replay maps an event exactly as its request would have.
Envelopes are built by concatenating bytes: the message is never re-encoded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import msgspec

from streamgauge.sources.native import InvalidEvent, _invalid

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T = TypeVar("T")
_json = msgspec.json.Encoder()


def envelope_prefix(fields: Mapping[str, bytes | None]) -> bytes:
    """The bytes before each message of a request: its fields given as raw JSON values."""
    parts = b"".join(
        b'"%s":%s,' % (name.encode(), value) for name, value in fields.items() if value
    )
    return b"{" + parts + b'"message":'


def enveloped(prefix: bytes, message: bytes) -> bytes:
    return prefix + message + b"}"


def encode(value: object) -> bytes:
    return _json.encode(value)


def decode(decoder: msgspec.json.Decoder[T], raw: bytes) -> T:
    """``raw`` decoded, or :class:`InvalidEvent` naming the field at fault."""
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as error:
        raise _invalid(error) from None
    except msgspec.DecodeError as error:
        raise InvalidEvent("", f"not valid JSON: {error}") from None


def check_size(message: msgspec.Raw, limit: int) -> None:
    if len(message) > limit:
        raise InvalidEvent("", f"event is {len(message)} bytes; the limit is {limit} bytes")


def micros(value: datetime) -> int:
    """Microseconds since the epoch; a time without an offset is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def skew_corrected(
    timestamp: datetime | None, sent_at: datetime | None, received_at: int
) -> datetime | None:
    """``timestamp + (received_at - sent_at)``: the client's clock error taken out."""
    if timestamp is None or sent_at is None:
        return timestamp
    return from_micros(micros(timestamp) + received_at - micros(sent_at))


def text_id(value: str | int | None) -> str | None:
    """An identifier as text: clients send numbers for ids now and then."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)

import uuid

from streamgauge_client import uuid7
from streamgauge_client._uuid7 import uuid7_unix_ms


def test_uuid7_has_version_7_and_the_rfc_9562_variant() -> None:
    value = uuid.UUID(uuid7())
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_uuid7_embeds_the_unix_milliseconds() -> None:
    unix_ns = 1_759_492_800_123_456_789  # 2025-10-03T12:00:00.123456789Z
    event_id = uuid7(unix_ns)
    assert uuid7_unix_ms(event_id) == 1_759_492_800_123
    # 48-bit ms, version 7, then 0.456789 ms as 12 bits (0x74f), then the variant bits 10
    assert event_id.startswith("0199a9f1-7e7b-774f-")
    assert event_id[19] in "89ab"


def test_uuid7_sorts_by_creation_time_even_within_one_millisecond() -> None:
    base = 1_759_492_800_123_000_000
    ids = [uuid7(base + step * 250_000) for step in range(4)]  # four in the same millisecond
    ids.append(uuid7(base + 1_000_000))
    assert ids == sorted(ids)


def test_uuid7_is_unique() -> None:
    ids = {uuid7(1_759_492_800_123_000_000) for _ in range(10_000)}
    assert len(ids) == 10_000

"""UUIDv7 event ids (RFC 9562), generated on the client so a retried batch is never counted twice.

Layout: 48 bits of Unix milliseconds, version 7, 12 bits of sub-millisecond time (RFC 9562
§6.2 method 3, so ids from one process sort by creation time), variant ``10``, 62 random bits.
"""

from __future__ import annotations

import os
import time

_RAND_B_MASK = (1 << 62) - 1


def uuid7(unix_ns: int | None = None) -> str:
    """A new UUIDv7 in canonical text form; ``unix_ns`` fixes the embedded time (tests)."""
    ns = time.time_ns() if unix_ns is None else unix_ns
    ms, sub_ms_ns = divmod(ns, 1_000_000)
    rand_a = (sub_ms_ns << 12) // 1_000_000  # the fraction of the millisecond, in 12 bits
    rand_b = int.from_bytes(os.urandom(8)) & _RAND_B_MASK
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid7_unix_ms(event_id: str) -> int:
    """The Unix milliseconds embedded in a UUIDv7."""
    return int(event_id.replace("-", "")[:12], 16)

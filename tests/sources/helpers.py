"""What the protocol source tests share: normalize options and an envelope's Event."""

from __future__ import annotations

import json
from typing import Any

from streamgauge.sources.native import NormalizeOptions

RECEIVED_AT = 1_759_492_800_000_000  # 2025-10-03T12:00:00Z in µs


def options(source: str) -> NormalizeOptions:
    return NormalizeOptions(
        project_id="p1",
        received_at=RECEIVED_AT,
        max_future_us=3_600_000_000,
        max_name_length=256,
        max_event_bytes=256 * 1024,
        source=source,
    )


def as_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)

"""Billing periods: ``"2025-10"`` or an explicit ``[start, end)`` as UTC instants.

A month period starts at local midnight of its first day in ``billing.timezone``
and ends where the next month starts, so it is exactly one calendar month there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from streamgauge.errors import ValidationFailed
from streamgauge.query.timerange import (
    TimeRange,
    bucket_start,
    make_range,
    parse_timezone,
    step_back,
)

_MONTH: Final = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, slots=True)
class Period:
    """What an invoice covers: a label (``2025-10``, or None for a range) and its range."""

    label: str | None
    range: TimeRange

    @property
    def start(self) -> datetime:
        return self.range.start

    @property
    def end(self) -> datetime:
        return self.range.end


def resolve_period(
    period: str | None, start: str | None, end: str | None, timezone: str, now: datetime
) -> Period:
    """A month (``period``) or a range (``start`` and ``end``), never both."""
    if period is not None:
        if start is not None or end is not None:
            raise ValidationFailed(
                "give either period ('2025-10') or start and end, not both",
                details={"field": "period"},
            )
        match = _MONTH.match(period)
        if match is None:
            raise ValidationFailed(
                f"period: {period!r} is not a month; use YYYY-MM like '2025-10'",
                details={"field": "period"},
            )
        tz = parse_timezone(timezone)
        first = datetime(int(match[1]), int(match[2]), 1, tzinfo=tz)
        month_start = bucket_start(first, "month", tz)
        month_end = step_back(month_start, -1, "month", tz)
        return Period(period, TimeRange(month_start, month_end, "none", tz))
    if start is None or end is None:
        raise ValidationFailed(
            "give period ('2025-10') or both start and end (ISO-8601, half-open)",
            details={"field": "period"},
        )
    return Period(None, make_range(start, end, "none", timezone, now))

"""Exceptions of the archive tier (to be folded into streamgauge.errors by the lead)."""

from __future__ import annotations

from streamgauge.errors import StreamgaugeError


class ArchiveConflict(StreamgaugeError):
    """A concurrent commit made this archive operation unsafe; retry it later."""

    status = 409
    code = "archive_conflict"
    transient = True

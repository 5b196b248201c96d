"""Type aliases shared by the client and the middleware."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeAlias

from streamgauge_client._errors import DeliveryError

#: One event in the native wire shape (``{"id", "event", "timestamp", ...}``).
Event: TypeAlias = dict[str, Any]
#: Free-form event properties; values must be JSON-serialisable (others are sent as ``str``).
Properties: TypeAlias = Mapping[str, Any]
#: An explicit event time: an aware ``datetime`` (naive means UTC), ISO-8601 text or epoch ms.
Timestamp: TypeAlias = datetime | str | int | float
#: Called with every delivery problem, from the background sender, never from the caller.
ErrorCallback: TypeAlias = Callable[[DeliveryError], None]

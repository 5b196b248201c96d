"""Type aliases shared across the package."""

from __future__ import annotations

from typing import Any, TypeAlias

JSONValue: TypeAlias = Any
JSONObject: TypeAlias = dict[str, Any]
Offset: TypeAlias = int
"""A position in the event log: the first event has offset 1, 0 means 'nothing'."""
Micros: TypeAlias = int
"""A UTC instant as microseconds since the Unix epoch."""

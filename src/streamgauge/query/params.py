"""Bound parameters: the only way user values reach SQL."""

from __future__ import annotations

from typing import Any


class Params:
    """Collects values and hands out ``$pN`` placeholders for them.

    An equal value (of the same type) gets the same placeholder, so an
    expression built twice binds identically and no placeholder is left unused.
    """

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._known: dict[tuple[type, Any], str] = {}

    def add(self, value: Any) -> str:
        key = (type(value), value)
        if key in self._known:
            return self._known[key]
        name = f"p{len(self.values)}"
        self.values[name] = value
        self._known[key] = f"${name}"
        return f"${name}"

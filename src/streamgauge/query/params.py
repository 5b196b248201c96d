"""Bound parameters: the only way user values reach SQL."""

from __future__ import annotations

from typing import Any


class Params:
    """Collects values and hands out ``$pN`` placeholders for them."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"

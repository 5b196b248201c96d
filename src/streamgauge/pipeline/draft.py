"""A Draft: one event while the pipeline works on it, and the conditions steps test.

``properties`` and ``context`` travel as JSON text; a Draft decodes each only
when a step reads or writes inside it, and encodes it again only if it changed,
so steps that touch columns alone cost no JSON work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from streamgauge.model import Event
from streamgauge.model.event import COLUMNS
from streamgauge.pipeline.config import Condition, FieldTest, glob_matcher

_MISSING: Final = object()
_decode = msgspec.json.decode
_encode = msgspec.json.encode


@dataclass(frozen=True, slots=True)
class FieldPath:
    """``user_id`` → (None, "user_id"); ``properties.a.b`` → ("properties", ("a", "b"))."""

    text: str
    root: str | None
    keys: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> FieldPath:
        root, _, rest = text.partition(".")
        if not rest:
            return cls(text, None, (text,))
        return cls(text, root, tuple(rest.split(".")))


class Draft:
    """An event being transformed; ``finish()`` gives the Event back."""

    __slots__ = ("_dirty", "_objects", "event", "violations")

    def __init__(self, event: Event) -> None:
        self.event = event
        self._objects: dict[str, Any] = {}
        self._dirty: set[str] = set()
        self.violations: list[str] = []

    def _object(self, root: str, *, create: bool) -> dict[str, Any] | None:
        found = self._objects.get(root, _MISSING)
        if found is _MISSING:
            text = getattr(self.event, root)
            found = _decode(text) if text else None
            if not isinstance(found, dict):
                found = None
            self._objects[root] = found
        if found is None and create:
            found = self._objects[root] = {}
        return found  # type: ignore[no-any-return]

    def object(self, root: str) -> dict[str, Any] | None:
        """The decoded ``properties`` or ``context`` (None when absent); read-only use."""
        return self._object(root, create=False)

    def touch(self, root: str) -> dict[str, Any]:
        """The decoded object, created if absent, marked changed (for in-place edits)."""
        self._dirty.add(root)
        found = self._object(root, create=True)
        assert found is not None
        return found

    def get(self, path: FieldPath, default: Any = None) -> Any:
        if path.root is None:
            return getattr(self.event, path.keys[0], default)
        node: Any = self._objects.get(path.root, _MISSING)
        if node is _MISSING:
            node = self._object(path.root, create=False)
        for key in path.keys:
            if node.__class__ is not dict:
                return default
            node = node.get(key, _MISSING)
            if node is _MISSING:
                return default
        return node

    def has(self, path: FieldPath) -> bool:
        return self.get(path, _MISSING) is not _MISSING and self.get(path) is not None

    def set(self, path: FieldPath, value: Any) -> None:
        if path.root is None:
            setattr(self.event, path.keys[0], coerce_column(path.keys[0], value))
            return
        node = self.touch(path.root)
        for key in path.keys[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[path.keys[-1]] = value

    def delete(self, path: FieldPath) -> Any:
        """Remove the field; returns its value (None when absent)."""
        if path.root is None:
            value = getattr(self.event, path.keys[0])
            setattr(self.event, path.keys[0], None)
            return value
        node: Any = self._object(path.root, create=False)
        for key in path.keys[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict) or path.keys[-1] not in node:
            return None
        self._dirty.add(path.root)
        return node.pop(path.keys[-1])

    def snapshot(self) -> Event:
        """A copy of the event as it stands, the draft left open (for traces)."""
        event = msgspec.structs.replace(self.event)
        objects = {root: self._objects.get(root) for root in self._dirty}
        if self.violations:
            context = dict(self._object("context", create=False) or {})
            objects["context"] = {**context, "schema_violations": list(self.violations)}
        for root, value in objects.items():
            setattr(event, root, _encode(value).decode() if value else None)
        return event

    def finish(self) -> Event:
        if self.violations:
            self.touch("context")["schema_violations"] = self.violations
        for root in self._dirty:
            value = self._objects.get(root)
            setattr(self.event, root, _encode(value).decode() if value else None)
        self._dirty.clear()
        return self.event


Test = Callable[[Draft], bool]


def compile_condition(condition: Condition | None) -> Test | None:
    """A predicate for ``condition`` (None: every event)."""
    if condition is None:
        return None
    event = glob_matcher(condition.event)
    project = glob_matcher(condition.project)
    tests = [_field_test(t) for t in condition.where]

    def matches(draft: Draft) -> bool:
        if event is not None and not event.match(draft.event.event):
            return False
        if project is not None and not project.match(draft.event.project_id):
            return False
        return all(test(draft) for test in tests)

    return matches


def _field_test(test: FieldTest) -> Test:
    path, op, expected = FieldPath.parse(test.field), test.op, test.value
    if op == "exists":
        return lambda d: d.has(path)
    if op == "not_exists":
        return lambda d: not d.has(path)
    if op in ("in", "not_in"):
        values = set(expected) if isinstance(expected, list) else {expected}
        wanted = op == "in"
        return lambda d: (
            _hashable(d.get(path)) in values if wanted else (_hashable(d.get(path)) not in values)
        )
    if op == "matches":
        regex = re.compile(str(expected))
        return lambda d: isinstance(v := d.get(path), str) and regex.search(v) is not None
    if op in ("gt", "gte", "lt", "lte"):
        compare = _COMPARE[op]
        return lambda d: (
            _number(d.get(path)) is not None and compare(_number(d.get(path)), expected)
        )
    if op == "neq":
        return lambda d: d.get(path) != expected
    return lambda d: d.get(path) == expected


_COLUMN_TYPES: Final = {c.name: c.sql_type for c in COLUMNS}


def coerce_column(name: str, value: Any) -> Any:
    """``value`` as the column's type, None when it cannot be (the log must stay typed)."""
    kind = _COLUMN_TYPES[name]
    if value is None or isinstance(value, dict | list):
        return None
    if kind == "VARCHAR":
        return value if isinstance(value, str) else msgspec.json.encode(value).decode()
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if kind == "DOUBLE":
        return number if number == number and abs(number) != float("inf") else None
    return int(number) if number.is_integer() and -(2**31) <= number < 2**31 else None


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}

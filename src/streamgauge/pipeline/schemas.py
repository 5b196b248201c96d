"""Event schemas: the properties an event must or may carry, checked per event.

The first schema whose event glob (and project glob) matches decides; events no
schema matches follow ``unknown_events`` (per project when given). Messages name
the property and the rule, never the value: dead letters and tags must not
carry what a redact or hash step would have removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

from streamgauge.pipeline.config import EventSchema, PipelineSettings, PropertyRule, glob_matcher
from streamgauge.pipeline.draft import Draft, FieldPath

_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "any": lambda v: True,
}


@dataclass(frozen=True, slots=True)
class Violation:
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    path: FieldPath
    rule: PropertyRule
    pattern: re.Pattern[str] | None
    enum: frozenset[Any] | None


class _Compiled:
    def __init__(self, schema: EventSchema) -> None:
        self.schema = schema
        self.event = glob_matcher(schema.event)
        self.project = glob_matcher(schema.project)
        self.rules = [
            _Rule(name, FieldPath.parse(f"properties.{name}"), rule,
                  re.compile(rule.pattern) if rule.pattern is not None else None,
                  frozenset(_hashable(v) for v in rule.enum) if rule.enum is not None else None)
            for name, rule in schema.properties.items()
        ]  # fmt: skip
        self.top_level = {name.split(".")[0] for name in schema.properties}
        self.fast = _fast_decoder(schema)

    def check(self, draft: Draft) -> list[Violation]:
        if self.fast is not None:
            try:
                self.fast.decode(draft.event.properties or "{}")
            except msgspec.ValidationError:
                pass  # the rules below say exactly what is wrong
            else:
                return []
        found = [v for r in self.rules if (v := _check_rule(draft, r)) is not None]
        if not self.schema.additional_properties:
            extra = sorted((draft.object("properties") or {}).keys() - self.top_level)
            found += [Violation(f"properties.{k}", "is not allowed by the schema") for k in extra]
        return found


def _check_rule(draft: Draft, compiled: _Rule) -> Violation | None:
    rule, where = compiled.rule, compiled.path.text
    value = draft.get(compiled.path)
    if value is None:
        return Violation(where, "is required") if rule.required else None
    if not _TYPES[rule.type](value):
        return Violation(where, f"must be of type {rule.type}")
    if compiled.enum is not None and _hashable(value) not in compiled.enum:
        return Violation(where, f"must be one of {rule.enum}")
    if isinstance(value, str):
        if 0 <= rule.max_length < len(value):
            return Violation(where, f"must be at most {rule.max_length} characters")
        if compiled.pattern is not None and compiled.pattern.search(value) is None:
            return Violation(where, f"must match {compiled.pattern.pattern!r}")
    return None


def _hashable(value: Any) -> Any:
    # 1 == True in a set; the JSON type must match too, so booleans are kept apart.
    if isinstance(value, bool):
        return ("bool", value)
    return value if isinstance(value, str | int | float) or value is None else ("other", id(value))


def _fast_decoder(schema: EventSchema) -> msgspec.json.Decoder[Any] | None:
    """The schema as a msgspec type, validated in C: valid events (the common case) never
    reach the Python rules. None when a rule has no exact msgspec equivalent."""
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for name, rule in schema.properties.items():
        if "." in name or (rule.enum is not None and rule.type != "string"):
            return None
        if rule.type == "any" and rule.required:  # msgspec's Any takes null; required does not
            return None
        if rule.enum is not None:
            if not all(isinstance(v, str) for v in rule.enum):
                return None
            kind: Any = Literal[tuple(rule.enum)]
        else:
            kind = _MSGSPEC_TYPES[rule.type]
        if rule.type == "string" and (rule.pattern is not None or rule.max_length >= 0):
            limits: dict[str, Any] = {} if rule.pattern is None else {"pattern": rule.pattern}
            if rule.max_length >= 0:
                limits["max_length"] = rule.max_length
            kind = Annotated[kind, msgspec.Meta(**limits)]
        fields.append((name, kind) if rule.required else (name, kind | None, None))
    shape = msgspec.defstruct(
        "SchemaProperties", fields, kw_only=True,
        forbid_unknown_fields=not schema.additional_properties,
    )  # fmt: skip
    return msgspec.json.Decoder(shape)


_MSGSPEC_TYPES: dict[str, Any] = {
    "string": str, "integer": int, "number": int | float, "boolean": bool,
    "object": dict[str, Any], "array": list[Any], "any": Any,
}  # fmt: skip


class SchemaCheck:
    """Decides, per event: pass, tag (violations recorded) or reject (the first violation)."""

    def __init__(self, settings: PipelineSettings) -> None:
        self.schemas = [_Compiled(s) for s in settings.schemas]
        self.default_unknown = settings.unknown_events if settings.schemas else "accept"
        self.per_project = settings.project_unknown_events

    def check(self, draft: Draft) -> Violation | None:
        """A violation to reject the event with, or None (tag violations go on the draft)."""
        event, project = draft.event.event, draft.event.project_id
        for compiled in self.schemas:
            if compiled.event is not None and not compiled.event.match(event):
                continue
            if compiled.project is not None and not compiled.project.match(project):
                continue
            found = compiled.check(draft)
            if not found:
                return None
            if compiled.schema.on_violation == "reject":
                return found[0]
            draft.violations += [f"{v.field}: {v.message}" for v in found]
            return None
        action = self.per_project.get(project, self.default_unknown)
        if action == "reject":
            return Violation("event", f"no schema accepts events named {event!r}")
        if action == "tag":
            draft.violations.append(f"event: no schema for {event!r}")
        return None

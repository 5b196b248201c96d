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
from typing import Any

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


class _Compiled:
    def __init__(self, schema: EventSchema) -> None:
        self.schema = schema
        self.event = glob_matcher(schema.event)
        self.project = glob_matcher(schema.project)
        self.rules = [
            _Rule(name, FieldPath.parse(f"properties.{name}"), rule,
                  re.compile(rule.pattern) if rule.pattern is not None else None)
            for name, rule in schema.properties.items()
        ]  # fmt: skip
        self.top_level = {name.split(".")[0] for name in schema.properties}

    def check(self, draft: Draft) -> list[Violation]:
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
    if rule.enum is not None and value not in rule.enum:
        return Violation(where, f"must be one of {rule.enum}")
    if isinstance(value, str):
        if 0 <= rule.max_length < len(value):
            return Violation(where, f"must be at most {rule.max_length} characters")
        if compiled.pattern is not None and compiled.pattern.search(value) is None:
            return Violation(where, f"must match {compiled.pattern.pattern!r}")
    return None


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

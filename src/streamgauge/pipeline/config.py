"""The ``pipeline:`` section: schemas, enrichment, transforms, custom columns, destinations.

Declared once here (typed, defaulted, documented) and validated at start-up by
``config.load_settings``; what msgspec cannot check on its own (regexes that
compile, keys in the environment, column names that clash) is checked in
``__post_init__`` so the error names the key. docs/pipeline.md explains each part;
the repository's ``streamgauge.yaml`` shows every option.
"""

from __future__ import annotations

import fnmatch
import os
import re
from typing import Annotated, Any, Final, Literal

import msgspec

from streamgauge.model.event import COLUMN_NAMES

FIELD_PATTERN: Final = r"^((properties|context)(\.[A-Za-z_$][A-Za-z0-9_$\-]{0,63}){1,8}|[a-z_]+)$"
PROTECTED_COLUMNS: Final = frozenset({"project_id", "event_id", "timestamp", "received_at"})
"""Identity and time: dedup and the log rely on them, so no transform may change them."""

_FIELD = re.compile(FIELD_PATTERN)


def _doc(text: str, **constraints: Any) -> msgspec.Meta:
    return msgspec.Meta(description=text, **constraints)


def check_field(name: str, *, writable: bool = False) -> None:
    """``name`` is a canonical column or ``properties.<path>`` / ``context.<path>``."""
    if not _FIELD.match(name) or ("." not in name and name not in COLUMN_NAMES):
        raise ValueError(
            f"{name!r} is not a field: use a column or properties.<path> / context.<path>"
        )
    if writable and name in PROTECTED_COLUMNS | {"properties", "context"}:
        raise ValueError(
            f"{name!r} cannot be changed (identity, time and whole JSON columns are fixed)"
        )


def _check_regex(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"{pattern!r} is not a valid regular expression: {error}") from None


Scalar = str | int | float | bool | None
Op = Literal["eq", "neq", "in", "not_in", "exists", "not_exists", "matches", "gt", "gte", "lt",
             "lte"]  # fmt: skip


class FieldTest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    field: Annotated[str, _doc("A column or properties.<path> / context.<path>.")]
    op: Annotated[Op, _doc("How the field's value is compared.")] = "eq"
    value: Annotated[Scalar | list[Scalar], _doc("What it is compared with.")] = None

    def __post_init__(self) -> None:
        check_field(self.field)
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op} needs a list value")
        if self.op == "matches":
            _check_regex(str(self.value))


class Condition(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Which events a step applies to: every part given must hold."""

    event: Annotated[str | list[str] | None, _doc("Event name glob(s), e.g. 'page.*'.")] = None
    project: Annotated[str | list[str] | None, _doc("Project id glob(s).")] = None
    where: Annotated[list[FieldTest], _doc("Field tests that must all hold.")] = []


class PropertyRule(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    type: Annotated[
        Literal["string", "integer", "number", "boolean", "object", "array", "any"],
        _doc("The JSON type the value must have."),
    ] = "any"
    required: Annotated[bool, _doc("The property must be present (and not null).")] = False
    enum: Annotated[list[Scalar] | None, _doc("The only values allowed.")] = None
    pattern: Annotated[str | None, _doc("A regex a string value must match (search).")] = None
    max_length: Annotated[int, _doc("Longest string value (-1: no limit).", ge=-1)] = -1

    def __post_init__(self) -> None:
        if self.pattern is not None:
            _check_regex(self.pattern)


class EventSchema(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    event: Annotated[str, _doc("Event name or glob this schema applies to.", min_length=1)]
    project: Annotated[str, _doc("Project id glob the schema applies to.")] = "*"
    properties: Annotated[dict[str, Any], _doc("PropertyRule per property path.")] = {}
    additional_properties: Annotated[bool, _doc("Properties without a rule are allowed.")] = True
    on_violation: Annotated[
        Literal["reject", "tag"],
        _doc("reject: 4xx for the event and a dead letter; tag: accepted, marked in "
             "context.schema_violations."),
    ] = "reject"  # fmt: skip

    def __post_init__(self) -> None:
        # Converted here so an error names the property (msgspec says `properties[...]`).
        rules: dict[str, PropertyRule] = {}
        for path, rule in self.properties.items():
            check_field(f"properties.{path}")
            try:
                rules[path] = msgspec.convert(rule, PropertyRule, strict=False)
            except msgspec.ValidationError as error:
                message, _, where = str(error).rpartition(" - at `$")
                key = f"properties.{path}{where.rstrip('`')}"
                raise ValueError(f"{key}: {message or error}") from None
        self.properties = rules


class _Step(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, tag_field="type"):
    when: Annotated[Condition | None, _doc("Apply only to events matching this.")] = None


class DropTransform(_Step, tag="drop", kw_only=True):
    fields: list[str]

    def __post_init__(self) -> None:
        for name in self.fields:
            check_field(name, writable=True)


class RenameTransform(_Step, tag="rename", kw_only=True):
    fields: dict[str, str]

    def __post_init__(self) -> None:
        for source, target in self.fields.items():
            check_field(source, writable=True)
            check_field(target, writable=True)


class SetTransform(_Step, tag="set", kw_only=True):
    values: dict[str, Any]

    def __post_init__(self) -> None:
        for name in self.values:
            check_field(name, writable=True)


class DefaultTransform(_Step, tag="default", kw_only=True):
    values: dict[str, Any]

    def __post_init__(self) -> None:
        for name in self.values:
            check_field(name, writable=True)


RedactPattern = Literal["email", "card", "bearer", "ip"]


class RedactTransform(_Step, tag="redact", kw_only=True):
    patterns: list[RedactPattern] = msgspec.field(
        default_factory=lambda: ["email", "card", "bearer", "ip"]
    )
    custom: list[str] = []
    fields: list[str] = []
    """Empty: every string in properties and context, and the free-text columns."""
    replacement: str = "[redacted]"

    def __post_init__(self) -> None:
        for pattern in self.custom:
            _check_regex(pattern)
        for name in self.fields:
            check_field(name, writable=True)


class HashTransform(_Step, tag="hash", kw_only=True):
    fields: list[str]
    key_env: str = "STREAMGAUGE_HASH_KEY"
    length: int = 64

    def __post_init__(self) -> None:
        for name in self.fields:
            check_field(name, writable=True)
        if not os.environ.get(self.key_env):
            raise ValueError(f"the hash key variable {self.key_env} is not set (or empty)")
        if not 8 <= self.length <= 64:
            raise ValueError("length must be 8..64 hex characters")


class FilterTransform(_Step, tag="filter", kw_only=True):
    name: str = "filter"

    def __post_init__(self) -> None:
        if self.when is None:
            raise ValueError("a filter needs `when`: the events it discards")


class SampleTransform(_Step, tag="sample", kw_only=True):
    rate: float
    field: str = "context.sample_rate"

    def __post_init__(self) -> None:
        if not 0 < self.rate <= 1:
            raise ValueError("rate must be in (0, 1]")
        check_field(self.field, writable=True)


class SqlTransform(_Step, tag="sql", kw_only=True):
    query: str

    def __post_init__(self) -> None:
        from streamgauge.pipeline.sql_step import check_query

        check_query(self.query)


Transform = (
    DropTransform | RenameTransform | SetTransform | DefaultTransform | RedactTransform
    | HashTransform | FilterTransform | SampleTransform | SqlTransform
)  # fmt: skip


class UserAgentEnrichment(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    enabled: bool = False
    fields: list[str] = msgspec.field(
        default_factory=lambda: [
            "context.userAgent", "context.user_agent", "properties.$user_agent",
            "properties.user_agent",
        ]
    )  # fmt: skip
    target: str = "context.ua"
    cache_size: Annotated[int, msgspec.Meta(ge=0)] = 10_000

    def __post_init__(self) -> None:
        for name in [*self.fields, self.target]:
            check_field(name)


class GeoIpEnrichment(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    database: str = ""
    """A MaxMind-format (.mmdb) file; empty: no IP lookups."""
    fields: list[str] = msgspec.field(
        default_factory=lambda: ["context.ip", "properties.$ip", "properties.ip"]
    )
    target: str = "context.geo"
    anonymize: Literal["keep", "truncate", "drop"] = "keep"

    def __post_init__(self) -> None:
        for name in [*self.fields, self.target]:
            check_field(name)
        if self.database and not os.path.isfile(self.database):
            raise ValueError(f"no MaxMind database at {self.database}")


class EnrichmentSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    user_agent: UserAgentEnrichment = msgspec.field(default_factory=UserAgentEnrichment)
    geoip: GeoIpEnrichment = msgspec.field(default_factory=GeoIpEnrichment)


ColumnType = Literal["text", "integer", "double", "boolean", "timestamp"]


class ColumnConfig(
    msgspec.Struct, forbid_unknown_fields=True, kw_only=True, rename={"from_": "from"}
):
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    from_: str
    type: ColumnType = "text"

    def __post_init__(self) -> None:
        if self.name in COLUMN_NAMES or self.name == "log_offset":
            raise ValueError(f"{self.name!r} is a built-in column")
        if "." not in self.from_:
            raise ValueError("from must be properties.<path> or context.<path>")
        check_field(self.from_)


class _Destination(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, tag_field="type"):
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_\-]{0,62}$")]
    route: Condition | None = None
    batch_events: Annotated[int, msgspec.Meta(gt=0)] = 500
    max_attempts: Annotated[int, msgspec.Meta(ge=1)] = 5
    backoff_s: Annotated[float, msgspec.Meta(gt=0)] = 0.5
    max_backoff_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0


class WebhookDestination(_Destination, tag="webhook", kw_only=True):
    url: Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$")]
    headers: dict[str, str] = {}
    timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 10.0


class FilesDestination(_Destination, tag="files", kw_only=True):
    format: Literal["ndjson", "parquet"] = "ndjson"
    directory: str = ""
    """Empty: ``<data-dir>/destinations/<name>``."""
    rotate_events: Annotated[int, msgspec.Meta(gt=0)] = 100_000
    rotate_s: Annotated[float, msgspec.Meta(gt=0)] = 60.0


class NatsDestination(_Destination, tag="nats", kw_only=True):
    url: Annotated[str, msgspec.Meta(pattern=r"^(nats|tls)://\S+$")] = "nats://127.0.0.1:4222"
    subject: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")]
    timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 5.0


Destination = WebhookDestination | FilesDestination | NatsDestination

UnknownEvents = Literal["accept", "reject", "tag"]


class PipelineSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    schemas: Annotated[
        list[EventSchema], _doc("Event schemas, first match wins (see docs/pipeline.md).")
    ] = []
    unknown_events: Annotated[
        UnknownEvents,
        _doc("Events no schema matches: accept, reject or tag (only when schemas are set)."),
    ] = "accept"
    project_unknown_events: Annotated[
        dict[str, UnknownEvents], _doc("unknown_events per project id, overriding the default.")
    ] = {}
    enrichment: Annotated[
        EnrichmentSettings, _doc("User-agent and IP (MaxMind database) enrichment.")
    ] = msgspec.field(default_factory=EnrichmentSettings)
    transforms: Annotated[
        list[Transform],
        _doc("Ordered transforms: drop, rename, set, default, redact, hash, filter, sample, sql."),
    ] = []
    columns: Annotated[
        list[ColumnConfig], _doc("Property paths promoted to typed, filterable columns.")
    ] = []
    destinations: Annotated[
        list[Destination], _doc("Extra sinks: webhook, rolling files, NATS subject.")
    ] = []

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"columns: a name is used twice: {names}")
        clash = set(names) & set(enrichment_column_names(self.enrichment))
        if clash:
            raise ValueError(f"columns: {sorted(clash)} are enrichment columns already")
        targets = [d.name for d in self.destinations]
        if len(set(targets)) != len(targets):
            raise ValueError(f"destinations: a name is used twice: {targets}")

    @property
    def active(self) -> bool:
        """Anything to do on the ingest path (columns and destinations act in the sinks)."""
        enrich = self.enrichment
        return bool(
            self.schemas or self.transforms or enrich.user_agent.enabled or enrich.geoip.database
            or self.project_unknown_events
        )  # fmt: skip


def enrichment_column_names(enrichment: EnrichmentSettings) -> list[str]:
    names = []
    if enrichment.user_agent.enabled:
        names += ["browser", "os", "device_type", "is_bot"]
    if enrichment.geoip.database:
        names += ["country", "region"]
    return names


def glob_matcher(patterns: str | list[str] | None) -> re.Pattern[str] | None:
    """One compiled regex for a glob or list of globs (None: matches everything)."""
    if patterns is None:
        return None
    globs = [patterns] if isinstance(patterns, str) else patterns
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))

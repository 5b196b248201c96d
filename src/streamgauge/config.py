"""Every setting, declared once: typed, defaulted, documented, validated.

Settings come from the defaults below, then the YAML config file
(``--config``), then environment variables ``STREAMGAUGE_SECTION__KEY``
(e.g. ``STREAMGAUGE_INGEST__MAX_BATCH_EVENTS=5000``). A wrong value fails at
start-up with a message naming the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml

from streamgauge.errors import ConfigError
from streamgauge.pipeline.config import PipelineSettings

MiB = 1024 * 1024


def _doc(text: str, **constraints: Any) -> msgspec.Meta:
    return msgspec.Meta(description=text, **constraints)


class IngestSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    max_body_bytes: Annotated[
        int, _doc("Largest request body after decompression, in bytes (413 above).", gt=0)
    ] = 20 * MiB
    max_event_bytes: Annotated[
        int, _doc("Largest single event in a batch, in bytes of JSON (rejected above).", gt=0)
    ] = 256 * 1024
    max_batch_events: Annotated[
        int, _doc("Most events in one batch request (413 above).", gt=0)
    ] = 10_000
    max_future_skew_s: Annotated[
        float, _doc("Events timestamped further than this in the future are rejected.", ge=0)
    ] = 3600.0
    max_name_length: Annotated[int, _doc("Longest event name accepted.", gt=0)] = 256
    rate_limit_per_project: Annotated[
        float, _doc("Events per second one project may send (429 above); 0 = unlimited.", ge=0)
    ] = 0.0
    rate_limit_burst: Annotated[
        float, _doc("Events a project may send at once before the rate limit applies.", gt=0)
    ] = 100_000.0


class LogSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    group_commit_max_events: Annotated[
        int, _doc("Most events written in one log transaction (one fsync).", gt=0)
    ] = 50_000
    retention_s: Annotated[
        float,
        _doc("Keep log entries this long after every sink committed them (for replay).", ge=0),
    ] = 3600.0
    cache_mib: Annotated[int, _doc("SQLite page cache of the log, in MiB.", gt=0)] = 64
    url: Annotated[
        str,
        _doc("Where the log lives: empty = embedded (SQLite under the data directory); "
             "`nats://host:port` = a NATS JetStream stream (distributed mode).",
             pattern=r"^(|(nats|tls)://\S+)$"),
    ] = ""  # fmt: skip
    stream: Annotated[str, _doc("JetStream: the stream's name.")] = "STREAMGAUGE_EVENTS"
    subject: Annotated[
        str,
        _doc("JetStream: events go to `<subject>.<partition>`; dead letters to "
             "`<subject>_dead_letters` in the stream `<stream>_DEAD_LETTERS`."),
    ] = "streamgauge.events"  # fmt: skip
    partitions: Annotated[
        int, _doc("JetStream: subjects events are spread over, so sinks can split them.", gt=0)
    ] = 4
    replicas: Annotated[
        int, _doc("JetStream: servers holding each message before it is acknowledged.", ge=1, le=5)
    ] = 1
    duplicate_window_s: Annotated[
        float,
        _doc("JetStream: a retried event id is a duplicate within this window; the server keeps "
             "every id of the window in memory (about 100 bytes each).", gt=0),
    ] = 600.0  # fmt: skip
    max_bytes: Annotated[
        int,
        _doc("JetStream: the stream refuses new events (503) above this size; -1 = none. "
             "nats-server 2.9 under-counts it and drops the oldest events near the limit: "
             "prefer `log.max_msgs` there."),
    ] = -1  # fmt: skip
    max_msgs: Annotated[
        int, _doc("JetStream: the stream refuses new events (503) above this count; -1 = none.")
    ] = -1
    max_age_s: Annotated[
        float,
        _doc("JetStream: messages older than this leave the stream, committed by sinks or "
             "not: keep it above the longest sink outage.", gt=0),
    ] = 7 * 86400.0  # fmt: skip
    publish_timeout_s: Annotated[
        float, _doc("JetStream: an append not acknowledged within this fails (503).", gt=0)
    ] = 5.0


class DedupSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    window_s: Annotated[
        float, _doc("An event id seen within this window is a duplicate (default 7 days).", gt=0)
    ] = 7 * 86400.0


class HotSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    retention_s: Annotated[
        float,
        _doc("The hot store keeps this much recent data (default 90 days); older rows leave "
             "only once the archive has committed them.", gt=0),
    ] = 90 * 86400.0  # fmt: skip
    memory_limit: Annotated[str, _doc("DuckDB memory limit for the hot store.")] = "4GB"
    threads: Annotated[int, _doc("DuckDB worker threads (0 = one per core).", ge=0)] = 0
    max_batch_events: Annotated[
        int, _doc("Most events the hot sink writes per transaction.", gt=0)
    ] = 200_000
    small_batch_events: Annotated[
        int, _doc("A write of fewer events is followed by a pause of write_linger_s.", ge=0)
    ] = 1000
    write_linger_s: Annotated[
        float,
        _doc("After a small write the hot sink waits this long to gather more (a query that "
             "needs fresh rows cuts the wait short).", ge=0, le=0.5),
    ] = 0.05  # fmt: skip


class BackpressureSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    max_sink_lag_events: Annotated[
        int, _doc("Ingest answers 503 while the slowest sink is this many events behind.", gt=0)
    ] = 2_000_000
    min_free_disk_mib: Annotated[
        int, _doc("Ingest answers 503 while the data directory's disk has less free space.", ge=0)
    ] = 256
    retry_after_s: Annotated[
        float, _doc("Retry-After sent with 503 answers, in seconds.", gt=0)
    ] = 1.0


class QuerySettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    timeout_s: Annotated[float, _doc("A query running longer is interrupted (408).", gt=0)] = 30.0
    max_rows: Annotated[int, _doc("Most rows a query returns; more sets truncated=true.", gt=0)] = (
        100_000
    )
    memory_limit: Annotated[str, _doc("Memory limit of one SQL sandbox query.")] = "1GB"


class MeterFilterConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    field: Annotated[str, _doc("A column or 'properties.<path>' the filter reads.")]
    op: Annotated[
        Literal["eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "not_exists"],
        _doc("How the field is compared (as in the query DSL's filters)."),
    ]
    value: Annotated[
        str | int | float | bool | list[str | int | float | bool] | None,
        _doc("The value compared with (a list for in/not_in; none for exists)."),
    ] = None


class MeterConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, _doc("The meter's name (GET /meters, POST /meters/{name}/query).",
                              pattern=r"^[a-z][a-z0-9_\-]{0,63}$")]  # fmt: skip
    event: Annotated[str | list[str], _doc("The event name(s) the meter counts.")] = "usage.tracked"
    aggregation: Annotated[
        Literal["sum", "count", "unique_count", "max", "latest", "avg"],
        _doc("How values are aggregated over a window or period."),
    ] = "sum"
    value: Annotated[
        str, _doc("The column or 'properties.<path>' aggregated (ignored by count).")
    ] = "usage_quantity"
    group_by: Annotated[
        list[str], _doc("Dimensions each total is kept per (columns or properties paths).")
    ] = msgspec.field(default_factory=lambda: ["organization_id", "usage_sku", "usage_unit"])
    filters: Annotated[
        list[MeterFilterConfig], _doc("Only events passing every filter count.")
    ] = []
    unit: Annotated[str | None, _doc("The unit reported; none reports the events' usage_unit.")] = (
        None
    )
    allow_negative: Annotated[
        bool,
        _doc("Negative values are corrections and count; otherwise they are left out."),
    ] = False
    description: Annotated[str, _doc("What the meter measures, for people.")] = ""


class TierConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    up_to: Annotated[
        Decimal | None, _doc("The tier's last unit (inclusive); none on the last tier.")
    ] = None
    unit_price: Annotated[Decimal, _doc("Price of each unit in the tier.")] = Decimal(0)
    flat_fee: Annotated[Decimal, _doc("Charged once when any quantity falls in the tier.")] = (
        Decimal(0)
    )


class PriceConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sku: Annotated[str, _doc("The SKU (usage.sku) this price bills.")]
    meter: Annotated[str, _doc("The meter whose total is billed.")] = "usage"
    unit: Annotated[
        str | None, _doc("Bill only usage in this unit; none accepts one unit per SKU.")
    ] = None
    model: Annotated[
        Literal["per_unit", "package", "graduated", "volume"],
        _doc("per_unit, package (per started block), graduated or volume tiers."),
    ] = "per_unit"
    unit_price: Annotated[Decimal, _doc("per_unit: the price of one unit.")] = Decimal(0)
    package_size: Annotated[
        Decimal, _doc("package: units in one block (a started block is billed).")
    ] = Decimal(1)
    package_price: Annotated[Decimal, _doc("package: the price of one block.")] = Decimal(0)
    tiers: Annotated[
        list[TierConfig], _doc("graduated/volume: tiers by ascending up_to, the last open.")
    ] = []
    free_quantity: Annotated[Decimal, _doc("Units free each period, taken off before pricing.")] = (
        Decimal(0)
    )
    minimum_charge: Annotated[
        Decimal, _doc("Least amount of a line once the SKU was used in the period.")
    ] = Decimal(0)
    description: Annotated[str, _doc("The line's text on invoices.")] = ""

    def __post_init__(self) -> None:
        amounts = [self.unit_price, self.package_price, self.free_quantity, self.minimum_charge]
        amounts += [v for t in self.tiers for v in (t.unit_price, t.flat_fee)]
        if any(not a.is_finite() or a < 0 for a in amounts):
            raise ValueError("prices, fees, free quantities and minimums must be >= 0")
        if not self.package_size.is_finite() or self.package_size <= 0:
            raise ValueError("package_size must be > 0")
        if self.model in ("graduated", "volume"):
            if not self.tiers or self.tiers[-1].up_to is not None:
                raise ValueError(f"{self.model} prices need tiers, the last without up_to")
            bounds = [t.up_to for t in self.tiers[:-1]]
            if any(b is None for b in bounds) or bounds != sorted(set(bounds)):  # type: ignore[type-var]
                raise ValueError("tiers need strictly ascending up_to, only the last open")


class BillingSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    meters: Annotated[
        tuple[MeterConfig, ...],
        _doc("Meters besides the built-in 'usage' (sum of usage_quantity for usage.tracked "
             "by organization, SKU and unit); one named 'usage' replaces it."),
    ] = ()  # fmt: skip
    prices: Annotated[
        tuple[PriceConfig, ...], _doc("Prices per SKU, turning meters into invoices.")
    ] = ()
    currency: Annotated[str, _doc("ISO 4217 currency of every price and invoice.",
                                  pattern=r"^[A-Z]{3}$")] = "USD"  # fmt: skip
    decimals: Annotated[
        int, _doc("Each line's amount is rounded once to this many decimals.", ge=0, le=9)
    ] = 2
    rounding: Annotated[
        Literal["half_up", "half_even"],
        _doc("Rounding of line amounts: half_up (0.005 -> 0.01) or half_even (banker's)."),
    ] = "half_up"
    timezone: Annotated[
        str, _doc("IANA time zone in which billing periods (2025-10) start and end.")
    ] = "UTC"


class SourcesSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    segment_group_as_organization: Annotated[
        bool,
        _doc("Segment/RudderStack: a group call's groupId, else context.groupId, becomes "
             "organization_id."),
    ] = True  # fmt: skip
    segment_max_event_bytes: Annotated[
        int, _doc("Segment/RudderStack: largest event, in bytes of JSON (rejected above).", gt=0)
    ] = 32 * 1024
    segment_max_batch_bytes: Annotated[
        int,
        _doc("Segment: largest batch request that carries writeKey in its body (400 above).",
             gt=0),
    ] = 500 * 1024  # fmt: skip
    rudderstack_max_batch_bytes: Annotated[
        int,
        _doc("RudderStack (no writeKey in the body): largest batch request (400 above).", gt=0),
    ] = 4 * MiB
    posthog_organization_group_type: Annotated[
        str,
        _doc("PostHog: the $groups type whose key becomes organization_id ('' = none)."),
    ] = "organization"
    posthog_max_event_bytes: Annotated[
        int, _doc("PostHog: largest event, in bytes of JSON (rejected above).", gt=0)
    ] = MiB
    otlp_event_name: Annotated[
        str, _doc("OTLP: the event name each SERVER span becomes.", min_length=1)
    ] = "api.request"
    otlp_organization_attribute: Annotated[
        str,
        _doc("OTLP: span (else resource) attribute whose value becomes organization_id "
             "('' = none)."),
    ] = "organization.id"  # fmt: skip
    otlp_organization_header: Annotated[
        str,
        _doc("OTLP: request header whose value becomes organization_id when no attribute "
             "has it ('' = none)."),
    ] = ""  # fmt: skip
    cloudevents_subject_as_organization: Annotated[
        bool, _doc("CloudEvents: subject becomes organization_id.")
    ] = True
    cloudevents_usage_quantity: Annotated[
        str,
        _doc("CloudEvents: dotted path in data of the number that becomes usage_quantity "
             "('' = none)."),
    ] = "value"  # fmt: skip
    cloudevents_usage_unit: Annotated[
        str, _doc("CloudEvents: dotted path in data of usage_unit ('' = none).")
    ] = "unit"
    cloudevents_usage_sku: Annotated[
        str,
        _doc("CloudEvents: dotted path in data of usage_sku; '' uses the event type, as "
             "OpenMeter meters do."),
    ] = ""  # fmt: skip


class ArchiveConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    catalog: Annotated[
        str,
        _doc("The Iceberg SQL catalog (a SQLAlchemy URL: `sqlite:///...`, "
             "`postgresql+psycopg://user@host/db`); empty = `<data-dir>/archive/catalog.db`."),
    ] = ""  # fmt: skip
    warehouse: Annotated[
        str,
        _doc("Where table files go: a path, `file://` URL or `s3://bucket/prefix`; "
             "empty = `<data-dir>/archive/warehouse/`."),
    ] = ""  # fmt: skip
    s3_endpoint: Annotated[str, _doc("S3-compatible endpoint URL; empty = AWS.")] = ""
    s3_region: Annotated[str, _doc("S3 region (most S3-compatible stores accept any).")] = (
        "us-east-1"
    )
    s3_access_key_id: Annotated[
        str, _doc("S3 access key id; empty = the environment's AWS credential chain.")
    ] = ""
    s3_secret_access_key: Annotated[str, _doc("S3 secret access key.")] = ""
    commit_interval_s: Annotated[
        float, _doc("Commit buffered events to the archive at least this often.", gt=0)
    ] = 60.0
    commit_max_events: Annotated[
        int, _doc("Commit as soon as this many events are buffered.", gt=0)
    ] = 500_000
    target_file_size: Annotated[
        int, _doc("Target size of a compacted Parquet file, in bytes.", ge=MiB)
    ] = 128 * MiB
    compact_min_files: Annotated[
        int, _doc("A day partition is compacted once it holds this many small files.", ge=2)
    ] = 4
    keep_snapshots: Annotated[
        int, _doc("Snapshot expiry keeps at least this many recent snapshots.", ge=1)
    ] = 10
    snapshot_max_age_s: Annotated[
        float, _doc("Snapshot expiry removes older snapshots (beyond keep_snapshots).", ge=0)
    ] = 86400.0
    orphan_min_age_s: Annotated[
        float,
        _doc("Orphan removal only deletes unreferenced files older than this, so an "
             "in-flight write is never touched.", ge=0),
    ] = 86400.0  # fmt: skip
    retention_s: Annotated[
        float,
        _doc("Delete archive day partitions older than this; 0 keeps everything.", ge=0),
    ] = 0.0
    maintenance_interval_s: Annotated[
        float,
        _doc("How often the server runs retention, compaction, snapshot expiry and orphan "
             "removal (and moves old rows out of the hot store); 0 = never.", ge=0),
    ] = 3600.0  # fmt: skip


class ClusterSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sink_partitions: Annotated[
        str,
        _doc("Log partitions this sink node archives, e.g. `0,1`; empty = all. Give each "
             "partition to exactly one running sink node.", pattern=r"^(\d+(,\d+)*)?$"),
    ] = ""  # fmt: skip
    nodes: Annotated[
        str,
        _doc("Base URLs of the deployment's nodes, comma-separated, for `streamgauge cluster "
             "status` (e.g. `http://ingest-1:8787,http://query-1:8788`)."),
    ] = ""  # fmt: skip


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ingest: IngestSettings = msgspec.field(default_factory=IngestSettings)
    log: LogSettings = msgspec.field(default_factory=LogSettings)
    dedup: DedupSettings = msgspec.field(default_factory=DedupSettings)
    hot: HotSettings = msgspec.field(default_factory=HotSettings)
    backpressure: BackpressureSettings = msgspec.field(default_factory=BackpressureSettings)
    query: QuerySettings = msgspec.field(default_factory=QuerySettings)
    billing: BillingSettings = msgspec.field(default_factory=BillingSettings)
    sources: SourcesSettings = msgspec.field(default_factory=SourcesSettings)
    archive: ArchiveConfig = msgspec.field(default_factory=ArchiveConfig)
    cluster: ClusterSettings = msgspec.field(default_factory=ClusterSettings)
    pipeline: PipelineSettings = msgspec.field(default_factory=PipelineSettings)


SECTIONS: dict[str, type[msgspec.Struct]] = {
    name: type(getattr(Settings(), name)) for name in Settings.__struct_fields__
}

ENV_PREFIX = "STREAMGAUGE_"


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the YAML file at ``path``, then ``STREAMGAUGE_SECTION__KEY`` variables."""
    raw: dict[str, Any] = {}
    if path is not None:
        raw = _read_yaml(path)
    for section, values in _from_env(os.environ if environ is None else environ).items():
        raw.setdefault(section, {}).update(values)
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as error:
        where = f" in {path}" if path is not None else ""
        raise ConfigError(f"invalid setting{where}: {_key_message(error)}") from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections, not {loaded!r}")
    return loaded


def _from_env(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if section not in SECTIONS:
            continue  # other STREAMGAUGE_ variables (e.g. REQUIRE_SERVICES) are not settings
        found.setdefault(section, {})[key] = value
    return found


def _key_message(error: msgspec.ValidationError) -> str:
    # msgspec says "... - at `$.ingest.max_body_bytes`"; name the key as users write it.
    text = str(error)
    message, sep, where = text.rpartition(" - at `$.")
    if not sep:
        return text
    key = where.rstrip("`")
    return f"{key}: {message}"


def describe() -> list[tuple[str, str, Any, str]]:
    """Every setting as (key, type, default, description), for docs and `config show`."""
    rows: list[tuple[str, str, Any, str]] = []
    for section, struct in SECTIONS.items():
        info = msgspec.inspect.type_info(struct)
        assert isinstance(info, msgspec.inspect.StructType)
        for field in info.fields:
            description = ""
            type_name = type(field.type).__name__.removesuffix("Type").lower()
            if isinstance(field.type, msgspec.inspect.Metadata):
                description = (field.type.extra_json_schema or {}).get("description", "")
                type_name = type(field.type.type).__name__.removesuffix("Type").lower()
            default = field.default
            if default is msgspec.NODEFAULT and field.default_factory is not msgspec.NODEFAULT:
                default = msgspec.json.encode(field.default_factory()).decode()
            rows.append((f"{section}.{field.name}", type_name, default, description))
    return rows


def settings_markdown() -> str:
    """docs/settings.md, generated from the declarations above (a test checks for drift)."""
    lines = [
        "# Settings",
        "",
        "Generated by `streamgauge config docs`; do not edit by hand.",
        "",
        "Set them in the YAML file given to `--config` (sections as below) or as environment",
        "variables `STREAMGAUGE_SECTION__KEY` (e.g. `STREAMGAUGE_INGEST__MAX_BATCH_EVENTS=5000`),",
        "which win over the file.",
        "",
        "| key | type | default | what it does |",
        "| --- | --- | --- | --- |",
    ]
    for key, type_name, default, description in describe():
        lines.append(f"| `{key}` | {type_name} | `{default}` | {description} |")
    return "\n".join(lines) + "\n"


def effective(settings: Settings) -> dict[str, Any]:
    """The settings in force, as plain data (``config show``)."""
    return msgspec.to_builtins(settings)  # type: ignore[no-any-return]

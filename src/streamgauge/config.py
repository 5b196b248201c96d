"""Every setting, declared once: typed, defaulted, documented, validated.

Settings come from the defaults below, then the YAML config file
(``--config``), then environment variables ``STREAMGAUGE_SECTION__KEY``
(e.g. ``STREAMGAUGE_INGEST__MAX_BATCH_EVENTS=5000``). A wrong value fails at
start-up with a message naming the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec
import yaml

from streamgauge.errors import ConfigError

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


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ingest: IngestSettings = msgspec.field(default_factory=IngestSettings)
    log: LogSettings = msgspec.field(default_factory=LogSettings)
    dedup: DedupSettings = msgspec.field(default_factory=DedupSettings)
    hot: HotSettings = msgspec.field(default_factory=HotSettings)
    backpressure: BackpressureSettings = msgspec.field(default_factory=BackpressureSettings)
    query: QuerySettings = msgspec.field(default_factory=QuerySettings)


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
            rows.append((f"{section}.{field.name}", type_name, field.default, description))
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

"""Meter definitions: what a meter counts, how it aggregates, what it groups by.

Meters are declared in ``billing.meters``; the built-in ``usage`` meter sums
``usage_quantity`` of ``usage.tracked`` events by organization, SKU and unit
(so the seed's example bills with no configuration) and accepts negative
quantities as corrections. Field names are validated here, once, at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from streamgauge.config import BillingSettings, MeterConfig
from streamgauge.errors import ConfigError, NotFound, StreamgaugeError
from streamgauge.query.dsl import Filter
from streamgauge.query.fields import Field, parse_field, parse_numeric_field

DEFAULT_METER = MeterConfig(
    name="usage",
    description="usage.quantity of usage.tracked events, by organization, SKU and unit",
    allow_negative=True,
)
VALUE_AGGREGATIONS = frozenset({"sum", "max", "latest", "avg"})


class MeterInfo(msgspec.Struct):
    """One entry of ``GET /meters``."""

    name: str
    description: str
    event: str | list[str]
    aggregation: str
    value: str | None
    group_by: list[str]
    filters: list[Filter]
    unit: str | None
    allow_negative: bool
    path: str


@dataclass(frozen=True, slots=True)
class Meter:
    """A validated meter: its declaration plus parsed fields."""

    config: MeterConfig
    value: Field | None  # None for count
    group_by: tuple[Field, ...]
    filters: tuple[Filter, ...]

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def aggregation(self) -> str:
        return self.config.aggregation

    def groups_by(self, column: str) -> bool:
        return any(field.name == column for field in self.group_by)

    def info(self) -> MeterInfo:
        c = self.config
        return MeterInfo(
            c.name, c.description, c.event, c.aggregation,
            None if self.value is None else self.value.name, list(c.group_by),
            list(self.filters), c.unit, c.allow_negative, f"/meters/{c.name}/query",
        )  # fmt: skip


def build_meter(config: MeterConfig, where: str) -> Meter:
    """Validate ``config``; errors name the setting (``billing.meters[2].value``)."""
    try:
        value: Field | None = None
        if config.aggregation in VALUE_AGGREGATIONS:
            value = parse_numeric_field(config.value, f"{where}.value")
        elif config.aggregation == "unique_count":
            value = parse_field(config.value, f"{where}.value")
        group_by = tuple(
            parse_field(name, f"{where}.group_by[{i}]") for i, name in enumerate(config.group_by)
        )
        filters = tuple(Filter(f.field, f.op, f.value) for f in config.filters)
        for i, item in enumerate(filters):
            parse_field(item.field, f"{where}.filters[{i}].field")
    except StreamgaugeError as error:
        raise ConfigError(f"invalid setting: {error.message}") from None
    return Meter(config, value, group_by, filters)


class MeterCatalog:
    """Every meter by name: the built-in ``usage`` and those in ``billing.meters``."""

    def __init__(self, settings: BillingSettings) -> None:
        self.meters: dict[str, Meter] = {"usage": build_meter(DEFAULT_METER, "usage")}
        for i, config in enumerate(settings.meters):
            self.meters[config.name] = build_meter(config, f"billing.meters[{i}]")
        for i, price in enumerate(settings.prices):
            if price.meter not in self.meters:
                raise ConfigError(
                    f"invalid setting: billing.prices[{i}].meter: no meter {price.meter!r}; "
                    f"declare it in billing.meters or use one of {', '.join(self.meters)}"
                )

    def get(self, name: str) -> Meter:
        if name not in self.meters:
            raise NotFound(
                f"no meter named {name!r}; GET /meters lists them: {', '.join(self.meters)}",
                details={"meter": name},
            )
        return self.meters[name]

    def infos(self) -> list[MeterInfo]:
        return [meter.info() for meter in self.meters.values()]

    def to_builtins(self) -> list[dict[str, Any]]:
        return msgspec.to_builtins(self.infos())  # type: ignore[no-any-return]

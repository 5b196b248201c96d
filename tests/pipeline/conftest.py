"""Helpers for pipeline tests: settings from plain data, events from native JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from streamgauge.model import Event
from streamgauge.pipeline import Pipeline, PipelineSettings
from streamgauge.sources.native import NormalizeOptions, normalize

RECEIVED = 1_760_000_000_000_000
OPTIONS = NormalizeOptions("shop", RECEIVED, 10**12, 256, 1 << 20)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


def settings(**section: Any) -> PipelineSettings:
    return msgspec.convert(section, PipelineSettings)


def event(**fields: Any) -> Event:
    return normalize(msgspec.json.encode({"event": "page.viewed", **fields}), OPTIONS)


def run(config: PipelineSettings, *events: Event) -> list[Event]:
    return Pipeline(config).run(list(events), list(range(len(events)))).events


def props(e: Event) -> Any:
    return msgspec.json.decode(e.properties) if e.properties else None


def ctx(e: Event) -> Any:
    return msgspec.json.decode(e.context) if e.context else None


@pytest.fixture
def geo_database(tmp_path: Path) -> Path:
    """A small MaxMind-format database built here (City record shape)."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City")
    writer.insert_network(
        IPSet(["81.2.69.0/24"]),
        {"country": {"iso_code": "GB"}, "subdivisions": [{"iso_code": "ENG"}],
         "city": {"names": {"en": "London"}}},
    )  # fmt: skip
    writer.insert_network(IPSet(["2001:db8::/32"]), {"country": {"iso_code": "DE"}})
    path = tmp_path / "geo.mmdb"
    writer.to_db_file(str(path))
    return path

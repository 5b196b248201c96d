"""Enrichment: user agent → browser, OS, device type, bot flag; IP → country, region.

User agents are parsed by ua-parser (the Browserscope rules, with its native
accelerator when installed) behind an LRU cache: real traffic repeats a few
thousand agents. IPs are looked up in a MaxMind-format database (GeoLite2 /
GeoIP2 City or Country, or any database with the same record shape), then kept,
truncated (IPv4 /24, IPv6 /48) or dropped from the event.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any, Final

from streamgauge.pipeline.config import GeoIpEnrichment, UserAgentEnrichment
from streamgauge.pipeline.draft import Draft, FieldPath

_BOT: Final = re.compile(
    r"bot\b|crawl|spider|slurp|headless|lighthouse|curl/|wget/|python-requests|httpx|"
    r"go-http-client|okhttp|java/|monitor|uptime|preview",
    re.IGNORECASE,
)
_TABLET: Final = re.compile(r"iPad|Tablet|Kindle|Silk/|PlayBook|Nexus (?:7|9|10)\b")
_MOBILE: Final = re.compile(r"Mobi|iPhone|iPod|Windows Phone|BlackBerry|Opera Mini|IEMobile")
_DESKTOP_OS: Final = frozenset({"Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora",
                                "Debian", "FreeBSD", "OpenBSD"})  # fmt: skip


def describe_user_agent(agent: str) -> dict[str, Any]:
    """browser, browser_version, os, os_version, device_type (desktop, mobile, tablet,
    bot, other) and is_bot for one User-Agent string."""
    from ua_parser import parse

    result = parse(agent)
    browser = result.user_agent.family if result.user_agent else None
    os_name = result.os.family if result.os else None
    device = result.device.family if result.device else None
    is_bot = device == "Spider" or _BOT.search(agent) is not None
    if is_bot:
        device_type = "bot"
    elif _TABLET.search(agent) or ("Android" in agent and "Mobile" not in agent):
        device_type = "tablet"
    elif _MOBILE.search(agent):
        device_type = "mobile"
    elif os_name in _DESKTOP_OS:
        device_type = "desktop"
    else:
        device_type = "other"
    return {
        "browser": browser,
        "browser_version": _version(result.user_agent) if result.user_agent else None,
        "os": os_name,
        "os_version": _version(result.os) if result.os else None,
        "device_type": device_type,
        "is_bot": is_bot,
    }


def _version(part: Any) -> str | None:
    numbers = [n for n in (part.major, part.minor, part.patch) if n]
    return ".".join(numbers) or None


class UserAgentEnricher:
    kind = "user_agent"

    def __init__(self, config: UserAgentEnrichment) -> None:
        self.sources = [FieldPath.parse(f) for f in config.fields]
        self.target = FieldPath.parse(config.target)
        self.describe = functools.lru_cache(maxsize=config.cache_size or None)(describe_user_agent)

    def apply(self, draft: Draft) -> None:
        for source in self.sources:
            agent = draft.get(source)
            if isinstance(agent, str) and agent:
                draft.set(self.target, dict(self.describe(agent)))
                return


class GeoIpEnricher:
    kind = "geoip"

    def __init__(self, config: GeoIpEnrichment) -> None:
        import maxminddb

        self.reader = maxminddb.open_database(config.database)
        self.sources = [FieldPath.parse(f) for f in config.fields]
        self.target = FieldPath.parse(config.target)
        self.anonymize = config.anonymize
        self.lookup = functools.lru_cache(maxsize=65_536)(self._lookup)

    def _lookup(self, ip: str) -> dict[str, Any] | None:
        try:
            found = self.reader.get(ip)
        except ValueError:  # not an IP address
            return None
        if not isinstance(found, dict):
            return None
        record: dict[str, Any] = found
        country = record.get("country") or record.get("registered_country") or {}
        regions = record.get("subdivisions") or [{}]
        city = (record.get("city") or {}).get("names", {}).get("en")
        return {
            "country": country.get("iso_code"),
            "region": regions[0].get("iso_code"),
            "city": city,
        }

    def apply(self, draft: Draft) -> None:
        for source in self.sources:
            ip = draft.get(source)
            if not isinstance(ip, str) or not ip:
                continue
            found = self.lookup(ip)
            if found is not None:
                draft.set(self.target, dict(found))
            if self.anonymize == "drop":
                draft.delete(source)
            elif self.anonymize == "truncate":
                draft.set(source, truncate_ip(ip))
            return

    def close(self) -> None:
        self.reader.close()


def truncate_ip(ip: str) -> str | None:
    """IPv4 to its /24, IPv6 to its /48 (the network address); None if not an IP."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)

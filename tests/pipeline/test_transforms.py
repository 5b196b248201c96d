"""Each transform on its own, then in combination: exact outputs."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from streamgauge.pipeline import Pipeline
from tests.pipeline.conftest import ctx, event, props, run, settings


def test_drop_rename_set_default() -> None:
    config = settings(transforms=[
        {"type": "drop", "fields": ["properties.secret", "session_id"]},
        {"type": "rename", "fields": {"properties.plan": "properties.tier",
                                      "properties.org": "organization_id"}},
        {"type": "set", "values": {"properties.env": "prod", "usage_unit": "calls"}},
        {"type": "default", "values": {"properties.tier": "free", "properties.region": "eu"}},
    ])  # fmt: skip
    [out] = run(config, event(sessionId="s1", properties={
        "secret": "x", "plan": "pro", "org": "acme", "region": "us"}))  # fmt: skip
    assert props(out) == {"tier": "pro", "region": "us", "env": "prod"}
    assert (out.session_id, out.organization_id, out.usage_unit) == (None, "acme", "calls")


def test_set_coerces_to_the_column_type() -> None:
    config = settings(transforms=[
        {"type": "rename", "fields": {"properties.code": "status_code"}},
    ])  # fmt: skip
    [ok, bad] = run(config, event(properties={"code": "404"}), event(properties={"code": "x"}))
    assert (ok.status_code, bad.status_code) == (404, None)


def test_redact_masks_every_pattern_anywhere() -> None:
    config = settings(transforms=[{"type": "redact"}])
    [out] = run(config, event(
        userId="bob@example.com",
        properties={"note": "mail bob@example.com or 4111 1111 1111 1111",
                    "nested": {"auth": "Bearer abc.def-123", "ips": ["10.0.0.1", "2001:db8::1"]},
                    "n": 5},
        context={"ip": "192.168.1.20"},
    ))  # fmt: skip
    assert props(out) == {
        "note": "mail [redacted] or [redacted]",
        "nested": {"auth": "[redacted]", "ips": ["[redacted]", "[redacted]"]},
        "n": 5,
    }
    assert ctx(out) == {"ip": "[redacted]"}
    assert out.user_id == "[redacted]"


def test_redact_only_named_fields_with_custom_pattern() -> None:
    config = settings(transforms=[{"type": "redact", "patterns": [], "custom": [r"ORD-\d+"],
                                   "fields": ["properties.a"], "replacement": "#"}])  # fmt: skip
    [out] = run(config, event(properties={"a": "ORD-12 x", "b": "ORD-34"}))
    assert props(out) == {"a": "# x", "b": "ORD-34"}


def test_hash_is_a_keyed_hmac(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_TEST_KEY", "s3cret")
    config = settings(transforms=[
        {"type": "hash", "fields": ["user_id", "context.ip"], "key_env": "SG_TEST_KEY",
         "length": 16},
    ])  # fmt: skip
    [out] = run(config, event(userId="u-1", context={"ip": "10.1.2.3"}))
    expected = hmac.new(b"s3cret", b"u-1", hashlib.sha256).hexdigest()[:16]
    assert out.user_id == expected
    assert ctx(out) == {"ip": hmac.new(b"s3cret", b"10.1.2.3", hashlib.sha256).hexdigest()[:16]}


def test_filter_discards_and_counts() -> None:
    config = settings(
        transforms=[
            {
                "type": "filter",
                "name": "health",
                "when": {"where": [{"field": "path", "value": "/health"}]},
            }
        ]
    )
    pipeline = Pipeline(config)
    events = [event(properties={"path": "/health"}), event(properties={"path": "/a"})]
    outcome = pipeline.run(events, [0, 1])
    assert [e.path for e in outcome.events] == ["/a"]
    assert outcome.positions == [1]
    assert dict(outcome.discarded) == {"0:health": 1}


def test_sample_keeps_a_share_by_event_id_and_records_the_rate() -> None:
    config = settings(transforms=[{"type": "sample", "rate": 0.25,
                                   "when": {"event": "page.*"}}])  # fmt: skip
    events = [event(id=f"e{i}") for i in range(2000)]
    kept = run(config, *events)
    assert 400 <= len(kept) <= 600
    assert {ctx(e)["sample_rate"] for e in kept} == {0.25}
    again = run(config, *[event(id=f"e{i}") for i in range(2000)])
    assert [e.event_id for e in again] == [e.event_id for e in kept]  # a retry samples alike


def test_sql_transform_filters_and_rewrites_a_batch() -> None:
    config = settings(transforms=[{"type": "sql", "query":
        "SELECT event_id, upper(event) AS event, duration_ms * 1000 AS duration_ms "
        "FROM events WHERE event <> 'noise'"}])  # fmt: skip
    pipeline = Pipeline(config)
    outcome = pipeline.run(
        [event(id="a", performance={"duration": 1.5}), event(id="b", event="noise")], [0, 1]
    )
    assert [(e.event_id, e.event, e.duration_ms) for e in outcome.events] == [
        ("a", "PAGE.VIEWED", 1500.0)
    ]
    assert dict(outcome.discarded) == {"sql": 1}


@pytest.mark.parametrize(
    "query",
    ["SELECT * FROM read_csv('/etc/passwd')", "DELETE FROM events", "SELECT getenv('HOME')"],
)
def test_sql_transform_is_guarded_like_slash_sql(query: str) -> None:
    with pytest.raises(Exception, match="sql transform"):
        settings(transforms=[{"type": "sql", "query": query}])


def test_conditions_limit_a_step() -> None:
    config = settings(transforms=[
        {"type": "set", "values": {"properties.seen": True},
         "when": {"event": ["checkout.*", "cart.*"], "project": "shop",
                  "where": [{"field": "properties.amount", "op": "gte", "value": 10}]}},
    ])  # fmt: skip
    out = run(config, event(event="checkout.done", properties={"amount": 12}),
              event(event="checkout.done", properties={"amount": 2}),
              event(event="page.viewed", properties={"amount": 50}))  # fmt: skip
    assert [props(e).get("seen") for e in out] == [True, None, None]


def test_combined_in_order() -> None:
    config = settings(
        enrichment={"user_agent": {"enabled": True}},
        transforms=[
            {"type": "filter", "name": "bots",
             "when": {"where": [{"field": "context.ua.is_bot", "value": True}]}},
            {"type": "redact", "patterns": ["email"]},
            {"type": "rename", "fields": {"properties.email": "properties.contact"}},
            {"type": "drop", "fields": ["context.userAgent"]},
            {"type": "sample", "rate": 1.0},
        ],
    )  # fmt: skip
    out = run(config,
              event(properties={"email": "a@b.io"}, context={"userAgent": "Googlebot/2.1"}),
              event(properties={"email": "a@b.io"}, context={"userAgent": "curl/8.4.0"}),
              event(properties={"email": "a@b.io"},
                    context={"userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                             "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
                             "Safari/537.36"}))  # fmt: skip
    assert len(out) == 1
    assert props(out[0]) == {"contact": "[redacted]"}
    assert ctx(out[0]) == {
        "ua": {"browser": "Chrome", "browser_version": "120.0.0", "os": "Windows",
               "os_version": "10", "device_type": "desktop", "is_bot": False},
        "sample_rate": 1.0,
    }  # fmt: skip

"""Schemas (reject, tag, unknown events per project), enrichers, and config errors by key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from streamgauge.cli.main import cli
from streamgauge.config import load_settings
from streamgauge.errors import ConfigError
from streamgauge.pipeline import Pipeline
from tests.pipeline.conftest import IPHONE, ctx, event, run, settings

CHECKOUT = {
    "event": "checkout.*",
    "properties": {
        "plan": {"type": "string", "required": True, "enum": ["free", "pro"]},
        "coupon": {"type": "string", "pattern": "^[A-Z]{4}$", "max_length": 4},
        "amount": {"type": "number"},
    },
}


def test_schema_rejects_with_the_property_and_rule() -> None:
    pipeline = Pipeline(settings(schemas=[CHECKOUT]))
    events = [
        event(event="checkout.done", properties={"plan": "pro", "coupon": "SAVE"}),
        event(event="checkout.done", properties={"plan": "gold"}),
        event(event="checkout.done", properties={}),
        event(event="checkout.done", properties={"plan": "free", "coupon": "save10"}),
        event(event="checkout.done", properties={"plan": "free", "amount": "12"}),
        event(event="page.viewed"),
    ]
    outcome = pipeline.run(events, list(range(6)))
    assert outcome.positions == [0, 5]
    assert [(r.position, r.field, r.message) for r in outcome.rejected] == [
        (1, "properties.plan", "must be one of ['free', 'pro']"),
        (2, "properties.plan", "is required"),
        (3, "properties.coupon", "must be at most 4 characters"),
        (4, "properties.amount", "must be of type number"),
    ]


def test_tag_accepts_and_marks() -> None:
    schema = {**CHECKOUT, "on_violation": "tag", "additional_properties": False}
    [out] = run(settings(schemas=[schema]),
                event(event="checkout.done", properties={"plan": "x", "extra": 1}))  # fmt: skip
    assert ctx(out) == {"schema_violations": [
        "properties.plan: must be one of ['free', 'pro']",
        "properties.extra: is not allowed by the schema",
    ]}  # fmt: skip


def test_unknown_events_per_project() -> None:
    config = settings(schemas=[CHECKOUT], unknown_events="tag",
                      project_unknown_events={"shop": "reject"})  # fmt: skip
    outcome = Pipeline(config).run([event(event="mystery")], [0])
    assert [(r.field, r.message) for r in outcome.rejected] == [
        ("event", "no schema accepts events named 'mystery'")
    ]
    other = settings(schemas=[CHECKOUT], unknown_events="tag")
    [out] = run(other, event(event="mystery"))
    assert ctx(out) == {"schema_violations": ["event: no schema for 'mystery'"]}


def test_schema_evolution_applies_to_new_events_only() -> None:
    strict = settings(schemas=[{"event": "a", "properties": {"x": {"required": True}}}])
    relaxed = settings(schemas=[{"event": "a", "properties": {"x": {"required": False}}}])
    assert len(Pipeline(strict).run([event(event="a")], [0]).rejected) == 1
    assert len(Pipeline(relaxed).run([event(event="a")], [0]).events) == 1


def test_user_agent_enrichment() -> None:
    config = settings(enrichment={"user_agent": {"enabled": True}})
    out = run(config, event(context={"userAgent": IPHONE}),
              event(properties={"$user_agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}),
              event())  # fmt: skip
    assert ctx(out[0])["ua"] == {"browser": "Mobile Safari", "browser_version": "17.1",
                                 "os": "iOS", "os_version": "17.1", "device_type": "mobile",
                                 "is_bot": False}  # fmt: skip
    assert ctx(out[1])["ua"]["device_type"] == "bot" and ctx(out[1])["ua"]["is_bot"] is True
    assert out[2].context is None


@pytest.mark.parametrize(
    ("anonymize", "ip_after"), [("keep", "81.2.69.160"), ("truncate", "81.2.69.0"), ("drop", None)]
)
def test_geoip_enrichment(geo_database: Path, anonymize: str, ip_after: str | None) -> None:
    config = settings(enrichment={"geoip": {"database": str(geo_database),
                                            "anonymize": anonymize}})  # fmt: skip
    out = run(config, event(context={"ip": "81.2.69.160"}), event(context={"ip": "2001:db8::7"}),
              event(context={"ip": "8.8.8.8"}))  # fmt: skip
    assert ctx(out[0]).get("geo") == {"country": "GB", "region": "ENG", "city": "London"}
    assert ctx(out[0]).get("ip") == ip_after
    assert ctx(out[1])["geo"] == {"country": "DE", "region": None, "city": None}
    assert "geo" not in (ctx(out[2]) or {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("transforms:\n  - {type: drop, fields: [event_id]}\n",
         "pipeline.transforms[0]: 'event_id' cannot be changed"),
        ("transforms:\n  - {type: nope}\n", "pipeline.transforms[0].type: Invalid value 'nope'"),
        ("transforms:\n  - {type: filter}\n", "pipeline.transforms[0]: a filter needs `when`"),
        ("transforms:\n  - {type: sample, rate: 2}\n", "pipeline.transforms[0]: rate must be in"),
        ("transforms:\n  - {type: hash, fields: [user_id], key_env: SG_NO_SUCH_KEY}\n",
         "pipeline.transforms[0]: the hash key variable SG_NO_SUCH_KEY is not set"),
        ("transforms:\n  - {type: redact, custom: ['(']}\n",
         "pipeline.transforms[0]: '(' is not a valid regular expression"),
        ("schemas:\n  - {event: a, properties: {x: {type: text}}}\n",
         "pipeline.schemas[0]: properties.x.type: Invalid enum value 'text'"),
        ("columns:\n  - {name: event, from: properties.e}\n",
         "pipeline.columns[0]: 'event' is a built-in column"),
        ("columns:\n  - {name: Plan, from: properties.plan}\n", "pipeline.columns[0].name"),
        ("destinations:\n  - {type: webhook, name: w, url: ftp://x}\n",
         "pipeline.destinations[0].url"),
        ("enrichment:\n  geoip: {database: /nonexistent.mmdb}\n",
         "pipeline.enrichment.geoip: no MaxMind database at /nonexistent.mmdb"),
    ],
)  # fmt: skip
def test_config_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sg.yaml"
    path.write_text("pipeline:\n" + "".join(f"  {line}\n" for line in text.splitlines()))
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert message in error.value.message


def test_pipeline_test_command_prints_each_stage(tmp_path: Path) -> None:
    path = tmp_path / "sg.yaml"
    path.write_text(
        "pipeline:\n  enrichment: {user_agent: {enabled: true}}\n  transforms:\n"
        "    - {type: redact, patterns: [email]}\n"
        "    - {type: filter, name: bots,\n"
        "       when: {where: [{field: context.ua.is_bot, value: true}]}}\n"
    )
    body = json.dumps({"event": "signup", "id": "e1", "properties": {"email": "a@b.io"},
                       "context": {"userAgent": "curl/8.4.0"}})  # fmt: skip
    result = CliRunner().invoke(
        cli, ["pipeline", "test", "--config", str(path), "--event", body, "-o", "json"]
    )
    assert result.exit_code == 0, result.output
    stages = json.loads(result.output)
    assert [(s["stage"], s["note"]) for s in stages] == [
        ("normalized", ""), ("enrich:user_agent", ""), ("0:redact", ""), ("1:bots", "discarded"),
    ]  # fmt: skip
    assert stages[2]["event"]["properties"] == {"email": "[redacted]"}
    assert stages[3]["event"] is None


def test_the_example_streamgauge_yaml_is_valid(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMGAUGE_HASH_KEY", "example")
    pipeline = load_settings(repo_root / "streamgauge.yaml", environ={}).pipeline
    kinds = [type(t).__name__ for t in pipeline.transforms]
    assert kinds == ["FilterTransform", "FilterTransform", "DropTransform", "RenameTransform",
                     "SetTransform", "DefaultTransform", "RedactTransform", "HashTransform",
                     "SampleTransform", "SqlTransform"]  # fmt: skip
    assert [type(d).__name__ for d in pipeline.destinations] == [
        "WebhookDestination", "FilesDestination", "NatsDestination",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "properties",
    [{"plan": "pro"}, {"plan": "pro", "coupon": "SAVE", "amount": 3}, {"plan": None},
     {"plan": "pro", "amount": True}, {"plan": "pro", "coupon": "ABCDE"}, {}],
)  # fmt: skip
def test_the_fast_path_agrees_with_the_rules(properties: dict[str, object]) -> None:
    fast = Pipeline(settings(schemas=[CHECKOUT])).run(
        [event(event="checkout.x", properties=properties)], [0]
    )
    slow_pipeline = Pipeline(settings(schemas=[CHECKOUT]))
    assert slow_pipeline.schemas is not None
    slow_pipeline.schemas.schemas[0].fast = None
    slow = slow_pipeline.run([event(event="checkout.x", properties=properties)], [0])
    assert [(r.field, r.message) for r in fast.rejected] == [
        (r.field, r.message) for r in slow.rejected
    ]
    assert len(fast.events) == len(slow.events)

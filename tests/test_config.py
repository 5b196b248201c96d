"""Settings are declared once: documented, validated with the key named, overridable by env."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamgauge.config import describe, load_settings, settings_markdown
from streamgauge.errors import ConfigError


def test_every_setting_is_documented() -> None:
    undocumented = [key for key, _, _, description in describe() if not description.strip()]
    assert undocumented == []


def test_docs_settings_md_is_generated_from_the_code(repo_root: Path) -> None:
    assert (repo_root / "docs" / "settings.md").read_text() == settings_markdown(), (
        "docs/settings.md is stale: run `streamgauge config docs > docs/settings.md`"
    )


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "sg.yaml"
    path.write_text("ingest:\n  max_batch_events: 7\n  max_body_bytes: 99\n")
    settings = load_settings(path, environ={"STREAMGAUGE_INGEST__MAX_BODY_BYTES": "123"})
    assert (settings.ingest.max_batch_events, settings.ingest.max_body_bytes) == (7, 123)
    assert settings.dedup.window_s == 7 * 86400.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ingest:\n  max_batch_events: -1\n", "ingest.max_batch_events: Expected `int` >= 1"),
        ("ingest:\n  max_batch_events: many\n", "ingest.max_batch_events: Expected `int`"),
        ("ingest:\n  nope: 1\n", "ingest: Object contains unknown field `nope`"),
        ("nosuchsection: {}\n", "Object contains unknown field `nosuchsection`"),
        ("- a list\n", "must hold a mapping of sections"),
        ("ingest: [\n", "is not valid YAML"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sg.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert message in caught.value.message


def test_env_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"hot\.max_batch_events"):
        load_settings(environ={"STREAMGAUGE_HOT__MAX_BATCH_EVENTS": "lots"})


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "absent.yaml")

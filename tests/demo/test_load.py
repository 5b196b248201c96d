"""``streamgauge demo``: a fresh data directory, filled through the log, refused when not fresh."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from streamgauge.cli.main import cli
from streamgauge.config import Settings
from streamgauge.demo.load import DemoRefused, demo_plan, load_demo
from streamgauge.runtime import DataPaths

NOW = datetime(2026, 3, 4, 15, 30, 12, tzinfo=UTC)


def test_the_plan_starts_at_a_utc_midnight_and_ends_now() -> None:
    plan = demo_plan(events=7_000, days=7, seed=1, organizations=3, now=NOW)
    assert plan.traffic.start == datetime(2026, 2, 25, tzinfo=UTC)
    assert plan.until == NOW and plan.traffic.end > NOW
    assert plan.traffic.projects == 1 and plan.traffic.organizations_per_project == 3


def test_events_reach_the_hot_store_through_the_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    plan = demo_plan(events=3_000, days=2, seed=2, organizations=3, now=NOW)
    summary = load_demo(data, Settings(), plan, project="shop")
    assert 2_700 < summary.events < 3_300 and summary.end == NOW
    with duckdb.connect(str(DataPaths(data).hot), read_only=True) as con:
        row = con.execute(
            "SELECT count(*), count(DISTINCT project_id), count(DISTINCT organization_id), "
            "max(timestamp) < ?, count(*) FILTER (WHERE usage_quantity IS NOT NULL) > 0 "
            "FROM events",
            [NOW],
        ).fetchone()
    assert row == (summary.events, 1, 3, True, True)
    with pytest.raises(DemoRefused, match="already holds events"):
        load_demo(data, Settings(), plan)


def test_the_command_reports_what_it_loaded(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(
        cli, ["demo", "--data-dir", str(data), "--events", "2000", "--days", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "demo events for project 'default' (6 organizations)" in result.output
    again = CliRunner().invoke(cli, ["demo", "--data-dir", str(data), "--events", "2000"])
    assert again.exit_code == 1 and "already holds events" in again.output

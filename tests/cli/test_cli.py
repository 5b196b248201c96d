"""The command line: every command documented with an example, errors as clear exits."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from streamgauge.cli.main import cli


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
    return found


@pytest.mark.parametrize("path", all_commands(cli), ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_version() -> None:
    result = CliRunner().invoke(cli, ["version"])
    assert result.exit_code == 0 and result.output.strip() == "0.1.0"


def test_config_check_names_the_wrong_key(tmp_path: Path) -> None:
    path = tmp_path / "sg.yaml"
    path.write_text("log:\n  cache_mib: 0\n")
    result = CliRunner().invoke(cli, ["config", "check", str(path)])
    assert result.exit_code == 2
    assert "log.cache_mib: Expected `int` >= 1" in result.output


def test_config_show_prints_effective_settings(tmp_path: Path) -> None:
    path = tmp_path / "sg.yaml"
    path.write_text("query:\n  max_rows: 5\n")
    result = CliRunner().invoke(cli, ["config", "show", "--config", str(path), "-o", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["query"]["max_rows"] == 5


def test_revoking_an_unknown_key_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["keys", "revoke", "abc", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "no active key with id 'abc'" in result.output


def test_dlq_on_a_missing_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["dlq", "list", "--data-dir", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "no event log at" in result.output

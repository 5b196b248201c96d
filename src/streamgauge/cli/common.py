"""What every command module shares: the common options and the error-to-exit mapping."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from streamgauge.cli.output import errors
from streamgauge.config import Settings, load_settings
from streamgauge.errors import ConfigError, StartupRefused, StreamgaugeError

P = ParamSpec("P")
R = TypeVar("R")

OUTPUT = click.option(
    "--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="Output format.",
)  # fmt: skip
DATA_DIR = click.option(
    "--data-dir", type=click.Path(path_type=Path), default=Path("data"), show_default=True,
    envvar="STREAMGAUGE_DATA_DIR", help="Where all state lives.",
)  # fmt: skip
CONFIG = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
    envvar="STREAMGAUGE_CONFIG", help="YAML config file (see docs/settings.md).",
)  # fmt: skip


def clear_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn streamgauge errors into one line on stderr and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (ConfigError, StartupRefused) as error:
            errors.print(f"[red]error:[/red] {error.message}")
            sys.exit(2)
        except StreamgaugeError as error:
            errors.print(f"[red]error:[/red] {error.message}")
            sys.exit(1)

    return wrapper


def settings_from(config_path: Path | None) -> Settings:
    """Defaults, then the file, then the environment."""
    return load_settings(config_path)

"""``streamgauge archive …`` and ``streamgauge export``: the archive tier from the shell.

Maintenance commands open the Iceberg catalog directly (the SQLite catalog and
the table's optimistic commits allow it beside a running server); ``flush``
asks the running server, which owns the archive sink's buffer.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import httpx
import msgspec
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from streamgauge.cli.common import CONFIG, DATA_DIR, OUTPUT, clear_errors, settings_from
from streamgauge.cli.output import emit_object
from streamgauge.errors import BadRequest, StreamgaugeError

if TYPE_CHECKING:  # the archive (pyiceberg) loads only when a command needs it
    from streamgauge.archive import Archive


def _archive(data_dir: Path, config_path: Path | None) -> Archive:
    from streamgauge.archive import Archive, ArchiveSettings

    location = ArchiveSettings.from_config(settings_from(config_path).archive)
    return Archive(location, data_dir)


def _plain(value: Any) -> dict[str, Any]:
    return msgspec.to_builtins(asdict(value))  # type: ignore[no-any-return]


def _time(value: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"--{name} must be ISO-8601, e.g. 2025-10-01T00:00:00Z") from None


@click.group("archive")
def archive_group() -> None:
    """Inspect and maintain the Iceberg archive (streamgauge.events).

    Example: streamgauge archive status --data-dir ./data
    """


@archive_group.command("status")
@DATA_DIR
@CONFIG
@OUTPUT
@clear_errors
def archive_status(data_dir: Path, config_path: Path | None, output: str) -> None:
    """Snapshots, files, sizes per day partition, and the log offset committed.

    Example: streamgauge archive status -o json
    """
    from streamgauge.archive import status

    emit_object(status(_archive(data_dir, config_path)).to_json(), output)


@archive_group.command("flush")
@click.option("--url", default="http://127.0.0.1:8788", show_default=True,
              help="The running server's query port.")  # fmt: skip
@click.option("--key", envvar="STREAMGAUGE_KEY", default=None, help="An admin key.")
@OUTPUT
@clear_errors
def archive_flush(url: str, key: str | None, output: str) -> None:
    """Ask the running server to commit what the archive sink buffers, now.

    Example: streamgauge archive flush --url http://127.0.0.1:8788 --key sg_a_...
    """
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx.post(f"{url}/archive/flush", headers=headers, timeout=180)
    except httpx.HTTPError as error:
        raise StreamgaugeError(f"no streamgauge server answered at {url}: {error}") from None
    if response.status_code != 200:
        message = response.json().get("error", {}).get("message", response.text)
        raise StreamgaugeError(message, status=response.status_code)
    emit_object(response.json(), output)


@archive_group.command("compact")
@DATA_DIR
@CONFIG
@click.option("--day", default=None, help="Only this day partition (YYYY-MM-DD).")
@OUTPUT
@clear_errors
def archive_compact(data_dir: Path, config_path: Path | None, day: str | None, output: str) -> None:
    """Rewrite small files of day partitions into target-size files, in one atomic commit.

    Example: streamgauge archive compact --day 2025-10-03
    """
    from streamgauge.archive import compact

    chosen = _time(day, "day").date() if day else None
    emit_object(_plain(compact(_archive(data_dir, config_path), day=chosen)), output)


@archive_group.command("expire-snapshots")
@DATA_DIR
@CONFIG
@click.option("--keep", type=int, default=None, help="Keep at least this many snapshots.")
@click.option("--max-age", "max_age_s", type=float, default=None, help="Seconds.")
@OUTPUT
@clear_errors
def archive_expire(
    data_dir: Path, config_path: Path | None, keep: int | None, max_age_s: float | None,
    output: str,
) -> None:  # fmt: skip
    """Remove old snapshots (never the newest ones, never one an offset depends on).

    Example: streamgauge archive expire-snapshots --keep 10
    """
    from streamgauge.archive import expire_snapshots

    expired = expire_snapshots(_archive(data_dir, config_path), keep=keep, max_age_s=max_age_s)
    emit_object({"expired_snapshots": expired}, output)


@archive_group.command("remove-orphans")
@DATA_DIR
@CONFIG
@click.option(
    "--min-age",
    "min_age_s",
    type=float,
    default=None,
    help="Only files older than this many seconds (default: archive.orphan_min_age_s).",
)
@click.option("--dry-run", is_flag=True, help="Only list what would go.")
@OUTPUT
@clear_errors
def archive_orphans(
    data_dir: Path, config_path: Path | None, min_age_s: float | None, dry_run: bool, output: str
) -> None:  # fmt: skip
    """Delete files no live snapshot references, older than the safety age.

    Example: streamgauge archive remove-orphans --dry-run
    """
    from streamgauge.archive import remove_orphans

    archive = _archive(data_dir, config_path)
    emit_object(_plain(remove_orphans(archive, min_age_s=min_age_s, dry_run=dry_run)), output)


@click.command("export")
@DATA_DIR
@CONFIG
@click.option("--since", required=True, help="Start, ISO-8601 (inclusive).")
@click.option("--until", required=True, help="End, ISO-8601 (exclusive).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv", "ndjson"]), default="parquet",
              show_default=True)  # fmt: skip
@click.option("--output", "output_path", type=click.Path(path_type=Path), default=None,
              help="File to write (default: events-SINCE-UNTIL.FORMAT).")  # fmt: skip
@clear_errors
def export_command(
    data_dir: Path, config_path: Path | None, since: str, until: str, fmt: str,
    output_path: Path | None,
) -> None:  # fmt: skip
    """Export archived events of [since, until) to Parquet, CSV or NDJSON.

    Exports what the archive has committed: run `streamgauge archive flush` first
    to include the last minute.

    Example: streamgauge export --since 2025-10-01T00:00Z --until 2025-11-01T00:00Z --format csv
    """
    from streamgauge.archive import export

    start, end = _time(since, "since"), _time(until, "until")
    path = output_path or Path(f"events-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}")
    columns = (TextColumn("exporting"), BarColumn(), TextColumn("{task.completed:,} events"),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns) as progress:
        task = progress.add_task("export", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total or None)

        result = export(_archive(data_dir, config_path), start, end, fmt, path, advance)  # type: ignore[arg-type]
    click.echo(f"{result.path}: {result.events:,} events")

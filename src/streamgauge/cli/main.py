"""The ``streamgauge`` command line.

Every command is a thin shell over a typed API; every command's help ends
with an example; errors become one clear line on stderr and a non-zero exit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from streamgauge import __version__
from streamgauge.cli.common import CONFIG, DATA_DIR, OUTPUT, clear_errors, settings_from
from streamgauge.cli.output import emit_object, emit_rows, errors
from streamgauge.config import effective, load_settings, settings_markdown
from streamgauge.keys import KeyStore, open_key_store
from streamgauge.paths import DataPaths
from streamgauge.scope import KeyScope


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="streamgauge")
def cli() -> None:
    """streamgauge: real-time analytics — exact numbers, sub-second freshness.

    Example: streamgauge serve --data-dir ./data
    """


@cli.command()
@DATA_DIR
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--ingest-port", default=8787, show_default=True, help="Port of the ingest API.")
@click.option(
    "--query-port", default=8788, show_default=True, help="Port of queries and dashboard."
)
@CONFIG
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))  # fmt: skip
@click.option("--role", "roles", multiple=True, default=("all",), show_default=True,
              type=click.Choice(["ingest", "sink", "query", "all"]),
              help="What this process does (repeatable); see docs/scaling-out.md.")  # fmt: skip
@clear_errors
def serve(
    data_dir: Path, host: str, ingest_port: int, query_port: int, config_path: Path | None,
    log_level: str, roles: tuple[str, ...],
) -> None:  # fmt: skip
    """Run the embedded pipeline: ingest, log, hot store, queries, dashboard.

    Example: streamgauge serve --data-dir ./data --host 127.0.0.1 --ingest-port 8787

    Distributed: streamgauge serve --config cluster.yaml --role ingest
    """
    from streamgauge.cluster.roles import parse_roles
    from streamgauge.logs import setup_logging
    from streamgauge.server import serve as run

    setup_logging(log_level)
    run(data_dir, host, ingest_port, query_port, settings_from(config_path), parse_roles(roles))


@cli.command()
def version() -> None:
    """Print the version.

    Example: streamgauge version
    """
    click.echo(__version__)


@cli.command()
@DATA_DIR
@click.option("--events", default=250_000, show_default=True, help="About how many events.")
@click.option("--days", default=7.0, show_default=True,
              help="Days of traffic ending now (from a UTC midnight).")  # fmt: skip
@click.option("--organizations", default=6, show_default=True, help="Customer organizations.")
@click.option("--project", default="default", show_default=True,
              help="Project of the events (key-less loopback servers show 'default').")  # fmt: skip
@click.option("--seed", default=7, show_default=True, help="The same seed gives the same traffic.")
@CONFIG
@clear_errors
def demo(
    data_dir: Path, events: int, days: float, organizations: int, project: str, seed: int,
    config_path: Path | None,
) -> None:  # fmt: skip
    """Fill a fresh data directory with a realistic, seeded week of traffic for the dashboard.

    Organizations, users and sessions calling API endpoints, page views, a signup
    and checkout funnel, usage for billing, and an incident (an error spike and a
    latency regression on POST /api/orders). Events go through the log into every sink.

    Example: streamgauge demo --data-dir ./data && streamgauge serve --data-dir ./data
    """
    from rich.progress import Progress

    from streamgauge.demo.load import demo_plan, load_demo

    plan = demo_plan(events=events, days=days, seed=seed, organizations=organizations)
    with Progress(console=errors, transient=True) as bar:
        task = bar.add_task("appending demo events", total=events)
        summary = load_demo(
            data_dir, settings_from(config_path), plan, project=project,
            progress=lambda appended: bar.advance(task, appended),
        )  # fmt: skip
    click.echo(
        f"{summary.events} demo events for project {summary.project!r} "
        f"({summary.organizations} organizations) from {_iso(int(summary.start.timestamp()))} "
        f"to {_iso(int(summary.end.timestamp()))}; incident at "
        f"{_iso(int(summary.incident_start.timestamp()))}.\n"
        f"Next: streamgauge serve --data-dir {data_dir}  (dashboard on http://127.0.0.1:8788/)"
    )


# -- keys -----------------------------------------------------------------------


@cli.group()
def keys() -> None:
    """Create, list and revoke API keys.

    Example: streamgauge keys create --project shop --scope write
    """


def _key_rows(infos: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "key_id": k.key_id,
            "project": k.project_id,
            "scope": k.scope.value,
            "organization": k.organization_id,
            "name": k.name,
            "created_at": _iso(k.created_at),
            "revoked_at": _iso(k.revoked_at) if k.revoked_at else None,
        }
        for k in infos
    ]


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_store(data_dir: Path, config_path: Path | None) -> KeyStore:
    """The keys the servers of this config use (shared ones when the catalog is Postgres)."""
    return open_key_store(settings_from(config_path), DataPaths(data_dir).keys)


@keys.command("create")
@DATA_DIR
@CONFIG
@click.option("--project", required=True, help="The project the key belongs to.")
@click.option("--scope", type=click.Choice([s.value for s in KeyScope]), required=True,
              help="write: ingest only; read: query; admin: everything.")  # fmt: skip
@click.option("--organization", default=None, help="Limit a read key to one organization's rows.")
@click.option("--name", default=None, help="A note saying what the key is for.")
@OUTPUT
@clear_errors
def keys_create(
    data_dir: Path,
    config_path: Path | None,
    project: str,
    scope: str,
    organization: str | None,
    name: str | None,
    output: str,
) -> None:
    """Create a key; its secret is shown once and stored only as a hash.

    Example: streamgauge keys create --project shop --scope read --organization org_456
    """
    store = _key_store(data_dir, config_path)
    info, secret = store.create(project, KeyScope(scope), organization_id=organization, name=name)
    emit_object({**_key_rows([info])[0], "secret": secret}, output)
    if output == "text":
        errors.print("Keep the secret now: it cannot be shown again.")


@keys.command("list")
@DATA_DIR
@CONFIG
@click.option("--project", default=None, help="Only this project's keys.")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@OUTPUT
@clear_errors
def keys_list(
    data_dir: Path, config_path: Path | None, project: str | None, include_revoked: bool,
    output: str,
) -> None:  # fmt: skip
    """List keys (never their secrets).

    Example: streamgauge keys list --project shop
    """
    store = _key_store(data_dir, config_path)
    rows = _key_rows(store.list(project_id=project, include_revoked=include_revoked))
    emit_rows(rows, output, title="API keys")


@keys.command("revoke")
@DATA_DIR
@CONFIG
@click.argument("key_id")
@clear_errors
def keys_revoke(data_dir: Path, config_path: Path | None, key_id: str) -> None:
    """Revoke a key by its id; a running server refuses it within a second.

    Example: streamgauge keys revoke 3f9a1c2b7d4e
    """
    _key_store(data_dir, config_path).revoke(key_id)
    click.echo(f"revoked {key_id}")


# -- dead letters -----------------------------------------------------------------


@cli.group()
def dlq() -> None:
    """Inspect and replay rejected events (the dead-letter store).

    Example: streamgauge dlq list --project shop
    """


def _letter_row(entry: Any, *, payload: bool = False) -> dict[str, Any]:
    row = {
        "id": entry.id,
        "project": entry.project_id,
        "received_at": _iso(entry.received_at // 1_000_000),
        "source": entry.source,
        "field": entry.field,
        "reason": entry.reason,
    }
    if payload:
        row["payload"] = entry.payload.decode(errors="replace")
        row["replayed_at"] = _iso(entry.replayed_at // 1_000_000) if entry.replayed_at else None
    return row


@dlq.command("list")
@DATA_DIR
@click.option("--project", default=None, help="Only this project's dead letters.")
@click.option("--limit", default=50, show_default=True, help="Newest N.")
@click.option("--all", "include_replayed", is_flag=True, help="Include replayed ones.")
@OUTPUT
@clear_errors
def dlq_list(
    data_dir: Path, project: str | None, limit: int, include_replayed: bool, output: str
) -> None:
    """List rejected events, newest first, with the reason.

    Example: streamgauge dlq list --project default --limit 20
    """
    from streamgauge.dlq import DeadLetterStore

    store = DeadLetterStore(DataPaths(data_dir).log)
    entries = store.list(project_id=project, limit=limit, include_replayed=include_replayed)
    emit_rows([_letter_row(e) for e in entries], output, title="Dead letters")


@dlq.command("show")
@DATA_DIR
@click.argument("entry_id", type=int)
@OUTPUT
@clear_errors
def dlq_show(data_dir: Path, entry_id: int, output: str) -> None:
    """Show one rejected event with its raw payload.

    Example: streamgauge dlq show 42
    """
    from streamgauge.dlq import DeadLetterStore

    emit_object(
        _letter_row(DeadLetterStore(DataPaths(data_dir).log).get(entry_id), payload=True), output
    )


@dlq.command("replay")
@DATA_DIR
@CONFIG
@click.option("--project", default=None, help="Only this project's dead letters.")
@click.option("--id", "entry_ids", type=int, multiple=True, help="Only these ids (repeatable).")
@OUTPUT
@clear_errors
def dlq_replay(
    data_dir: Path,
    config_path: Path | None,
    project: str | None,
    entry_ids: tuple[int, ...],
    output: str,
) -> None:
    """Re-validate rejected events and ingest those that now pass.

    Works while the server runs: replayed events go through the log like any other.

    Example: streamgauge dlq replay --project default
    """
    from streamgauge.dlq import DeadLetterStore
    from streamgauge.log.local import LocalLog

    settings = settings_from(config_path)
    paths = DataPaths(data_dir)
    store = DeadLetterStore(paths.log)
    entries = (
        [store.get(i) for i in entry_ids]
        if entry_ids
        else store.list(project_id=project, limit=1_000_000)
    )
    log = LocalLog(paths.log, dedup_window_s=settings.dedup.window_s)
    try:
        outcome = store.replay(log, [e for e in entries if e.replayed_at is None], settings.ingest)
    finally:
        log.close()
    emit_object(
        {"replayed": outcome.replayed, "duplicates": outcome.duplicates,
         "still_invalid": outcome.still_invalid},
        output,
    )  # fmt: skip


# -- configuration --------------------------------------------------------------------


@cli.group()
def config() -> None:
    """Check and show the configuration.

    Example: streamgauge config check streamgauge.yaml
    """


@config.command("check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@clear_errors
def config_check(file: Path) -> None:
    """Validate a config file; say what is wrong and where.

    Example: streamgauge config check streamgauge.yaml
    """
    load_settings(file)
    click.echo(f"{file}: ok")


@config.command("show")
@CONFIG
@click.option(
    "--output", "-o", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True
)
@clear_errors
def config_show(config_path: Path | None, output: str) -> None:
    """Print the effective configuration: defaults, then the file, then environment.

    Example: streamgauge config show --config streamgauge.yaml
    """
    import msgspec
    import yaml

    values = effective(settings_from(config_path))
    click.echo(msgspec.json.encode(values).decode() if output == "json" else yaml.safe_dump(values))


@config.command("docs")
def config_docs() -> None:
    """Print every setting as a Markdown table (docs/settings.md is this output).

    Example: streamgauge config docs > docs/settings.md
    """
    click.echo(settings_markdown(), nl=False)


# -- billing (its own module; it reuses the options above) ---------------------------

from streamgauge.cli.billing import billing  # noqa: E402

cli.add_command(billing)

from streamgauge.cli.archive import archive_group, export_command  # noqa: E402

cli.add_command(archive_group)
cli.add_command(export_command)

from streamgauge.cli.pipeline import pipeline_group  # noqa: E402

cli.add_command(pipeline_group)

from streamgauge.cli.query import query_command, sql_command  # noqa: E402

cli.add_command(query_command)
cli.add_command(sql_command)

from streamgauge.cli.cluster import cluster_group  # noqa: E402

cli.add_command(cluster_group)

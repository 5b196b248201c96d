"""``streamgauge query`` and ``streamgauge sql``: questions from the shell.

Answers come from the running server (``--url``, ``--key``); with none
running, from the data directory's hot store. Output as a table, JSON or CSV;
``--chart`` plots a time series in the terminal.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

import click
import msgspec

from streamgauge.cli.common import DATA_DIR, clear_errors
from streamgauge.cli.output import console, emit_rows
from streamgauge.cli.remote import KEY, URL, ServerAbsent, hot_store, post
from streamgauge.errors import BadRequest
from streamgauge.scope import KeyScope, Principal

FORMAT = click.option(
    "--output", "-o", type=click.Choice(["table", "json", "csv"]), default="table",
    show_default=True, help="How to print the answer.",
)  # fmt: skip
PROJECT = click.option(
    "--project", default="default", show_default=True,
    help="The project, when reading a data directory directly (a key names it otherwise).",
)  # fmt: skip


def _param(value: str) -> tuple[str, Any]:
    name, sep, raw = value.partition("=")
    if not sep or not name:
        raise BadRequest(f"--param takes name=value, not {value!r}")
    try:
        return name, msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return name, raw  # a plain string


def _body(
    text: str | None, since: str | None, until: str | None, params: tuple[str, ...]
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if text:
        try:
            body = msgspec.json.decode(text)
        except msgspec.DecodeError as error:
            raise BadRequest(f"the query is not valid JSON: {error}") from None
        if not isinstance(body, dict):
            raise BadRequest("the query must be a JSON object")
    if since:
        body["start"] = since if since.startswith(("-", "now")) or "T" in since else f"-{since}"
    if until:
        body["end"] = until
    body.update(_param(p) for p in params)
    return body


def _print(answer: dict[str, Any], output: str, chart: bool) -> None:
    rows: list[dict[str, Any]] = answer.get("data", [])
    if output == "json":
        sys.stdout.write(msgspec.json.encode(answer).decode() + "\n")
    elif output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if rows:
            writer.writerow(rows[0].keys())
        writer.writerows(row.values() for row in rows)
        sys.stdout.write(buffer.getvalue())
    else:
        emit_rows(rows, "text")
        meta = answer.get("meta", {})
        console.print(f"[dim]{meta.get('rows', len(rows))} rows · {meta.get('elapsed_ms', '?')} ms"
                      f" · tiers {', '.join(meta.get('tiers', []))}[/dim]")  # fmt: skip
    if chart:
        plot(rows)


def plot(rows: list[dict[str, Any]]) -> None:
    """A terminal chart of every numeric column over ``time``."""
    import plotext

    if not rows or "time" not in rows[0]:
        raise BadRequest("--chart needs a time series: add a groupBy other than none")
    times = [str(row["time"])[:19].replace("T", " ") for row in rows]
    numeric = [k for k, v in rows[0].items() if k != "time" and isinstance(v, int | float)]
    if not numeric:
        raise BadRequest("--chart found no numeric column to plot")
    plotext.clear_figure()
    plotext.date_form("Y-m-d H:M:S")
    for name in numeric:
        plotext.plot(times, [row[name] if row[name] is not None else 0 for row in rows], label=name)
    plotext.theme("clear")
    plotext.plotsize(None, 20)
    plotext.show()


def _local(data_dir: Path, project: str, run: Any) -> dict[str, Any]:
    with hot_store(data_dir) as con:
        return run(con, Principal(project, KeyScope.ADMIN))  # type: ignore[no-any-return]


@click.command("query")
@click.argument("dsl", required=False)
@click.option("--template", "-t", default=None, help="Run a template (see GET /templates).")
@click.option("--since", default=None, help="Start: 24h, 7d, -15m or an ISO-8601 time.")
@click.option("--until", default=None, help="End (default now).")
@click.option(
    "--param", "-p", "params", multiple=True, help="name=value (JSON or text), repeatable."
)
@click.option("--chart", is_flag=True, help="Plot the time series in the terminal.")
@FORMAT
@URL
@KEY
@DATA_DIR
@PROJECT
@clear_errors
def query_command(
    dsl: str | None, template: str | None, since: str | None, until: str | None,
    params: tuple[str, ...], chart: bool, output: str, url: str, key: str | None,
    data_dir: Path, project: str,
) -> None:  # fmt: skip
    """Run a JSON DSL query or a template and print the answer.

    Example: streamgauge query --template performance --since 24h --param groupBy=hour --chart
    """
    if not dsl and not template:
        raise BadRequest("give a JSON query or --template NAME")
    body = _body(dsl, since, until, params)
    path = f"/templates/{template}" if template else "/query"
    try:
        answer = post(url, path, key, body).json()
    except ServerAbsent:
        from streamgauge.query import run_query, run_template

        def run(con: Any, principal: Principal) -> dict[str, Any]:
            result = (
                run_template(con, principal, template, body) if template
                else run_query(con, principal, body)
            )  # fmt: skip
            return msgspec.to_builtins(result.response())  # type: ignore[no-any-return]

        answer = _local(data_dir, project, run)
    _print(answer, output, chart)


@click.command("sql")
@click.argument("statement")
@click.option("--dialect", type=click.Choice(["duckdb", "clickhouse"]), default="duckdb",
              show_default=True)  # fmt: skip
@click.option("--param", "-p", "params", multiple=True, help="name=value bound as $name.")
@click.option("--chart", is_flag=True, help="Plot the time series in the terminal.")
@FORMAT
@URL
@KEY
@DATA_DIR
@PROJECT
@clear_errors
def sql_command(
    statement: str, dialect: str, params: tuple[str, ...], chart: bool, output: str, url: str,
    key: str | None, data_dir: Path, project: str,
) -> None:  # fmt: skip
    """Run read-only SQL over your project's `events` (the same sandbox as POST /sql).

    Example: streamgauge sql "SELECT path, count(*) AS n FROM events GROUP BY path ORDER BY n DESC"
    """
    body = {"sql": statement, "dialect": dialect, "params": dict(_param(p) for p in params)}
    try:
        answer = post(url, "/sql", key, body).json()
    except ServerAbsent:
        from streamgauge.query.sql import run_sql
        from streamgauge.query.sql_source import HotEventSource

        def run(con: Any, principal: Principal) -> dict[str, Any]:
            return msgspec.to_builtins(run_sql(HotEventSource(con), principal, body))  # type: ignore[no-any-return]

        answer = _local(data_dir, project, run)
    _print(answer, output, chart)

"""``streamgauge billing``: invoices for every organization, and what changed since last time.

The numbers come over HTTP from the running server's query port (``--url``,
``--key``): the server holds the DuckDB file, so this is the way that always
works while it runs. When nothing answers at ``--url``, the command opens the
hot store under ``--data-dir`` read-only and computes the same invoices
itself (project ``--project``, prices from ``--config``). ``--since-last``
compares with the previous report of the same period, kept under
``--state-dir`` (default ``DATA_DIR/billing/reports``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import msgspec

from streamgauge.billing.reports import (
    changes,
    load_snapshot,
    save_snapshot,
    snapshot,
    snapshot_path,
)
from streamgauge.billing.schemas import InvoicesResponse
from streamgauge.cli.common import CONFIG, DATA_DIR, clear_errors, settings_from
from streamgauge.cli.output import emit_rows, errors
from streamgauge.cli.remote import ServerAbsent, hot_store, post
from streamgauge.scope import KeyScope, Principal

billing: click.Group = click.Group(
    "billing",
    help="Usage billing: invoice reports from the meters and prices in the config.\n\n"
    "Example: streamgauge billing report --period 2025-10 --format table",
)


def fetch_report(url: str, key: str | None, body: dict[str, Any]) -> InvoicesResponse:
    """``POST {url}/billing/invoices``; server errors keep their message."""
    response = post(url, "/billing/invoices", key, body)
    return msgspec.json.decode(response.content, type=InvoicesResponse)


def direct_report(
    data_dir: Path, config_path: Path | None, project: str, body: dict[str, Any]
) -> InvoicesResponse:
    """The same report computed from the hot store file (no server running)."""
    from streamgauge.billing.answers import Billing

    with hot_store(data_dir) as con:
        principal = Principal(project, KeyScope.ADMIN)
        return Billing(settings_from(config_path).billing).invoices(con, principal, body, one=False)


def _line_rows(report: InvoicesResponse) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for invoice in report.invoices:
        for line in invoice.lines:
            rows.append({
                "organization": invoice.organization_id, "sku": line.sku, "unit": line.unit,
                "quantity": line.quantity, "billable": line.billable_quantity,
                "unit_price": line.unit_price, "amount": line.amount,
                "currency": invoice.currency,
            })  # fmt: skip
        rows.append({"organization": invoice.organization_id, "sku": "total",
                     "amount": invoice.total, "currency": invoice.currency})  # fmt: skip
    columns = ["organization", "sku", "unit", "quantity", "billable", "unit_price", "amount",
               "currency"]  # fmt: skip
    return [{c: row.get(c) for c in columns} for row in rows]


@billing.command("report")
@click.option("--period", default=None, help="The month to bill, YYYY-MM.")
@click.option("--start", default=None, help="Or a range start (ISO-8601), with --end.")
@click.option("--end", default=None, help="The range end (exclusive).")
@click.option("--organization", default=None, help="Only this organization.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")  # fmt: skip
@click.option("--since-last", is_flag=True, help="Show what changed since the last report.")
@click.option("--url", default="http://127.0.0.1:8788", show_default=True,
              envvar="STREAMGAUGE_URL", help="The server's query port.")  # fmt: skip
@click.option("--key", default=None, envvar="STREAMGAUGE_KEY", help="A read or admin key.")
@click.option("--project", default="default", show_default=True,
              help="The project, when reading the data directory directly.")  # fmt: skip
@click.option("--state-dir", type=click.Path(path_type=Path), default=None,
              help="Reports kept for --since-last [DATA_DIR/billing/reports].")  # fmt: skip
@DATA_DIR
@CONFIG
@clear_errors
def report(
    period: str | None, start: str | None, end: str | None, organization: str | None, fmt: str,
    since_last: bool, url: str, key: str | None, project: str, state_dir: Path | None,
    data_dir: Path, config_path: Path | None,
) -> None:  # fmt: skip
    """Invoice every organization (or one) for a period: lines, amounts, totals.

    Each run is kept, so --since-last shows the numbers late or corrected
    events changed since the previous run for the same period.

    Example: streamgauge billing report --period 2025-10 --format csv --since-last
    """
    body = {k: v for k, v in (("period", period), ("start", start), ("end", end),
                              ("organizationId", organization)) if v is not None}  # fmt: skip
    try:
        result = fetch_report(url, key, body)
    except ServerAbsent:
        errors.print(f"no server at {url}; reading {data_dir} directly")
        result = direct_report(data_dir, config_path, project, body)
    path = snapshot_path(
        state_dir or data_dir / "billing" / "reports", period or f"{start}_{end}", organization
    )
    previous_at, previous = load_snapshot(path)
    save_snapshot(path, result)
    if since_last:
        found = changes(previous, snapshot(result))
        if fmt == "json":
            click.echo(msgspec.json.encode({"since": previous_at, "as_of": result.as_of,
                                            "changes": found}).decode())  # fmt: skip
            return
        errors.print(f"changes since the report of {previous_at or 'never'}")
        emit_rows(found, "text" if fmt == "table" else fmt, title="Changes")
        return
    if fmt == "json":
        click.echo(msgspec.json.encode(result).decode())
        return
    emit_rows(_line_rows(result), "text" if fmt == "table" else fmt, title="Invoices")
    if fmt == "table":
        errors.print(f"as of {result.as_of} (latest event included); total {result.total}")

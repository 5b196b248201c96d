"""One output interface for every command: ``--output text|json``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

console = Console()
errors = Console(stderr=True)


def emit_rows(rows: Sequence[dict[str, Any]], output: str, *, title: str | None = None) -> None:
    if output == "json":
        sys.stdout.write(msgspec.json.encode(list(rows)).decode() + "\n")
        return
    if output == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        if rows:
            writer.writerow(rows[0].keys())
        for row in rows:
            writer.writerow(row.values())
        return
    if not rows:
        console.print("(nothing)")
        return
    table = Table(title=title)
    for name in rows[0]:
        table.add_column(str(name))
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)


def emit_object(value: dict[str, Any], output: str) -> None:
    if output == "json":
        sys.stdout.write(msgspec.json.encode(value).decode() + "\n")
    else:
        for key, item in value.items():
            console.print(f"[bold]{key}[/bold]: {item}")

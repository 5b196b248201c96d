"""``billing report --since-last``: what changed between two reports of the same period.

A report's snapshot is its quantity and amount per organization, SKU and unit
(and each invoice total). Late events and corrections change a period after it
ended; comparing snapshots shows exactly which numbers moved. Snapshots are
JSON files written atomically (temporary file, then rename) in a state folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import msgspec

from .schemas import InvoicesResponse

Snapshot = dict[str, dict[str, str]]


def snapshot(report: InvoicesResponse) -> Snapshot:
    """``{"org|sku|unit": {"quantity", "amount"}, "org|total|": {...}}`` of one report."""
    found: Snapshot = {}
    for invoice in report.invoices:
        for line in invoice.lines:
            key = f"{invoice.organization_id}|{line.sku}|{line.unit or ''}"
            found[key] = {"quantity": str(line.quantity), "amount": str(line.amount)}
        for usage in invoice.unpriced:
            key = f"{invoice.organization_id}|{usage.sku or ''}|{usage.unit or ''}"
            found.setdefault(key, {"quantity": str(usage.quantity), "amount": "0"})
        found[f"{invoice.organization_id}|total|"] = {"quantity": "", "amount": str(invoice.total)}
    return found


def changes(before: Snapshot, now: Snapshot) -> list[dict[str, Any]]:
    """Every key whose quantity or amount differs (new and vanished keys included)."""
    rows = []
    for key in sorted(before.keys() | now.keys()):
        old, new = before.get(key, {}), now.get(key, {})
        if old == new:
            continue
        organization, sku, unit = key.split("|")
        rows.append({
            "organization": organization, "sku": sku, "unit": unit or None,
            "quantity_before": old.get("quantity"), "quantity_now": new.get("quantity"),
            "amount_before": old.get("amount"), "amount_now": new.get("amount"),
        })  # fmt: skip
    return rows


def snapshot_path(state_dir: Path, period: str, organization: str | None) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{period}-{organization or 'all'}")
    return state_dir / f"{name}.json"


def load_snapshot(path: Path) -> tuple[str | None, Snapshot]:
    """(when the previous report was computed, its snapshot); (None, {}) if there is none."""
    if not path.exists():
        return None, {}
    stored = msgspec.json.decode(path.read_bytes())
    return stored["computed_at"], stored["lines"]


def save_snapshot(path: Path, report: InvoicesResponse) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"computed_at": report.computed_at, "as_of": report.as_of, "lines": snapshot(report)}
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(msgspec.json.encode(body))
    os.replace(temporary, path)

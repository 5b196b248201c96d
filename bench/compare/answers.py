"""Answers in one comparable shape, and whether two contenders' answers agree.

An answer is a sorted list of row tuples: times as epoch microseconds,
integers as ``int``, floats as ``float`` (NaN as ``None``), text as ``str``.
Rows are sorted because the contenders may break ties in another order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

Row = tuple[Any, ...]
Answer = list[Row]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(value: Any) -> int:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        delta: timedelta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(value, date):
        days: int = (value - _EPOCH.date()).days
        return days * 86_400_000_000
    raise TypeError(f"not a time: {value!r}")


def _value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "t":
        return _micros(value)
    if kind == "i":
        return int(value)
    if kind in "fg":
        number = float(value)
        return None if math.isnan(number) else number
    return str(value)


def normalize(kinds: str, rows: Iterable[Sequence[Any]]) -> Answer:
    """Rows (tuples in the question's column order) as a comparable, sorted answer."""
    answer = []
    for row in rows:
        if len(row) != len(kinds):
            raise ValueError(f"expected {len(kinds)} columns, got {len(row)}: {row!r}")
        answer.append(tuple(_value(k, v) for k, v in zip(kinds, row, strict=True)))
    return sorted(answer, key=lambda r: tuple((v is None, v if v is not None else 0) for v in r))


def _close(kind: str, a: Any, b: Any) -> bool:
    if a is None or b is None or kind not in "fg":
        return bool(a == b)
    if kind == "g":
        return math.isclose(a, b, rel_tol=0.0, abs_tol=1e-6)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def compare(kinds: str, expected: Answer, actual: Answer) -> tuple[str, str]:
    """``(verdict, detail)``: verdict ``exact``, ``close`` (floats within the
    tolerance of their kind) or ``differs`` (detail: the first difference)."""
    if len(expected) != len(actual):
        return "differs", f"{len(actual)} rows instead of {len(expected)}"
    exact = True
    for number, (want, got) in enumerate(zip(expected, actual, strict=True)):
        for column, (kind, a, b) in enumerate(zip(kinds, want, got, strict=True)):
            if a == b:
                continue
            if not _close(kind, a, b):
                return "differs", f"row {number} column {column}: {b!r} instead of {a!r}"
            exact = False
    return ("exact", "") if exact else ("close", "")

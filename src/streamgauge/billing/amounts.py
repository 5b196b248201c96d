"""Exact quantities and money: the one rounding rule of every invoice.

Quantities are summed as ``DECIMAL(38, 9)``: each event's quantity is read
with 9 decimal places (the wire sends JSON numbers, stored as doubles; 9
places hold every quantity a client means, like ``0.1``), then sums are exact.
Amounts are exact ``Decimal`` products until each line's amount is rounded
once to ``billing.decimals`` places with ``billing.rounding``; the invoice
total is the sum of the rounded lines, so lines always add up to the total.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Final

QUANTITY_SQL_TYPE: Final = "DECIMAL(38, 9)"
QUANTITY_PLACES: Final = Decimal("0.000000001")
_ROUNDING: Final = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


def plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and never in exponent form (1500, not 1.5E+3)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def round_amount(value: Decimal, decimals: int, rounding: str) -> Decimal:
    """An exact amount rounded to the currency's ``decimals`` (the documented rule)."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=_ROUNDING[rounding])


def mean(total: Decimal, count: int) -> Decimal:
    """``total / count`` to 9 places (half even): the ``avg`` aggregation."""
    if count == 0:
        return Decimal(0)
    return plain((total / count).quantize(QUANTITY_PLACES, rounding=ROUND_HALF_EVEN))

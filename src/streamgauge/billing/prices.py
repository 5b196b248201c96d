"""Price models: a quantity and a price declaration in, an exact amount and its tiers out.

Rules (each pinned by hand-computed tests):

- The free allowance is taken off first: ``billable = max(0, quantity - free_quantity)``;
  a negative total (more corrections than usage) bills nothing.
- ``per_unit``: ``billable × unit_price``.
- ``package``: every started block of ``package_size`` units costs ``package_price``
  (``ceil(billable / package_size)`` blocks).
- ``graduated``: each tier prices the units that fall in it; tier *n* holds the units
  above the previous ``up_to`` up to and including its own ``up_to``. A tier's
  ``flat_fee`` is charged when any unit falls in it.
- ``volume``: the tier holding ``billable`` (``up_to`` inclusive) prices every unit,
  plus its ``flat_fee``; zero units fall in no tier.
- ``minimum_charge`` applies after rounding (see ``invoices``).

Amounts here are exact; rounding happens once per invoice line (``amounts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from streamgauge.config import PriceConfig, TierConfig

from .amounts import plain


@dataclass(frozen=True, slots=True)
class TierCharge:
    """The units one tier (or block) priced and what they cost, exactly."""

    index: int
    first_unit: Decimal  # the tier starts above this many units
    up_to: Decimal | None
    quantity: Decimal
    unit_price: Decimal
    flat_fee: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PricedQuantity:
    quantity: Decimal
    billable: Decimal
    tiers: list[TierCharge]
    amount: Decimal  # exact, before rounding and minimum


def price_quantity(price: PriceConfig, quantity: Decimal) -> PricedQuantity:
    """Price ``quantity`` with ``price``: the exact amount and how it was reached."""
    billable = max(Decimal(0), quantity - price.free_quantity)
    if price.model == "per_unit":
        tiers = [_charge(0, Decimal(0), None, billable, price.unit_price, Decimal(0))]
    elif price.model == "package":
        blocks = (billable / price.package_size).to_integral_value(rounding=ROUND_CEILING)
        tiers = [_charge(0, Decimal(0), None, blocks, price.package_price, Decimal(0))]
    elif price.model == "graduated":
        tiers = _graduated(price.tiers, billable)
    else:
        tiers = _volume(price.tiers, billable)
    amount = sum((t.amount for t in tiers), Decimal(0))
    return PricedQuantity(plain(quantity), plain(billable), tiers, amount)


def _charge(
    index: int,
    first_unit: Decimal,
    up_to: Decimal | None,
    quantity: Decimal,
    unit_price: Decimal,
    flat_fee: Decimal,
) -> TierCharge:
    fee = flat_fee if quantity > 0 else Decimal(0)
    return TierCharge(
        index, first_unit, up_to, plain(quantity), unit_price, fee, quantity * unit_price + fee
    )


def _graduated(tiers: list[TierConfig], billable: Decimal) -> list[TierCharge]:
    charges = []
    floor = Decimal(0)
    for index, tier in enumerate(tiers):
        if billable <= floor:
            break
        ceiling = billable if tier.up_to is None else min(billable, tier.up_to)
        charges.append(
            _charge(index, floor, tier.up_to, ceiling - floor, tier.unit_price, tier.flat_fee)
        )
        floor = tier.up_to if tier.up_to is not None else billable
    return charges


def _volume(tiers: list[TierConfig], billable: Decimal) -> list[TierCharge]:
    if billable <= 0:
        return []
    floor = Decimal(0)
    for index, tier in enumerate(tiers):
        if tier.up_to is None or billable <= tier.up_to:
            return [_charge(index, floor, tier.up_to, billable, tier.unit_price, tier.flat_fee)]
        floor = tier.up_to
    raise AssertionError("the last tier is open (checked when settings load)")

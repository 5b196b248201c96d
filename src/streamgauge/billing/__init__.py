"""Usage billing: meters aggregate usage events, prices turn totals into invoices.

Pure and typed: ``meters`` (definitions), ``metering`` (their bound-parameter
SQL over the scoped events), ``prices`` (price models on ``Decimal``),
``periods`` (billing periods), ``invoices`` (line items and totals),
``reports`` (what changed since the last report).
"""

from .invoices import build_invoices
from .metering import MeterTotals, aggregate_meter
from .meters import Meter, MeterCatalog
from .prices import PricedQuantity, price_quantity

__all__ = [
    "Meter",
    "MeterCatalog",
    "MeterTotals",
    "PricedQuantity",
    "aggregate_meter",
    "build_invoices",
    "price_quantity",
]

"""Every price model against hand-computed amounts, tier boundaries and rounding included."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from streamgauge.billing.amounts import plain, round_amount
from streamgauge.billing.prices import price_quantity
from streamgauge.config import PriceConfig, load_settings
from streamgauge.errors import ConfigError

D = Decimal
GRADUATED = {
    "sku": "ai", "model": "graduated",
    "tiers": [{"up_to": 1000, "unit_price": "0"},
              {"up_to": 10000, "unit_price": "0.002", "flat_fee": "1"},
              {"unit_price": "0.001"}],
}  # fmt: skip
VOLUME = {
    "sku": "ai", "model": "volume",
    "tiers": [{"up_to": 100, "unit_price": "0.10"},
              {"up_to": 1000, "unit_price": "0.08", "flat_fee": "2"},
              {"unit_price": "0.05"}],
}  # fmt: skip


def price(**fields: Any) -> PriceConfig:
    return msgspec.convert({"sku": "ai", **fields}, PriceConfig, strict=False)


@pytest.mark.parametrize(
    ("fields", "quantity", "amount", "tiers"),
    [
        # per unit: 1500 tokens × 0.00002 = 0.03
        ({"unit_price": "0.00002"}, "1500", "0.03", [("1500", "0.03")]),
        ({"unit_price": "0.00002", "free_quantity": 1000}, "1500", "0.01", [("500", "0.01")]),
        ({"unit_price": "0.00002", "free_quantity": 1000}, "999", "0", [("0", "0")]),
        # package: blocks of 1000 at 5; a started block is billed
        ({"model": "package", "package_size": 1000, "package_price": 5}, "1000", "5", [("1", "5")]),
        (
            {"model": "package", "package_size": 1000, "package_price": 5},
            "1001",
            "10",
            [("2", "10")],
        ),
        ({"model": "package", "package_size": 1000, "package_price": 5}, "0", "0", [("0", "0")]),
        # graduated: first 1000 free, 1001..10000 at 0.002 plus a fee of 1, the rest at 0.001
        (GRADUATED, "1000", "0", [("1000", "0")]),
        (GRADUATED, "1001", "1.002", [("1000", "0"), ("1", "1.002")]),
        (GRADUATED, "10000", "19", [("1000", "0"), ("9000", "19")]),
        (GRADUATED, "10001", "19.001", [("1000", "0"), ("9000", "19"), ("1", "0.001")]),
        (GRADUATED, "25000", "34", [("1000", "0"), ("9000", "19"), ("15000", "15")]),
        (GRADUATED, "0", "0", []),
        # volume: the tier holding the total prices every unit (up_to inclusive)
        (VOLUME, "100", "10", [("100", "10")]),
        (VOLUME, "101", "10.08", [("101", "10.08")]),
        (VOLUME, "1000", "82", [("1000", "82")]),
        (VOLUME, "1001", "50.05", [("1001", "50.05")]),
        (VOLUME, "0", "0", []),
        # more corrections than usage bill nothing
        ({"unit_price": "1"}, "-5", "0", [("0", "0")]),
    ],
)
def test_price_models(
    fields: dict[str, Any], quantity: str, amount: str, tiers: list[tuple[str, str]]
) -> None:
    priced = price_quantity(price(**{"sku": "ai", **fields}), D(quantity))
    assert priced.amount == D(amount)
    assert [(str(t.quantity), str(plain(t.amount))) for t in priced.tiers] == tiers


def test_graduated_tiers_say_where_they_start_and_end() -> None:
    priced = price_quantity(price(**GRADUATED), D("10001"))
    assert [(t.first_unit, t.up_to) for t in priced.tiers] == [
        (D(0), D(1000)), (D(1000), D(10000)), (D(10000), None)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("exact", "rounding", "decimals", "rounded"),
    [
        ("0.005", "half_up", 2, "0.01"),
        ("0.005", "half_even", 2, "0.00"),
        ("0.015", "half_even", 2, "0.02"),
        ("0.0149999", "half_up", 2, "0.01"),
        ("12.3456", "half_up", 0, "12"),
        ("2.5", "half_even", 0, "2"),
        ("2.5", "half_up", 0, "3"),
        ("0.00002", "half_up", 4, "0.0000"),
    ],
)
def test_rounding_rule(exact: str, rounding: str, decimals: int, rounded: str) -> None:
    assert str(round_amount(D(exact), decimals, rounding)) == rounded


@pytest.mark.parametrize(
    ("price_yaml", "message"),
    [
        ({"model": "graduated", "tiers": [{"up_to": 5}]}, "the last without up_to"),
        ({"model": "volume", "tiers": [{"up_to": 5}, {"up_to": 5}, {}]}, "strictly ascending"),
        ({"unit_price": "-1"}, "must be >= 0"),
        ({"model": "package", "package_size": 0}, "package_size must be > 0"),
    ],
)
def test_wrong_prices_fail_at_load_naming_the_key(
    price_yaml: dict[str, Any], message: str, tmp_path: Path
) -> None:
    path = tmp_path / "streamgauge.yaml"
    path.write_text(json.dumps({"billing": {"prices": [{"sku": "ai", **price_yaml}]}}))
    with pytest.raises(ConfigError) as failure:
        load_settings(path, environ={})
    assert "billing.prices[0]" in failure.value.message and message in failure.value.message

"""Money: integer minor units with an ISO 4217 currency. Never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

#: Currencies we accept, with their number of minor-unit digits (ISO 4217).
#: Deliberately a short list of what European shops sell in; add as needed.
CURRENCY_EXPONENTS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "DKK": 2,
    "NOK": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "JPY": 0,
}


def included_tax(gross: int, rate_percent: Decimal) -> int:
    """The tax contained in a gross amount (prices include tax, as EU B2C
    shops show them), rounded half-to-even to the minor unit."""
    tax = Decimal(gross) * rate_percent / (Decimal(100) + rate_percent)
    return int(tax.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def unit_share(total: int, quantity: int, before: int, units: int) -> int:
    """The share of ``total`` (what was paid for ``quantity`` units of one
    line) that ``units`` more units carry, when ``before`` were taken already.

    Cut from the running total (rounded down): the shares of one line's units
    add up to exactly ``total`` however they are split into steps, never more,
    and a step taking the last unit gets the rest of the line.
    """
    if quantity < 1 or before < 0 or units < 0 or before + units > quantity:
        raise ValueError("units must lie within the line's quantity")
    return total * (before + units) // quantity - total * before // quantity

"""What a checkout charges: shipping, pickup, discount codes and VAT per rate.

The worked examples are computed by hand in the comments; the properties
check, for random baskets, that every amount adds up to the cent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import (
    DiscountCodeAlreadyUsed,
    DiscountCodeExpired,
    DiscountCodeNotApplicable,
    DiscountCodeNotYetValid,
    DiscountCodeRefused,
    DiscountCodeUnknown,
    DiscountCodeUsedUp,
    DiscountMinimumNotReached,
    InvalidRequest,
    PickupLocationUnknown,
    ShippingMethodUnknown,
    ShippingNotAvailable,
)
from chalicelib.domain.money import included_tax
from chalicelib.domain.pricing import (
    BasketLine,
    Delivery,
    DiscountCode,
    DiscountKind,
    Pickup,
    PickupLocation,
    Pricing,
    ShippingMethod,
    allocate,
    check_code,
    normalise_code,
    normalise_email,
    price_basket,
    shipping_for,
    shipping_options,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SEVEN, NINETEEN, ZERO = Decimal("7"), Decimal("19"), Decimal("0")

TEA = BasketLine("TEA-ROOIBOS", quantity=2, unit_price=790, tax_rate=SEVEN)  # 15,80 at 7 %
MUG = BasketLine("MUG-STONE-01", quantity=1, unit_price=1490, tax_rate=NINETEEN)  # 14,90 at 19 %
BASKET = [TEA, MUG]  # 30,70 of goods

DHL = ShippingMethod(
    id="dhl-parcel",
    names={"de": "DHL Paket", "en": "DHL parcel"},
    carrier="dhl",
    price=490,
    countries=frozenset({"DE", "AT"}),
    delivery_times={"de": "2-3 Werktage", "en": "2-3 working days"},
)
STORE = PickupLocation(
    id="berlin-mitte",
    names={"de": "Laden Berlin-Mitte"},
    line1="Hauptstr. 1",
    postal_code="10115",
    city="Berlin",
    country="DE",
    opening_hours={"de": "Mo-Fr 10-19, Sa 10-16"},
)


def code(kind: DiscountKind = DiscountKind.PERCENTAGE, **fields: object) -> DiscountCode:
    defaults: dict[str, object] = {"code": "SAVE10"}
    if kind is DiscountKind.PERCENTAGE:
        defaults["percent"] = Decimal("10")
    if kind is DiscountKind.FIXED_AMOUNT:
        defaults["amount"] = 500
    return DiscountCode(kind=kind, **(defaults | fields))  # type: ignore[arg-type]


def assert_adds_up(pricing: Pricing) -> None:
    """Every sum the invoice shows, to the cent, and nothing negative."""
    lines, rates = pricing.lines, pricing.rates
    assert sum(line.gross for line in lines) == pricing.subtotal
    assert sum(line.discount for line in lines) == pricing.discount
    assert pricing.subtotal - pricing.discount == pricing.goods
    assert sum(line.total for line in lines) + pricing.shipping == pricing.total
    assert pricing.shipping_price - pricing.shipping_discount == pricing.shipping
    for line in lines:
        assert line.gross - line.discount == line.total
        assert line.net + line.tax == line.total
    assert sum(rate.gross for rate in rates) == pricing.total
    assert sum(rate.tax for rate in rates) == pricing.tax
    assert sum(rate.shipping for rate in rates) == pricing.shipping
    assert sum(rate.shipping_tax for rate in rates) == pricing.shipping_tax
    for rate in rates:
        at_rate = [line for line in lines if line.tax_rate == rate.rate]
        assert rate.goods == sum(line.total for line in at_rate)
        assert rate.goods + rate.shipping == rate.gross
        assert rate.net + rate.tax == rate.gross
        assert rate.tax == included_tax(rate.gross, rate.rate)  # once per rate
        assert sum(line.tax for line in at_rate) + rate.shipping_tax == rate.tax
        assert min(rate.goods, rate.shipping, rate.shipping_tax, rate.net, rate.tax) >= 0
    for line in lines:
        assert min(line.gross, line.discount, line.total, line.net, line.tax) >= 0
    assert min(pricing.shipping, pricing.shipping_discount, pricing.total, pricing.tax) >= 0


# --- allocate -----------------------------------------------------------------


def test_allocate_gives_the_leftover_unit_to_the_earlier_of_equal_remainders() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]


def test_allocate_gives_leftover_units_to_the_largest_remainders() -> None:
    # exact shares 3.3, 1.7, 5.0 -> floors 3, 1, 5 and one unit left: to the .7
    assert allocate(10, [33, 17, 50]) == [3, 2, 5]


def test_allocate_gives_a_zero_weight_nothing() -> None:
    assert allocate(7, [0, 1, 0, 1]) == [0, 4, 0, 3]


def test_allocate_of_nothing_is_zeros_even_over_zero_weights() -> None:
    assert allocate(0, [0, 0]) == [0, 0]
    assert allocate(0, []) == []


@pytest.mark.parametrize(("amount", "weights"), [(1, [0, 0]), (1, []), (-1, [1]), (1, [2, -1])])
def test_allocate_refuses_what_cannot_be_split(amount: int, weights: list[int]) -> None:
    with pytest.raises(ValueError):
        allocate(amount, weights)


@given(
    st.integers(0, 10**9),
    st.lists(st.integers(0, 10**8), min_size=1, max_size=30).filter(any),
)
def test_allocate_preserves_the_sum_and_stays_within_one_unit(
    amount: int, weights: list[int]
) -> None:
    parts = allocate(amount, weights)
    total = sum(weights)
    assert sum(parts) == amount
    assert len(parts) == len(weights)
    for part, weight in zip(parts, weights, strict=True):
        # |part - amount * weight / total| < 1, in integers
        assert abs(part * total - amount * weight) < total
        assert part >= 0
    assert allocate(amount, weights) == parts  # deterministic
    assert allocate(amount, list(weights)) == parts


# --- shipping and pickup ------------------------------------------------------


def test_a_method_named_in_one_language_answers_in_it_for_the_other() -> None:
    only_german = ShippingMethod("hermes", {"de": "Hermes Paket"}, "hermes", 390, frozenset({"DE"}))
    assert only_german.name("en") == "Hermes Paket"
    assert DHL.name("en") == "DHL parcel"
    assert DHL.name("de") == "DHL Paket"
    assert DHL.name("fr") == "DHL parcel"
    assert DHL.delivery_time("de") == "2-3 Werktage"
    assert only_german.delivery_time("de") is None


def test_shipping_for_refuses_a_country_the_method_does_not_serve() -> None:
    with pytest.raises(ShippingNotAvailable) as refused:
        shipping_for(DHL, "ch", 3070)
    assert refused.value.code == "shipping_method_unavailable_for_country"
    assert refused.value.details == {"method": "dhl-parcel", "country": "CH"}


def test_shipping_for_refuses_an_inactive_method_as_unknown() -> None:
    off = ShippingMethod("dpd", {"en": "DPD"}, "dpd", 490, frozenset({"DE"}), active=False)
    with pytest.raises(ShippingMethodUnknown) as refused:
        shipping_for(off, "DE", 3070)
    assert refused.value.code == "shipping_method_unknown"


def test_country_codes_are_compared_case_insensitively() -> None:
    assert shipping_for(DHL, " de ", 3070) == 490
    assert ShippingMethod("x", {"en": "X"}, "ups", 1, frozenset({"de"})).serves("DE")


def test_shipping_is_free_from_the_threshold_on() -> None:
    threshold = ShippingMethod("dhl", {"de": "DHL"}, "dhl", 490, frozenset({"DE"}), free_from=5000)
    assert shipping_for(threshold, "DE", 4999) == 490
    assert shipping_for(threshold, "DE", 5000) == 0


def test_shipping_options_lists_active_methods_for_the_country_cheapest_first() -> None:
    express = ShippingMethod("express", {"en": "Express"}, "dhl_express", 1290, frozenset({"DE"}))
    free_from_30 = ShippingMethod(
        "hermes", {"de": "Hermes"}, "hermes", 390, frozenset({"DE"}), free_from=3000
    )
    swiss = ShippingMethod("post-ch", {"de": "Post CH"}, "ups", 990, frozenset({"CH"}))
    off = ShippingMethod("dpd", {"en": "DPD"}, "dpd", 100, frozenset({"DE"}), active=False)
    methods = [express, DHL, free_from_30, swiss, off]

    options = shipping_options(methods, "DE", 2999)
    assert [(o.method.id, o.price) for o in options] == [
        ("hermes", 390),
        ("dhl-parcel", 490),
        ("express", 1290),
    ]
    options = shipping_options(methods, "DE", 3000)
    assert (options[0].method.id, options[0].price) == ("hermes", 0)
    assert shipping_options(methods, "FR", 3000) == []


def test_a_pickup_costs_nothing() -> None:
    pricing = price_basket(BASKET, Pickup(STORE))
    assert (pricing.shipping_price, pricing.shipping, pricing.total) == (0, 0, 3070)
    assert [rate.shipping for rate in pricing.rates] == [0, 0]
    assert_adds_up(pricing)


def test_a_closed_pickup_location_is_refused_as_unknown() -> None:
    closed = PickupLocation(
        "x", {"de": "Lager"}, "Weg 2", "10115", "Berlin", "DE", {"de": "—"}, active=False
    )
    with pytest.raises(PickupLocationUnknown) as refused:
        price_basket(BASKET, Pickup(closed))
    assert refused.value.code == "pickup_location_unknown"


# --- pricing by hand ----------------------------------------------------------


def test_shipping_is_split_over_the_rates_by_the_goods_value() -> None:
    pricing = price_basket(BASKET, Delivery(DHL, "DE"))
    # Shipping 490 over goods 1580 (7 %) : 1490 (19 %):
    #   exact shares 252.18 and 237.82 -> 252 and 238 (the .82 takes the leftover cent).
    # 7 %:  gross 1580 + 252 = 1832, tax 1832 * 7 / 107 = 119.85 -> 120
    #       lines: 120 over 1580 : 252 = 103.44 : 16.56 -> tea 103, shipping 17
    # 19 %: gross 1490 + 238 = 1728, tax 1728 * 19 / 119 = 275.90 -> 276
    #       lines: 276 over 1490 : 238 = 237.99 : 38.01 -> mug 238, shipping 38
    seven, nineteen = pricing.rates
    assert (seven.rate, seven.goods, seven.shipping, seven.gross, seven.tax, seven.net) == (
        SEVEN,
        1580,
        252,
        1832,
        120,
        1712,
    )
    assert (nineteen.rate, nineteen.goods, nineteen.shipping, nineteen.gross) == (
        NINETEEN,
        1490,
        238,
        1728,
    )
    assert (nineteen.tax, nineteen.net) == (276, 1452)
    tea, mug = pricing.lines
    assert (tea.tax, tea.net, mug.tax, mug.net) == (103, 1477, 238, 1252)
    assert (seven.shipping_tax, nineteen.shipping_tax, pricing.shipping_tax) == (17, 38, 55)
    assert (pricing.shipping, pricing.total, pricing.tax) == (490, 3560, 396)
    assert_adds_up(pricing)


def test_a_percentage_code_is_taken_off_the_goods_and_allocated_by_value() -> None:
    pricing = price_basket(BASKET, Delivery(DHL, "DE"), code(percent=Decimal("10")))
    # 10 % of 3070 = 307, split 1580 : 1490 -> 158 and 149 exactly
    tea, mug = pricing.lines
    assert (tea.discount, tea.total, mug.discount, mug.total) == (158, 1422, 149, 1341)
    assert (pricing.discount, pricing.goods, pricing.code) == (307, 2763, "SAVE10")
    # Shipping 490 over 1422 : 1341 = 252.18 : 237.82 -> 252 and 238
    # 7 %: 1422 + 252 = 1674 -> tax 109.51 -> 110; 19 %: 1341 + 238 = 1579 -> tax 252.11 -> 252
    seven, nineteen = pricing.rates
    assert (seven.gross, seven.tax, nineteen.gross, nineteen.tax) == (1674, 110, 1579, 252)
    assert pricing.total == 2763 + 490
    assert_adds_up(pricing)


def test_a_discount_that_does_not_divide_evenly_puts_the_cent_on_the_earlier_line() -> None:
    lines = [BasketLine(sku, 1, 100, NINETEEN) for sku in ("A", "B", "C")]
    pricing = price_basket(lines, None, code(DiscountKind.FIXED_AMOUNT, amount=100))
    assert [line.discount for line in pricing.lines] == [34, 33, 33]
    assert_adds_up(pricing)


def test_a_fixed_code_above_the_goods_takes_them_to_zero_and_shipping_keeps_their_split() -> None:
    lines = [BasketLine("A", 1, 100, SEVEN), BasketLine("B", 1, 200, NINETEEN)]  # 3,00 of goods
    pricing = price_basket(lines, Delivery(DHL, "DE"), code(DiscountKind.FIXED_AMOUNT, amount=500))
    assert (pricing.discount, pricing.goods) == (300, 0)  # capped: never 5,00
    assert [line.discount for line in pricing.lines] == [100, 200]
    assert pricing.total == 490  # only the shipping is left to pay
    # Goods after discount are 0, so shipping is split by the value before:
    # 490 over 100 : 200 = 163.33 : 326.67 -> 163 at 7 %, 327 at 19 %
    # 7 %: tax 163 * 7 / 107 = 10.66 -> 11; 19 %: 327 * 19 / 119 = 52.21 -> 52
    seven, nineteen = pricing.rates
    assert (seven.shipping, seven.tax, nineteen.shipping, nineteen.tax) == (163, 11, 327, 52)
    assert (seven.shipping_tax, nineteen.shipping_tax) == (11, 52)
    assert_adds_up(pricing)


def test_a_shipping_cent_the_rates_could_equally_claim_goes_to_the_higher_rate() -> None:
    lines = [BasketLine("A", 1, 1000, SEVEN), BasketLine("B", 1, 1000, NINETEEN)]
    odd = ShippingMethod("odd", {"en": "Odd"}, "dhl", 491, frozenset({"DE"}))
    pricing = price_basket(lines, Delivery(odd, "DE"))
    # 491 over 1000 : 1000 = 245.5 : 245.5
    assert [(rate.rate, rate.shipping) for rate in pricing.rates] == [(SEVEN, 245), (NINETEEN, 246)]
    assert_adds_up(pricing)


def test_shipping_for_zero_rated_goods_is_zero_rated() -> None:
    books = [BasketLine("BOOK", 3, 1200, ZERO)]
    pricing = price_basket(books, Delivery(DHL, "DE"))
    (zero,) = pricing.rates
    assert (zero.rate, zero.shipping, zero.tax, pricing.tax, pricing.total) == (
        ZERO,
        490,
        0,
        0,
        4090,
    )
    assert_adds_up(pricing)


def test_free_goods_put_the_shipping_at_the_highest_rate() -> None:
    samples = [BasketLine("S1", 1, 0, SEVEN), BasketLine("S2", 1, 0, NINETEEN)]
    pricing = price_basket(samples, Delivery(DHL, "DE"))
    assert [(rate.rate, rate.shipping) for rate in pricing.rates] == [(SEVEN, 0), (NINETEEN, 490)]
    assert_adds_up(pricing)


def test_a_free_shipping_code_waives_the_shipping_and_leaves_the_goods() -> None:
    pricing = price_basket(BASKET, Delivery(DHL, "DE"), code(DiscountKind.FREE_SHIPPING))
    assert (pricing.shipping_price, pricing.shipping_discount, pricing.shipping) == (490, 490, 0)
    assert (pricing.discount, pricing.total) == (0, 3070)
    assert [rate.shipping for rate in pricing.rates] == [0, 0]
    assert_adds_up(pricing)


def test_a_code_limited_to_some_products_discounts_only_those() -> None:
    tea_only = code(percent=Decimal("20"), skus=frozenset({"TEA-ROOIBOS"}))
    pricing = price_basket(BASKET, None, tea_only)
    tea, mug = pricing.lines
    assert (tea.discount, mug.discount, pricing.discount) == (316, 0, 316)  # 20 % of 1580
    assert_adds_up(pricing)


def test_the_free_shipping_threshold_looks_at_the_goods_after_discount() -> None:
    free_from_30 = ShippingMethod(
        "dhl", {"de": "DHL"}, "dhl", 490, frozenset({"DE"}), free_from=3000
    )
    assert price_basket(BASKET, Delivery(free_from_30, "DE")).shipping == 0  # 30,70 of goods
    discounted = price_basket(BASKET, Delivery(free_from_30, "DE"), code(percent=Decimal("10")))
    assert (discounted.goods, discounted.shipping) == (2763, 490)  # 27,63 is below 30,00
    assert_adds_up(discounted)


def test_a_percentage_rounds_half_to_even() -> None:
    # 2.5 % of 100 = 2.5 -> 2; of 300 = 7.5 -> 8
    assert (
        price_basket([BasketLine("A", 1, 100, SEVEN)], None, code(percent=Decimal("2.5"))).discount
        == 2
    )
    assert (
        price_basket([BasketLine("A", 3, 100, SEVEN)], None, code(percent=Decimal("2.5"))).discount
        == 8
    )


def test_an_empty_basket_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        price_basket([], Delivery(DHL, "DE"))


def test_pricing_refuses_a_country_the_method_does_not_serve() -> None:
    with pytest.raises(ShippingNotAvailable):
        price_basket(BASKET, Delivery(DHL, "FR"))


# --- discount codes -----------------------------------------------------------


def test_codes_and_emails_are_normalised() -> None:
    assert normalise_code("  summer10 ") == "SUMMER10"
    assert code(code=" summer10").code == "SUMMER10"
    assert (
        normalise_email("  Erika.Mustermann+Tea@Example.COM ") == "erika.mustermann+tea@example.com"
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"percent": Decimal("0")},
        {"percent": Decimal("100.01")},
        {"percent": Decimal("12.345")},
        {"code": "   "},
        {"valid_from": datetime(2026, 1, 1)},  # naive
        {"valid_from": NOW, "valid_until": NOW},
        {"skus": frozenset()},
        {"minimum": -1},
        {"amount": 500},  # a percentage code with an amount
    ],
)
def test_a_malformed_code_is_refused_when_built(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        code(**fields)


def test_a_fixed_code_needs_a_positive_amount_and_no_percent() -> None:
    with pytest.raises(ValueError):
        code(DiscountKind.FIXED_AMOUNT, amount=0)
    with pytest.raises(ValueError):
        code(DiscountKind.FIXED_AMOUNT, percent=Decimal("10"))


def test_check_code_needs_an_aware_now() -> None:
    with pytest.raises(ValueError):
        check(code(), now=datetime(2026, 11, 23, 12, 0))


def check(discount: DiscountCode, *, basket: list[BasketLine] | None = None, **kw: object) -> None:
    args: dict[str, object] = {"customer_email": "erika@example.com", "now": NOW}
    args["used_by_customer"] = False
    check_code(discount, BASKET if basket is None else basket, **(args | kw))  # type: ignore[arg-type]


def test_a_valid_code_passes_at_its_limits() -> None:
    check(
        code(
            valid_from=NOW,
            valid_until=NOW + timedelta(seconds=1),
            usage_limit=5,
            uses=4,
            minimum=3070,
            once_per_customer=True,
            skus=frozenset({"MUG-STONE-01"}),
        )
    )


@pytest.mark.parametrize(
    ("discount", "kw", "error", "error_code"),
    [
        (code(active=False), {}, DiscountCodeUnknown, "discount_code_unknown"),
        (
            code(valid_from=NOW + timedelta(seconds=1)),
            {},
            DiscountCodeNotYetValid,
            "discount_code_not_yet_valid",
        ),
        (code(valid_until=NOW), {}, DiscountCodeExpired, "discount_code_expired"),
        (code(usage_limit=5, uses=5), {}, DiscountCodeUsedUp, "discount_code_used_up"),
        (code(usage_limit=0), {}, DiscountCodeUsedUp, "discount_code_used_up"),
        (
            code(once_per_customer=True),
            {"used_by_customer": True},
            DiscountCodeAlreadyUsed,
            "discount_code_already_used",
        ),
        (
            code(skus=frozenset({"CANDLE"})),
            {},
            DiscountCodeNotApplicable,
            "discount_code_not_applicable",
        ),
        (code(minimum=3071), {}, DiscountMinimumNotReached, "discount_code_minimum_not_reached"),
    ],
)
def test_each_refusal_has_its_own_error_and_code(
    discount: DiscountCode,
    kw: dict[str, object],
    error: type[DiscountCodeRefused],
    error_code: str,
) -> None:
    with pytest.raises(error) as refused:
        check(discount, **kw)
    assert refused.value.code == error_code
    assert isinstance(refused.value, DiscountCodeRefused)


def test_the_unknown_code_error_exists_for_the_caller_to_raise() -> None:
    assert DiscountCodeUnknown("no such code").code == "discount_code_unknown"


def test_the_used_by_customer_answer_only_matters_for_once_per_customer_codes() -> None:
    check(code(), used_by_customer=True)


def test_a_once_per_customer_code_needs_the_customers_email() -> None:
    with pytest.raises(InvalidRequest):
        check(code(once_per_customer=True), customer_email="  ")


def test_the_minimum_looks_at_the_whole_basket_before_discount() -> None:
    # The code is limited to the tea (15,80) but the basket is 30,70: minimum 30,00 reached.
    check(code(minimum=3000, skus=frozenset({"TEA-ROOIBOS"})))


def test_a_code_is_refused_for_its_state_before_the_basket() -> None:
    expired_and_too_small = code(valid_until=NOW, minimum=10**6, skus=frozenset({"CANDLE"}))
    with pytest.raises(DiscountCodeExpired):
        check(expired_and_too_small)
    used_and_too_small = code(once_per_customer=True, minimum=10**6)
    with pytest.raises(DiscountCodeAlreadyUsed):
        check(used_and_too_small, used_by_customer=True)


def test_validity_compares_instants_whatever_the_zone() -> None:
    berlin_at_noon_utc = NOW.astimezone(timezone(timedelta(hours=1)))  # 13:00 in Berlin
    with pytest.raises(DiscountCodeExpired):
        check(code(valid_until=NOW), now=berlin_at_noon_utc)
    check(code(valid_until=NOW + timedelta(minutes=1)), now=berlin_at_noon_utc)


# --- properties ---------------------------------------------------------------

SKUS = [f"SKU-{i}" for i in range(8)]
RATES = [ZERO, SEVEN, NINETEEN]


@st.composite
def baskets(draw: st.DrawFn) -> list[BasketLine]:
    count = draw(st.integers(1, len(SKUS)))
    return [
        BasketLine(
            sku,
            quantity=draw(st.integers(1, 999)),
            unit_price=draw(st.integers(1, 100_000)),
            tax_rate=draw(st.sampled_from(RATES)),
        )
        for sku in SKUS[:count]
    ]


limited_to = st.none() | st.frozensets(st.sampled_from(SKUS), min_size=1)
codes = st.none() | st.one_of(
    st.builds(
        DiscountCode,
        code=st.just("P"),
        kind=st.just(DiscountKind.PERCENTAGE),
        percent=st.decimals(Decimal("0.01"), Decimal("100"), places=2),
        skus=limited_to,
    ),
    st.builds(
        DiscountCode,
        code=st.just("F"),
        kind=st.just(DiscountKind.FIXED_AMOUNT),
        amount=st.integers(1, 10**9),
        skus=limited_to,
    ),
    st.builds(
        DiscountCode, code=st.just("S"), kind=st.just(DiscountKind.FREE_SHIPPING), skus=limited_to
    ),
)
methods = st.builds(
    ShippingMethod,
    id=st.just("m"),
    names=st.just({"en": "M"}),
    carrier=st.just("dhl"),
    price=st.integers(0, 5000),
    countries=st.just(frozenset({"DE"})),
    free_from=st.none() | st.integers(0, 10**8),
)
choices = st.none() | st.just(Pickup(STORE)) | methods.map(lambda m: Delivery(m, "DE"))


@given(baskets(), choices, codes)
def test_every_amount_adds_up_to_the_cent_and_none_is_negative(
    basket: list[BasketLine], shipping: Delivery | Pickup | None, discount: DiscountCode | None
) -> None:
    pricing = price_basket(basket, shipping, discount)
    assert_adds_up(pricing)


@given(baskets(), choices, codes)
def test_the_discount_stays_on_the_eligible_goods(
    basket: list[BasketLine], shipping: Delivery | Pickup | None, discount: DiscountCode | None
) -> None:
    pricing = price_basket(basket, shipping, discount)
    eligible = [discount is not None and discount.applies_to(line.sku) for line in basket]
    eligible_value = sum(line.gross for line, ok in zip(basket, eligible, strict=True) if ok)
    assert pricing.discount <= eligible_value
    for line, ok in zip(pricing.lines, eligible, strict=True):
        if not ok:
            assert line.discount == 0
    if discount is not None and discount.kind is DiscountKind.FIXED_AMOUNT:
        assert pricing.discount == min(discount.amount or 0, eligible_value)
    if discount is None or discount.kind is not DiscountKind.FREE_SHIPPING:
        assert pricing.shipping_discount == 0


@given(baskets(), methods, codes)
def test_the_threshold_decides_on_the_goods_after_discount(
    basket: list[BasketLine], method: ShippingMethod, discount: DiscountCode | None
) -> None:
    pricing = price_basket(basket, Delivery(method, "DE"), discount)
    reached = method.free_from is not None and pricing.goods >= method.free_from
    assert pricing.shipping_price == (0 if reached else method.price)

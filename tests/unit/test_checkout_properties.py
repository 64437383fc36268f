"""Property tests of a placed order's amounts: random baskets at 0, 7 and
19 %, quantities, fixed and percentage codes (some limited to products),
free-shipping codes, shipping methods with and without a free-shipping
threshold. Every figure the order carries adds up to the cent and none is
negative (docs/checkout.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import order as orders
from chalicelib.domain.catalog import Product
from chalicelib.domain.order import Address, Customer, PaymentMethod, RequestedLine
from chalicelib.domain.pricing import Delivery, DiscountCode, DiscountKind, ShippingMethod

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")

lines = st.lists(
    st.tuples(
        st.integers(0, 20_000),  # unit price, gross (free goods included)
        st.sampled_from(["0", "7", "19"]),
        st.integers(1, 999),
    ),
    min_size=1,
    max_size=8,
)
methods = st.none() | st.builds(
    lambda price, free_from: ShippingMethod(
        id="dhl",
        names={"de": "DHL"},
        carrier="DHL",
        price=price,
        countries=frozenset({"DE"}),
        free_from=free_from,
        version=1,
    ),
    st.integers(0, 2_000),
    st.none() | st.integers(0, 100_000),
)
codes = st.none() | st.one_of(
    st.builds(
        lambda percent, limited: DiscountCode(
            code="P",
            kind=DiscountKind.PERCENTAGE,
            percent=Decimal(percent) / 100,
            skus=frozenset({"s0"}) if limited else None,
            version=1,
        ),
        st.integers(1, 10_000),
        st.booleans(),
    ),
    st.builds(
        lambda amount, limited: DiscountCode(
            code="F",
            kind=DiscountKind.FIXED_AMOUNT,
            amount=amount,
            skus=frozenset({"s0"}) if limited else None,
            version=1,
        ),
        st.integers(1, 500_000),
        st.booleans(),
    ),
    st.just(DiscountCode(code="S", kind=DiscountKind.FREE_SHIPPING, version=1)),
)


def placed(basket, method, code):
    products = {
        f"s{i}": Product(
            sku=f"s{i}",
            name=f"S{i}",
            price=price,
            currency="EUR",
            tax_rate=Decimal(rate),
            catalog_version=1,
            available=1000,
        )
        for i, (price, rate, _) in enumerate(basket)
    }
    return orders.place(
        order_id="o1",
        number="AAAA-AAAA",
        token_hash="h",
        requested=[RequestedLine(f"s{i}", q) for i, (_, _, q) in enumerate(basket)],
        products=products,
        customer=Customer("e@example.com", "E"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=PaymentMethod.CARD,
        locale="de",
        now=NOW,
        payment_window=timedelta(minutes=30),
        shipping=Delivery(method, "DE") if method else None,
        discount=code,
    ).order


@settings(max_examples=400, deadline=None)
@given(lines, methods, codes)
def test_every_amount_of_a_placed_order_adds_up_to_the_cent_and_none_is_negative(
    basket, method, code
):
    order = placed(basket, method, code)
    t = order.totals
    paid = [line.line_total - line.discount for line in order.lines]
    assert sum(line.line_total for line in order.lines) == t.subtotal
    assert sum(line.discount for line in order.lines) == t.discount
    assert t.subtotal - t.discount + t.shipping == t.total
    assert sum(rate.gross for rate in order.tax_rates) == t.total
    assert sum(rate.tax for rate in order.tax_rates) == t.tax
    assert sum(rate.shipping for rate in order.tax_rates) == t.shipping
    for rate in order.tax_rates:
        assert rate.net + rate.tax == rate.gross
        assert rate.goods + rate.shipping == rate.gross
        at_rate = [i for i, line in enumerate(order.lines) if line.tax_rate == rate.rate]
        assert rate.goods == sum(paid[i] for i in at_rate)
        assert sum(order.lines[i].tax_amount for i in at_rate) <= rate.tax
    values = [t.subtotal, t.discount, t.shipping, t.tax, t.total, *paid]
    values += [v for r in order.tax_rates for v in (r.goods, r.shipping, r.gross, r.net, r.tax)]
    values += [line.tax_amount for line in order.lines]
    assert min(values) >= 0
    assert all(line.tax_amount <= p for line, p in zip(order.lines, paid, strict=True))
    if order.shipping is not None:
        assert order.shipping.charged == t.shipping
        assert order.shipping.price - order.shipping.charged == (
            order.discount.shipping if order.discount else 0
        )
    if code is not None and code.kind is DiscountKind.FREE_SHIPPING:
        assert t.shipping == 0

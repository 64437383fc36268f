"""The rules of a withdrawal: its period, what it covers, the refund and its
reminders. Every date below was checked against a calendar by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import withdrawal as w
from chalicelib.domain.withdrawal import (
    Delivery,
    LineRequest,
    PaidLine,
    RefundHold,
    Verdict,
    WithdrawalLinesInvalid,
    WithdrawalPeriodEnded,
)

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> datetime:
    """A wall-clock time in Berlin, e.g. "2026-06-23 10:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def period(*delivered: datetime | None, holidays=frozenset()):
    return w.withdrawal_period(delivered, BERLIN, everything_shipped=True, holidays=holidays)


# --- the period ---------------------------------------------------------------------------


def test_a_tuesday_delivery_may_be_withdrawn_until_the_end_of_the_tuesday_two_weeks_later():
    result = period(at("2026-06-23 10:00"))  # a Tuesday
    assert result.delivered_on == date(2026, 6, 23)
    assert result.last_day == date(2026, 7, 7)  # a Tuesday
    assert result.ends_at == datetime(2026, 7, 7, 22, 0, tzinfo=UTC)  # midnight, CEST
    assert result.is_open(at("2026-07-07 23:59:59"))
    assert not result.is_open(at("2026-07-08 00:00"))


def test_a_friday_delivery_ends_on_the_friday_two_weeks_later():
    result = period(at("2026-06-26 18:30"))
    assert result.last_day == date(2026, 7, 10)
    assert result.last_day.strftime("%A") == "Friday"


@pytest.mark.parametrize(
    ("delivered", "day_14"),
    [("2026-06-27 11:00", date(2026, 7, 11)), ("2026-06-28 11:00", date(2026, 7, 12))],
)
def test_a_last_day_on_a_weekend_moves_to_the_monday(delivered, day_14):
    assert day_14.weekday() in (5, 6)
    assert period(at(delivered)).last_day == date(2026, 7, 13)


def test_a_last_day_on_a_holiday_the_caller_names_moves_to_the_next_working_day():
    christmas = frozenset({date(2026, 12, 25), date(2026, 12, 26)})
    delivered = at("2026-12-11 09:00")  # Friday; day 14 is Friday 25 December
    assert period(delivered).last_day == date(2026, 12, 25)  # holidays are not known here
    # 25th holiday, 26th Saturday and holiday, 27th Sunday
    assert period(delivered, holidays=christmas).last_day == date(2026, 12, 28)


def test_the_period_runs_from_the_last_of_several_shipments():
    result = period(at("2026-06-23 10:00"), at("2026-06-25 15:00"), at("2026-06-24 08:00"))
    assert result.delivered_on == date(2026, 6, 25)
    assert result.last_day == date(2026, 7, 9)


def test_the_day_of_delivery_is_the_day_in_the_shops_timezone():
    # 22:30 UTC on Tuesday 20 October is 00:30 on Wednesday in Berlin.
    result = period(datetime(2026, 10, 20, 22, 30, tzinfo=UTC))
    assert result.delivered_on == date(2026, 10, 21)
    assert result.last_day == date(2026, 11, 4)


def test_the_period_ends_at_local_midnight_across_the_autumn_clock_change():
    result = period(at("2026-10-20 10:00"))  # CEST; clocks go back on 25 October
    assert result.last_day == date(2026, 11, 3)
    assert result.ends_at.utcoffset() == timedelta(hours=1)
    assert result.ends_at == datetime(2026, 11, 3, 23, 0, tzinfo=UTC)


def test_the_period_ends_at_local_midnight_across_the_spring_clock_change():
    # Saturday 21 March (CET); clocks go forward on 29 March; day 14 is Saturday
    # 4 April, Monday 6 April is Easter Monday.
    easter_monday = frozenset({date(2026, 4, 6)})
    result = period(at("2026-03-21 12:00"), holidays=easter_monday)
    assert result.last_day == date(2026, 4, 7)
    assert result.ends_at == datetime(2026, 4, 7, 22, 0, tzinfo=UTC)


def test_before_every_parcel_has_arrived_the_period_has_not_begun():
    assert period(None) is None
    assert period(at("2026-06-23 10:00"), None) is None
    assert w.withdrawal_period([], BERLIN, everything_shipped=True) is None
    not_all_shipped = w.withdrawal_period(
        [at("2026-06-23 10:00")], BERLIN, everything_shipped=False
    )
    assert not_all_shipped is None
    w.ensure_in_time(None, at("2030-01-01 00:00"))  # a withdrawal is possible at any time


def test_a_declaration_after_the_period_is_refused_with_its_end():
    result = period(at("2026-06-23 10:00"))
    w.ensure_in_time(result, at("2026-07-07 23:59"))
    with pytest.raises(WithdrawalPeriodEnded) as caught:
        w.ensure_in_time(result, at("2026-07-08 00:00"))
    assert caught.value.code == "withdrawal_period_ended"
    assert caught.value.details["last_day"] == "2026-07-07"


def test_instants_without_a_timezone_are_refused():
    with pytest.raises(ValueError, match="timezone"):
        period(datetime(2026, 6, 23, 10, 0))


@given(
    delivered=st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2030, 12, 31),
        timezones=st.just(UTC),
    ),
    holidays=st.frozensets(st.dates(date(2026, 1, 1), date(2031, 2, 1)), max_size=20),
)
def test_the_deadline_is_never_earlier_than_delivery_plus_14_days(delivered, holidays):
    result = period(delivered, holidays=holidays)
    local = delivered.astimezone(BERLIN)
    # In the shop's wall-clock time: an hour may go missing at a spring clock
    # change, but never a calendar day.
    assert result.ends_at.replace(tzinfo=None) >= local.replace(tzinfo=None) + timedelta(days=14)
    assert result.ends_at - delivered >= timedelta(days=14, hours=-1)
    assert result.last_day >= local.date() + timedelta(days=14)
    assert result.last_day.weekday() < 5
    assert result.last_day not in holidays
    # It moves only past days that are not working days.
    day = local.date() + timedelta(days=14)
    while day < result.last_day:
        assert day.weekday() >= 5 or day in holidays
        day += timedelta(days=1)


# --- what a withdrawal covers ----------------------------------------------------------

LINES = (
    PaidLine(sku="TEA-ROOIBOS", quantity=3, paid=2000, shipped=3),  # 3 x 7.90, 370 discount
    PaidLine(sku="MUG-STONE-01", quantity=1, paid=1490, shipped=1),
)
DELIVERY = Delivery(charged=690, cheapest_standard=490)  # express chosen, standard 4.90


def test_the_whole_order_is_everything_not_withdrawn_yet():
    taken = w.withdrawn_lines(LINES, None)
    assert [(line.sku, line.quantity, line.refund) for line in taken] == [
        ("TEA-ROOIBOS", 3, 2000),
        ("MUG-STONE-01", 1, 1490),
    ]
    earlier = (PaidLine(sku="TEA-ROOIBOS", quantity=3, paid=2000, withdrawn=2), LINES[1])
    assert [(line.sku, line.quantity) for line in w.withdrawn_lines(earlier, None)] == [
        ("TEA-ROOIBOS", 1),
        ("MUG-STONE-01", 1),
    ]


def test_some_lines_are_refunded_at_what_was_paid_for_them():
    taken = w.withdrawn_lines(LINES, [LineRequest("TEA-ROOIBOS", 1), LineRequest("TEA-ROOIBOS", 1)])
    assert [(line.sku, line.quantity, line.refund) for line in taken] == [("TEA-ROOIBOS", 2, 1333)]


@pytest.mark.parametrize(
    ("requested", "problem"),
    [
        ([LineRequest("NOT-SOLD", 1)], {"sku": "NOT-SOLD", "reason": "not_on_order"}),
        (
            [LineRequest("TEA-ROOIBOS", 4)],
            {"sku": "TEA-ROOIBOS", "reason": "exceeds_order", "requested": 4, "left": 3},
        ),
        (
            [LineRequest("MUG-STONE-01", 0)],
            {"sku": "MUG-STONE-01", "reason": "quantity_not_positive", "requested": 0},
        ),
    ],
)
def test_unknown_skus_and_quantities_beyond_the_order_are_refused(requested, problem):
    with pytest.raises(WithdrawalLinesInvalid) as caught:
        w.withdrawn_lines(LINES, requested)
    assert caught.value.code == "withdrawal_lines_invalid"
    assert caught.value.details["lines"] == [problem]


def test_what_was_withdrawn_before_cannot_be_withdrawn_again():
    earlier = (PaidLine(sku="MUG-STONE-01", quantity=1, paid=1490, withdrawn=1),)
    with pytest.raises(WithdrawalLinesInvalid):
        w.withdrawn_lines(earlier, [LineRequest("MUG-STONE-01", 1)])
    with pytest.raises(WithdrawalLinesInvalid, match="nothing is left"):
        w.withdrawn_lines(earlier, None)
    with pytest.raises(WithdrawalLinesInvalid, match="nothing is left"):
        w.withdrawn_lines(LINES, [])


def test_units_not_shipped_yet_are_withdrawn_first():
    line = PaidLine(sku="TEA-ROOIBOS", quantity=3, paid=2000, shipped=1)
    assert line.to_return(2) == 0
    assert line.to_return(3) == 1
    assert (
        PaidLine(sku="TEA-ROOIBOS", quantity=3, paid=2000, shipped=1, withdrawn=2).to_return(1) == 1
    )


# --- the refund ---------------------------------------------------------------------------

RECEIVED = at("2026-07-01 16:20")


def withdraw(requested, lines=LINES, **kwargs):
    return w.withdraw(
        lines,
        requested,
        currency="EUR",
        delivery=DELIVERY,
        period=period(at("2026-06-23 10:00")),
        received_at=RECEIVED,
        timezone=BERLIN,
        **kwargs,
    )


def test_a_full_withdrawal_refunds_the_goods_and_the_cheapest_standard_delivery():
    result = withdraw(None)
    assert result.full
    assert (result.refund.goods, result.refund.delivery, result.refund.total) == (3490, 490, 3980)
    assert result.refund.currency == "EUR"


def test_free_or_cheap_delivery_is_refunded_as_charged():
    cheap = w.withdraw(
        LINES,
        None,
        currency="EUR",
        delivery=Delivery(charged=0, cheapest_standard=490),
        period=None,
        received_at=RECEIVED,
        timezone=BERLIN,
    )
    assert cheap.refund.delivery == 0


def test_a_partial_withdrawal_keeps_the_delivery_costs():
    result = withdraw([LineRequest("MUG-STONE-01", 1)])
    assert not result.full
    assert (result.refund.goods, result.refund.delivery) == (1490, 0)


def test_the_withdrawal_that_leaves_nothing_refunds_the_delivery():
    rest = (PaidLine(sku="TEA-ROOIBOS", quantity=3, paid=2000, withdrawn=3), LINES[1])
    result = withdraw([LineRequest("MUG-STONE-01", 1)], lines=rest)
    assert result.full
    assert result.refund.total == 1490 + 490


def test_the_refund_is_due_at_the_end_of_the_14th_day_after_receipt():
    result = withdraw(None)
    assert result.refund_due_at == at("2026-07-16 00:00")  # received Wednesday 1 July


def test_a_late_withdrawal_makes_no_refund_due():
    with pytest.raises(WithdrawalPeriodEnded):
        w.withdraw(
            LINES,
            None,
            currency="EUR",
            delivery=DELIVERY,
            period=period(at("2026-06-23 10:00")),
            received_at=at("2026-07-09 09:00"),
            timezone=BERLIN,
        )


def test_a_letter_sent_in_time_counts_though_it_arrives_later():
    result = w.withdraw(
        LINES,
        None,
        currency="EUR",
        delivery=DELIVERY,
        period=period(at("2026-06-23 10:00")),
        received_at=at("2026-07-09 09:00"),
        sent_at=at("2026-07-07 17:00"),
        timezone=BERLIN,
    )
    assert result.refund_due_at == at("2026-07-24 00:00")


def test_the_merchant_may_wait_for_shipped_goods_unless_it_collects_them():
    result = withdraw(None)
    assert result.hold is RefundHold.AWAITING_RETURN
    assert not result.may_refund
    released = result.release()
    assert released.hold is RefundHold.RELEASED
    assert released.may_refund
    assert released.release() == released
    assert withdraw(None, shop_collects=True).hold is RefundHold.NONE


def test_nothing_is_awaited_for_goods_that_were_never_shipped():
    unshipped = (PaidLine(sku="TEA-ROOIBOS", quantity=3, paid=2000, shipped=1), LINES[1])
    assert withdraw([LineRequest("TEA-ROOIBOS", 2)], lines=unshipped).hold is RefundHold.NONE
    assert withdraw([LineRequest("TEA-ROOIBOS", 3)], lines=unshipped).hold is (
        RefundHold.AWAITING_RETURN
    )


PAID_LINES = st.lists(
    st.tuples(st.integers(1, 20), st.integers(0, 100_000)), min_size=1, max_size=5
).map(
    lambda specs: tuple(
        PaidLine(sku=f"SKU-{i}", quantity=quantity, paid=paid)
        for i, (quantity, paid) in enumerate(specs)
    )
)


@given(lines=PAID_LINES, picks=st.lists(st.tuples(st.integers(0, 4), st.integers(1, 20))))
def test_partial_refunds_never_exceed_what_was_paid(lines, picks):
    refunded = 0
    fulls = 0
    delivery = Delivery(charged=690, cheapest_standard=490)
    for index, quantity in picks:
        line = lines[index % len(lines)]
        if line.left == 0:
            continue
        result = w.withdraw(
            lines,
            [LineRequest(line.sku, min(quantity, line.left))],
            currency="EUR",
            delivery=delivery,
            period=None,
            received_at=RECEIVED,
            timezone=BERLIN,
        )
        refunded += result.refund.total
        fulls += result.full
        taken = {entry.sku: entry.quantity for entry in result.lines}
        lines = tuple(
            PaidLine(
                sku=old.sku,
                quantity=old.quantity,
                paid=old.paid,
                withdrawn=old.withdrawn + taken.get(old.sku, 0),
            )
            for old in lines
        )
        assert refunded <= sum(old.paid for old in lines) + delivery.refundable
    if all(line.left == 0 for line in lines):
        assert fulls == 1
        assert refunded == sum(line.paid for line in lines) + delivery.refundable
    else:
        assert fulls == 0
        assert refunded <= sum(line.paid for line in lines)


# --- reminders ----------------------------------------------------------------------------


def test_the_merchant_is_reminded_three_days_before_the_refund_deadline():
    result = withdraw(None).release()
    assert w.reminder_at(result) == at("2026-07-13 00:00")
    assert w.reminder_verdict(result, at("2026-07-12 23:59")) is Verdict.NOT_DUE
    assert w.reminder_verdict(result, at("2026-07-13 00:00")) is Verdict.ACT
    assert w.reminder_verdict(result, at("2026-07-15 12:00"), timedelta(hours=6)) is Verdict.NOT_DUE
    assert w.reminder_verdict(result, at("2026-07-16 00:00")) is Verdict.PASSED
    assert w.overdue_verdict(result, at("2026-07-15 23:59")) is Verdict.NOT_DUE
    assert w.overdue_verdict(result, at("2026-07-16 00:00")) is Verdict.ACT


def test_no_reminder_while_the_goods_are_awaited_and_at_once_when_they_come_late():
    held = withdraw(None)
    assert w.reminder_verdict(held, at("2026-07-14 00:00")) is Verdict.HELD
    assert w.overdue_verdict(held, at("2026-07-20 00:00")) is Verdict.HELD
    assert w.overdue_verdict(held.release(), at("2026-07-20 00:00")) is Verdict.ACT


def test_a_refunded_or_reminded_withdrawal_is_not_reminded_again():
    from dataclasses import replace

    result = withdraw(None).release()
    late = at("2026-07-20 00:00")
    assert w.reminder_verdict(replace(result, reminded_at=late), late) is Verdict.DONE
    assert w.overdue_verdict(replace(result, overdue_reported_at=late), late) is Verdict.DONE
    refunded = replace(result, refunded_at=late)
    assert w.reminder_verdict(refunded, late) is Verdict.DONE
    assert w.overdue_verdict(refunded, late) is Verdict.DONE

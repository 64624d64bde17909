"""Pure order rules: which event is newer, amount and address anomalies, live-session attribution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baodan.catalog.repository import SessionWindow
from baodan.core import clock
from baodan.orders.model import (
    STATUS_RANK,
    Anomaly,
    LineAmounts,
    PlatformStatus,
    address_anomalies,
    amount_anomalies,
    attribute_session,
    is_newer,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def key(seconds: float) -> str:
    return clock.sql_text(T0 + timedelta(seconds=seconds))


# ---------------------------------------------------------------------------------------------- is_newer


def test_a_later_update_time_wins_even_over_a_later_stage_of_the_life_cycle():
    assert is_newer("paid", key(2), "cancelled", key(1))
    assert not is_newer("cancelled", key(1), "paid", key(2))


def test_with_the_same_update_time_the_later_stage_of_the_life_cycle_wins():
    assert is_newer("shipped", key(1), "paid", key(1))
    assert not is_newer("paid", key(1), "shipped", key(1))
    assert is_newer("cancelled", key(1), "completed", key(1))
    assert is_newer("paid", key(1), "unpaid", key(1))


def test_the_same_status_at_the_same_time_is_not_newer():
    assert not is_newer("paid", key(1), "paid", key(1))


def test_update_times_are_compared_to_the_microsecond():
    assert is_newer("unpaid", key(0.000001), "cancelled", key(0))


def test_update_times_written_in_shanghai_time_compare_as_the_same_instant():
    shanghai = clock.sql_text(datetime(2026, 11, 25, 20, 0, 1))  # naive = Asia/Shanghai = 12:00:01 UTC
    assert is_newer("unpaid", shanghai, "paid", key(0))
    assert not is_newer("unpaid", shanghai, "paid", key(1))


def test_an_unknown_status_is_refused_rather_than_guessed():
    with pytest.raises(ValueError):
        is_newer("lost", key(1), "paid", key(1))


event_st = st.tuples(st.sampled_from(list(PlatformStatus)), st.integers(0, 3))


@given(event_st, event_st)
def test_of_two_different_events_exactly_one_is_newer(a, b):
    newer_ab = is_newer(a[0], key(a[1]), b[0], key(b[1]))
    newer_ba = is_newer(b[0], key(b[1]), a[0], key(a[1]))
    if a == b:
        assert not newer_ab and not newer_ba
    else:
        assert newer_ab != newer_ba
        assert newer_ab == ((a[1], STATUS_RANK[a[0]]) > (b[1], STATUS_RANK[b[0]]))


@given(st.lists(event_st, min_size=1, max_size=6))
def test_keeping_only_newer_events_ends_on_the_newest_whatever_the_arrival_order(events):
    held = events[0]
    for event in events[1:]:
        if is_newer(event[0], key(event[1]), held[0], key(held[1])):
            held = event
    assert held == max(events, key=lambda e: (e[1], STATUS_RANK[e[0]]))


# ---------------------------------------------------------------------------------------------- amounts


def line(qty: int = 2, price: int = 1000, discount: int = 0, amount: int | None = None) -> LineAmounts:
    return LineAmounts(qty, price, discount, qty * price - discount if amount is None else amount)


def test_an_order_that_adds_up_has_no_amount_anomaly():
    lines = [line(2, 1000, 100), line(1, 550)]
    assert amount_anomalies(lines, shipping_fee_fen=800, discount_fen=300, goods_total_fen=2450,
                            paid_total_fen=2950) == []


def test_a_line_whose_amount_is_not_quantity_times_price_minus_discount_is_a_mismatch():
    lines = [line(2, 1000, 100, amount=2000)]
    assert amount_anomalies(lines, shipping_fee_fen=0, discount_fen=0, goods_total_fen=2000,
                            paid_total_fen=2000) == [Anomaly.amount_mismatch]


def test_goods_total_that_is_not_the_sum_of_the_lines_is_a_mismatch():
    assert amount_anomalies([line(1, 1000)], shipping_fee_fen=0, discount_fen=0, goods_total_fen=999,
                            paid_total_fen=1000) == [Anomaly.amount_mismatch]


def test_paid_total_must_be_goods_plus_shipping_minus_order_discount():
    lines = [line(1, 1000)]
    assert amount_anomalies(lines, shipping_fee_fen=500, discount_fen=200, goods_total_fen=1000,
                            paid_total_fen=1300) == []
    assert amount_anomalies(lines, shipping_fee_fen=500, discount_fen=200, goods_total_fen=1000,
                            paid_total_fen=1500) == [Anomaly.amount_mismatch]
    assert amount_anomalies(lines, shipping_fee_fen=500, discount_fen=200, goods_total_fen=1000,
                            paid_total_fen=1000) == [Anomaly.amount_mismatch]


def test_a_mismatch_is_reported_once_even_when_several_things_are_off():
    assert amount_anomalies([line(1, 1000, amount=1), line(1, 1000, amount=2)], shipping_fee_fen=0,
                            discount_fen=0, goods_total_fen=7, paid_total_fen=9) == [Anomaly.amount_mismatch]


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(0, 10_000)), min_size=1, max_size=5),
       st.integers(0, 2000), st.integers(0, 500), st.integers(-3, 3))
def test_only_an_exact_paid_total_passes(raw_lines, shipping, discount, off):
    lines = [line(qty, price) for qty, price in raw_lines]
    goods = sum(x.amount_fen for x in lines)
    found = amount_anomalies(lines, shipping_fee_fen=shipping, discount_fen=discount, goods_total_fen=goods,
                             paid_total_fen=goods + shipping - discount + off)
    assert found == ([] if off == 0 else [Anomaly.amount_mismatch])


# ---------------------------------------------------------------------------------------------- address

FULL = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区",
        "address": "文三路 1 号"}


def test_a_complete_receiver_has_no_address_anomaly():
    assert address_anomalies(FULL) == []


def test_the_district_may_be_missing():
    assert address_anomalies({**FULL, "district": None}) == []


@pytest.mark.parametrize("receiver", [None, {}], ids=["none", "empty"])
def test_no_receiver_at_all_is_a_missing_address(receiver):
    assert address_anomalies(receiver) == [Anomaly.missing_address]


@pytest.mark.parametrize("field", ["name", "phone", "province", "city", "address"])
@pytest.mark.parametrize("value", [None, "", "   "], ids=["none", "empty", "blank"])
def test_a_receiver_without_a_required_field_is_a_missing_address(field, value):
    assert address_anomalies({**FULL, field: value}) == [Anomaly.missing_address]


def test_a_receiver_without_a_required_key_is_a_missing_address():
    receiver = dict(FULL)
    del receiver["city"]
    assert address_anomalies(receiver) == [Anomaly.missing_address]


# ---------------------------------------------------------------------------------------------- live sessions

SHOP, OTHER_SHOP = 1, 2


def window(session_id: int, *, shop: int = SHOP, room: str | None = None, start_h: float = 0,
           end_h: float | None = 2) -> SessionWindow:
    return SessionWindow(session_id, shop, room, T0 + timedelta(hours=start_h),
                         None if end_h is None else T0 + timedelta(hours=end_h))


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_an_order_paid_during_the_shops_session_belongs_to_it():
    assert attribute_session([window(5)], shop_id=SHOP, paid_at=at(1), live_room_id=None) == 5


def test_a_session_starts_inclusive_and_ends_exclusive():
    sessions = [window(5, start_h=0, end_h=2)]
    assert attribute_session(sessions, shop_id=SHOP, paid_at=at(0), live_room_id=None) == 5
    assert attribute_session(sessions, shop_id=SHOP, paid_at=at(2), live_room_id=None) is None
    assert attribute_session(sessions, shop_id=SHOP, paid_at=at(-0.001), live_room_id=None) is None


def test_a_session_still_live_covers_every_later_payment():
    assert attribute_session([window(5, end_h=None)], shop_id=SHOP, paid_at=at(100), live_room_id=None) == 5


def test_an_order_paid_outside_every_session_belongs_to_none():
    sessions = [window(6, start_h=3, end_h=4), window(5, start_h=0, end_h=1)]
    assert attribute_session(sessions, shop_id=SHOP, paid_at=at(2), live_room_id=None) is None


def test_another_shops_session_never_claims_the_order():
    sessions = [window(5, shop=OTHER_SHOP, room="R1")]
    assert attribute_session(sessions, shop_id=SHOP, paid_at=at(1), live_room_id="R1") is None
    assert attribute_session(sessions, shop_id=SHOP, paid_at=at(1), live_room_id=None) is None


def test_the_live_room_the_platform_names_wins_over_another_session_live_at_the_same_time():
    sessions = [window(6, room="R2", start_h=0.5), window(5, room="R1")]  # newest first
    assert attribute_session(sessions, shop_id=SHOP, paid_at=at(1), live_room_id="R1") == 5
    assert attribute_session(sessions, shop_id=SHOP, paid_at=at(1), live_room_id="R2") == 6


def test_without_a_room_the_newest_session_live_at_payment_wins():
    sessions = [window(6, room="R2", start_h=0.5), window(5, room="R1")]  # newest first
    assert attribute_session(sessions, shop_id=SHOP, paid_at=at(1), live_room_id=None) == 6


def test_a_room_session_that_was_not_live_at_payment_does_not_claim_the_order():
    sessions = [window(6, room="R2", start_h=0, end_h=2), window(5, room="R1", start_h=-3, end_h=-1)]
    assert attribute_session(sessions, shop_id=SHOP, paid_at=at(1), live_room_id="R1") == 6


def test_an_unknown_room_falls_back_to_the_shops_session_live_at_payment():
    assert attribute_session([window(5, room="R1")], shop_id=SHOP, paid_at=at(1), live_room_id="R9") == 5


def test_an_unpaid_order_belongs_to_no_session():
    assert attribute_session([window(5, room="R1")], shop_id=SHOP, paid_at=None, live_room_id="R1") is None


def test_no_sessions_means_no_attribution():
    assert attribute_session([], shop_id=SHOP, paid_at=at(1), live_room_id="R1") is None

"""plan_reservations with plain values: whole orders, first paid first served, never more than is free."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from baodan.inventory.model import Demand, DemandLine, ReservationPlan, plan_reservations

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SKUS = (1, 2, 3)
WAREHOUSES = (10, 20, 30)

# ---------------------------------------------------------------------------------------------- builders


def demand(order_id: int, lines: list[tuple[int, int]], *, paid_s: float = 0,
           warehouses: tuple[int, ...] = (10,)) -> Demand:
    """A demand whose line ids are order_id * 100 + line number."""
    return Demand(order_id, T0 + timedelta(seconds=paid_s),
                  tuple(DemandLine(order_id * 100 + n, sku, qty) for n, (sku, qty) in enumerate(lines, 1)),
                  warehouses)


def summary(plan: ReservationPlan) -> tuple[object, ...]:
    """Everything a plan decided, as comparable plain values."""
    return ([(g.demand.order_id, g.warehouse_id) for g in plan.granted],
            [(s.demand.order_id, s.short_sku_ids) for s in plan.short],
            dict(plan.free_after))


def first_paid_order(demands: list[Demand]) -> list[Demand]:
    return sorted(demands, key=lambda d: (d.paid_at, d.order_id))


def covers(free: dict[tuple[int, int], int], need: dict[int, int], warehouse: int) -> bool:
    return all(free.get((sku, warehouse), 0) >= qty for sku, qty in need.items())


@st.composite
def demands_st(draw: st.DrawFn, max_orders: int = 8) -> list[Demand]:
    """Demands contending for little stock: mostly the first two SKUs and warehouses, few paid times
    (so ties broken by order id are common), order ids unrelated to the paid order."""
    count = draw(st.integers(0, max_orders))
    order_ids = draw(st.lists(st.integers(1, 50), min_size=count, max_size=count, unique=True))
    sku_st = st.sampled_from(SKUS[:2]) | st.sampled_from(SKUS)
    out = []
    for order_id in order_ids:
        lines = draw(st.lists(st.tuples(sku_st, st.integers(1, 3)), min_size=1, max_size=3))
        paid_s = draw(st.integers(0, 3))
        warehouses = draw(st.permutations(WAREHOUSES[:2]) | st.permutations(WAREHOUSES).map(lambda w: w[:2])
                          | st.just(()) | st.tuples(st.sampled_from(WAREHOUSES)))
        out.append(demand(order_id, lines, paid_s=paid_s, warehouses=tuple(warehouses)))
    return out


@st.composite
def free_st(draw: st.DrawFn) -> dict[tuple[int, int], int]:
    """Free stock of (nearly) every SKU in every warehouse; a few keys have no stock level at all."""
    keys = [(sku, warehouse) for sku in SKUS for warehouse in WAREHOUSES]
    missing = draw(st.sets(st.sampled_from(keys), max_size=3))
    return {key: draw(st.integers(0, 5)) for key in keys if key not in missing}


blocked_st = st.just(frozenset()) | st.sets(st.sampled_from(SKUS), min_size=1, max_size=2)


# ---------------------------------------------------------------------------------------------- properties


@given(demands_st(), free_st(), blocked_st)
def test_a_plan_never_reserves_more_than_is_free_in_any_warehouse(demands, free, blocked):
    plan = plan_reservations(demands, free, blocked_sku_ids=blocked)
    reserved = plan.reserved_by_key()
    for key, qty in reserved.items():
        assert qty <= free.get(key, 0), key
    for key, qty in free.items():
        assert plan.free_after[key] == qty - reserved.get(key, 0)
        assert plan.free_after[key] >= 0
    assert set(plan.free_after) == set(free)


@given(demands_st(), free_st(), blocked_st)
def test_every_order_is_either_granted_whole_from_one_of_its_warehouses_or_gets_nothing(
        demands, free, blocked):
    plan = plan_reservations(demands, free, blocked_sku_ids=blocked)
    decided = Counter([g.demand.order_id for g in plan.granted] + [s.demand.order_id for s in plan.short])
    assert decided == Counter(d.order_id for d in demands)  # each order decided exactly once
    by_id = {d.order_id: d for d in demands}
    for grant in plan.granted:
        assert grant.demand == by_id[grant.demand.order_id]  # all lines, unchanged
        assert grant.warehouse_id in grant.demand.warehouses
    granted_total = sum(line.qty for g in plan.granted for line in g.demand.lines)
    assert sum(plan.reserved_by_key().values()) == granted_total


@given(demands_st(), free_st(), blocked_st)
def test_orders_are_served_first_paid_first_served_from_the_first_warehouse_that_covers_them(
        demands, free, blocked):
    """Re-simulate in paid order: each order must get exactly the first warehouse in its list that covers
    it at the moment it is considered, and a short order must be one no listed warehouse could cover."""
    plan = plan_reservations(demands, free, blocked_sku_ids=blocked)
    granted = {g.demand.order_id: g.warehouse_id for g in plan.granted}
    short = {s.demand.order_id: s.short_sku_ids for s in plan.short}
    remaining = dict(free)
    for d in first_paid_order(demands):
        need = d.need()
        if set(need) & set(blocked):
            assert d.order_id in short
            continue
        covering = [w for w in d.warehouses if covers(remaining, need, w)]
        if not covering:
            assert d.order_id in short, f"order {d.order_id} granted though no warehouse covered it"
            continue
        assert granted.get(d.order_id) == covering[0], (
            f"order {d.order_id} should be served from {covering[0]} (its list {d.warehouses})")
        for sku, qty in need.items():
            remaining[(sku, covering[0])] -= qty
    assert remaining == plan.free_after


@given(demands_st(), free_st(), blocked_st)
def test_a_short_order_names_skus_it_needs_and_they_explain_why_it_waits(demands, free, blocked):
    plan = plan_reservations(demands, free, blocked_sku_ids=blocked)
    for s in plan.short:
        need = s.demand.need()
        assert s.short_sku_ids
        assert list(s.short_sku_ids) == sorted(set(s.short_sku_ids))
        assert set(s.short_sku_ids) <= set(need)
        if set(need) & set(blocked):
            assert set(s.short_sku_ids) == set(need) & set(blocked)


@given(demands_st(), free_st(), blocked_st, st.randoms(use_true_random=False))
def test_the_plan_is_deterministic_and_ignores_the_order_demands_arrive_in(demands, free, blocked, rnd):
    first = plan_reservations(demands, free, blocked_sku_ids=blocked)
    again = plan_reservations(list(demands), dict(free), blocked_sku_ids=set(blocked))
    shuffled = list(demands)
    rnd.shuffle(shuffled)
    reordered = plan_reservations(shuffled, dict(reversed(list(free.items()))), blocked_sku_ids=blocked)
    assert summary(first) == summary(again) == summary(reordered)


@given(demands_st(), free_st(), blocked_st)
def test_planning_does_not_change_its_inputs(demands, free, blocked):
    before = (list(demands), dict(free), set(blocked))
    plan_reservations(demands, free, blocked_sku_ids=blocked)
    assert (demands, free, blocked) == before


@given(demands_st(), free_st(), blocked_st)
def test_orders_needing_a_blocked_sku_wait_without_consuming_any_stock(demands, free, blocked):
    plan = plan_reservations(demands, free, blocked_sku_ids=blocked)
    unblocked = [d for d in demands if not set(d.need()) & set(blocked)]
    without = plan_reservations(unblocked, free)
    assert [g.demand.order_id for g in plan.granted] == [g.demand.order_id for g in without.granted]
    assert plan.free_after == without.free_after
    waiting_behind = {s.demand.order_id for s in plan.short if set(s.short_sku_ids) & set(blocked)}
    assert waiting_behind == {d.order_id for d in demands if set(d.need()) & set(blocked)}


# ---------------------------------------------------------------------------------------------- examples


def test_the_earlier_paid_order_gets_the_last_unit_whatever_the_input_order():
    plan = plan_reservations([demand(2, [(1, 1)], paid_s=2), demand(1, [(1, 1)], paid_s=1)], {(1, 10): 1})
    assert [g.demand.order_id for g in plan.granted] == [1]
    assert [(s.demand.order_id, s.short_sku_ids) for s in plan.short] == [(2, (1,))]
    assert plan.free_after == {(1, 10): 0}


def test_orders_paid_at_the_same_moment_are_served_by_order_id():
    plan = plan_reservations([demand(7, [(1, 1)]), demand(3, [(1, 1)])], {(1, 10): 1})
    assert [g.demand.order_id for g in plan.granted] == [3]


def test_an_order_is_never_split_across_warehouses_even_when_together_they_would_cover_it():
    plan = plan_reservations([demand(1, [(1, 2)], warehouses=(10, 20))], {(1, 10): 1, (1, 20): 1})
    assert plan.granted == []
    assert plan.free_after == {(1, 10): 1, (1, 20): 1}


def test_an_order_falls_back_to_the_next_warehouse_when_the_first_lacks_one_line():
    free = {(1, 10): 5, (2, 10): 0, (1, 20): 5, (2, 20): 5}
    plan = plan_reservations([demand(1, [(1, 1), (2, 1)], warehouses=(10, 20))], free)
    assert [(g.demand.order_id, g.warehouse_id) for g in plan.granted] == [(1, 20)]
    assert plan.free_after == {(1, 10): 5, (2, 10): 0, (1, 20): 4, (2, 20): 4}


def test_the_warehouse_preference_order_is_the_orders_own_not_the_warehouse_ids():
    free = {(1, 10): 5, (1, 20): 5}
    plan = plan_reservations([demand(1, [(1, 1)], warehouses=(20, 10))], free)
    assert plan.granted[0].warehouse_id == 20


def test_an_order_is_not_served_from_a_warehouse_outside_its_list():
    plan = plan_reservations([demand(1, [(1, 1)], warehouses=(10,))], {(1, 10): 0, (1, 20): 9})
    assert plan.granted == []
    assert plan.short[0].short_sku_ids == (1,)


def test_a_big_early_order_that_waits_does_not_stop_a_later_small_order():
    plan = plan_reservations([demand(1, [(1, 5)], paid_s=1), demand(2, [(1, 2)], paid_s=2)], {(1, 10): 3})
    assert [g.demand.order_id for g in plan.granted] == [2]
    assert [s.demand.order_id for s in plan.short] == [1]
    assert plan.free_after == {(1, 10): 1}


def test_lines_of_the_same_sku_add_up_before_stock_is_checked():
    plan = plan_reservations([demand(1, [(1, 1), (1, 1)])], {(1, 10): 1})
    assert plan.granted == []
    assert plan.free_after == {(1, 10): 1}


def test_a_short_order_names_only_the_skus_its_first_warehouse_lacks():
    free = {(1, 10): 5, (2, 10): 0, (3, 10): 1}
    plan = plan_reservations([demand(1, [(1, 1), (2, 1), (3, 2)])], free)
    assert plan.short[0].short_sku_ids == (2, 3)


def test_an_order_needing_a_blocked_sku_waits_and_leaves_its_other_skus_to_later_orders():
    free = {(1, 10): 1, (2, 10): 1}
    plan = plan_reservations([demand(1, [(1, 1), (2, 1)], paid_s=1), demand(2, [(1, 1)], paid_s=2)], free,
                             blocked_sku_ids={2})
    assert [(s.demand.order_id, s.short_sku_ids) for s in plan.short] == [(1, (2,))]
    assert [g.demand.order_id for g in plan.granted] == [2]
    assert plan.free_after == {(1, 10): 0, (2, 10): 1}


def test_an_order_with_no_warehouse_to_ship_from_waits_for_all_its_skus():
    plan = plan_reservations([demand(1, [(2, 1), (1, 1)], warehouses=())], {(1, 10): 5, (2, 10): 5})
    assert [(s.demand.order_id, s.short_sku_ids) for s in plan.short] == [(1, (1, 2))]

"""Planning a split (拆单) without a database: lines into warehouse parts, what kind of split that is, and
amounts shared so the parts add up to what the platform was paid."""

from __future__ import annotations

from baodan.fulfilment.split import Part, plan_parts, share_amounts, split_kind

A, B, C = 1, 2, 3
WH1, WH2, WH3 = 10, 20, 30


def test_each_warehouse_ships_what_it_has_the_one_with_most_lines_first() -> None:
    needs = {101: {A: 1}, 102: {B: 2}, 103: {C: 1}}
    free = {(A, WH1): 5, (B, WH2): 2, (C, WH2): 1}
    parts, left, after = plan_parts(needs, (WH1, WH2), free)
    assert parts == [Part(WH2, (102, 103)), Part(WH1, (101,))] and left == ()
    assert after == {(A, WH1): 4, (B, WH2): 0, (C, WH2): 0}  # what the parts leave for the next order
    assert split_kind(parts, left) == "warehouse"
    assert free == {(A, WH1): 5, (B, WH2): 2, (C, WH2): 1}  # the caller's stock map is not changed


def test_ties_go_to_the_shops_preferred_warehouse_and_units_are_not_counted_twice() -> None:
    needs = {101: {A: 1}, 102: {A: 1}}
    free = {(A, WH1): 1, (A, WH2): 1}
    parts, left, _ = plan_parts(needs, (WH2, WH1), free)
    assert parts == [Part(WH2, (101,)), Part(WH1, (102,))] and left == ()


def test_a_bundle_line_ships_whole_from_one_warehouse() -> None:
    needs = {101: {A: 1, B: 1}, 102: {C: 1}}
    free = {(A, WH1): 1, (B, WH2): 1, (C, WH1): 1}  # the bundle's parts lie in two warehouses
    parts, left, _ = plan_parts(needs, (WH1, WH2), free)
    assert parts == [Part(WH1, (102,))] and left == (101,)
    assert split_kind(parts, left) == "availability"


def test_lines_needing_a_sku_others_wait_for_wait_too() -> None:
    needs = {101: {A: 1}, 102: {B: 1}}
    free = {(A, WH1): 1, (B, WH1): 1}
    parts, left, _ = plan_parts(needs, (WH1,), free, blocked={B})
    assert parts == [Part(WH1, (101,))] and left == (102,)


def test_what_is_no_split() -> None:
    assert split_kind([], (101, 102)) is None  # nothing in stock
    assert split_kind([Part(WH1, (101, 102))], ()) is None  # one warehouse has it all: served whole
    assert split_kind([Part(WH1, (101,))], (102,)) == "availability"


def test_amounts_add_up_to_what_was_paid() -> None:
    lines = {1: 3000, 2: 2000, 3: 1001}
    shares = share_amounts(lines, [[1], [2], [3]], goods_total_fen=6001, shipping_fee_fen=800, discount_fen=1000,
                           paid_total_fen=5801)
    assert shares[1] == {"goods_total_fen": 2000, "shipping_fee_fen": 0, "discount_fen": 333, "paid_total_fen": 1667}
    assert shares[2] == {"goods_total_fen": 1001, "shipping_fee_fen": 0, "discount_fen": 166, "paid_total_fen": 835}
    assert shares[0] == {"goods_total_fen": 3000, "shipping_fee_fen": 800, "discount_fen": 501, "paid_total_fen": 3299}
    for key in shares[0]:
        assert sum(s[key] for s in shares) == {"goods_total_fen": 6001, "shipping_fee_fen": 800,
                                               "discount_fen": 1000, "paid_total_fen": 5801}[key]
    for share in shares:
        assert share["goods_total_fen"] + share["shipping_fee_fen"] - share["discount_fen"] == share["paid_total_fen"]

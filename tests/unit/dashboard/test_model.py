"""The dashboard's sums as plain values: minute buckets in Shanghai, parts of a window added, the screen's JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from baodan.dashboard.model import Partial, Window, compose, last_minutes, minute_key, top_skus

END = datetime(2026, 12, 3, 12, 30, 15, tzinfo=UTC)  # 20:30:15 in Shanghai


def test_the_last_hour_is_sixty_minutes_ending_with_the_one_the_window_ends_in():
    minutes = last_minutes(END)
    assert len(minutes) == 60
    assert (minutes[0], minutes[-1]) == (datetime(2026, 12, 3, 11, 31, tzinfo=UTC), datetime(2026, 12, 3, 12, 30,
                                                                                              tzinfo=UTC))
    on_the_minute = last_minutes(END.replace(second=0))  # an end on the minute excludes that minute
    assert on_the_minute[-1] == datetime(2026, 12, 3, 12, 29, tzinfo=UTC)


def test_a_minute_key_is_the_utc_minute_whatever_zone_the_time_is_given_in():
    from zoneinfo import ZoneInfo

    local = datetime(2026, 12, 3, 20, 30, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert minute_key(local) == "2026-12-03 12:30"


def _part(**cube: int) -> Partial:
    part = Partial()
    for name, count in cube.items():
        channel, state, minute = name.split("_")
        key = (channel, "浙江省", state, None if minute == "old" else f"2026-12-03 12:{minute}")
        part.cube[key] += count
        part.gmv[key] += count * 1000
    return part


def test_two_parts_of_a_window_add_up_key_by_key():
    head, tail = _part(douyin_reserved_29=2), _part(douyin_reserved_29=1, kuaishou_cancelled_30=1)
    head.units[(1, 7)] = 5
    tail.units[(1, 7)] = 2
    tail.units[(2, 8)] = 9
    both = head + tail
    assert both.cube[("douyin", "浙江省", "reserved", "2026-12-03 12:29")] == 3
    assert both.units == {(1, 7): 7, (2, 8): 9}
    assert head.cube[("douyin", "浙江省", "reserved", "2026-12-03 12:29")] == 2  # the parts are left alone


def test_the_screen_shows_totals_per_minute_channels_and_shipping_from_the_sums():
    part = _part(douyin_reserved_29=2, douyin_shipped_old=3, kuaishou_cancelled_30=1)
    part.order_anomalies["unknown_sku"] = 1
    part.held["blacklist"] = 2
    part.stages.update({"held": 2, "ready": 1})
    window = Window("live_session", END - timedelta(hours=2), END, 7, (1,), {"title": "专场"})
    board = compose(window, part, hot_skus=[], now=END)
    assert board["totals"] == {"orders": 6, "gmv_fen": 6000, "units": 0, "cancelled_orders": 1,
                               "cancelled_fen": 1000, "net_gmv_fen": 5000}
    assert [(m["label"], m["orders"]) for m in board["per_minute"] if m["orders"]] == [("20:29", 2), ("20:30", 1)]
    assert board["channels"] == [{"channel": "douyin", "orders": 5, "gmv_fen": 5000},
                                 {"channel": "kuaishou", "orders": 1, "gmv_fen": 1000}]
    assert board["shipping"]["shipped"] == 3 and board["shipping"]["shipped_share"] == 0.5
    assert board["anomalies"]["orders"] == 3
    assert board["view"] == {"kind": "live_session", "live_session_id": 7, "title": "专场"}


def test_hot_skus_are_ranked_by_units_across_shops():
    part = Partial()
    for (shop, sku), units in {(1, 10): 5, (2, 10): 4, (1, 11): 8, (1, 12): 1}.items():
        part.units[(shop, sku)] = units
        part.lines[(shop, sku)] = 1
        part.line_fen[(shop, sku)] = units * 100
    assert top_skus(part, 2) == [(10, 9, 2, 900, [1, 2]), (11, 8, 1, 800, [1])]

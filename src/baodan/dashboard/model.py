"""The figures of the live dashboard (数字大屏) as plain values: what a window of orders adds up to, and how
two parts of a window (its older orders, counted now and then, and its newest, counted every tick) are
put together into what the screen shows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from baodan.core import clock

MINUTES = 60  # the per-minute line covers the last hour of the window
SHIPPED_STATES = frozenset({"shipped", "completed"})
NO_PROVINCE = "未知"  # orders without a receiver region


@dataclass(frozen=True, slots=True)
class Window:
    """The orders a dashboard adds up: those of a live session, or those paid on one Shanghai day."""

    kind: str  # live_session | today
    start: datetime  # UTC: paid at or after
    end: datetime  # UTC: paid before (now, or the end of the session or day)
    live_session_id: int | None = None
    shop_ids: tuple[int, ...] = ()  # the shops whose orders count (the session's shop, or the caller's)
    info: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(slots=True)
class Partial:
    """Sums over some of a window's paid orders. Keys are what the screen groups by; values are
    [orders, gmv_fen] (`units` for SKUs: [units, order lines, amount_fen])."""

    cube: Counter[tuple[str, str, str, str | None], int] = field(default_factory=Counter)  # orders
    gmv: Counter[tuple[str, str, str, str | None], int] = field(default_factory=Counter)  # fen
    order_anomalies: Counter[str] = field(default_factory=Counter)  # reason code → orders
    units: Counter[tuple[int, int], int] = field(default_factory=Counter)  # (shop_id, sku_id) → units
    lines: Counter[tuple[int, int], int] = field(default_factory=Counter)
    line_fen: Counter[tuple[int, int], int] = field(default_factory=Counter)
    stages: Counter[str, int] = field(default_factory=Counter)  # fulfilment stage → orders
    held: Counter[str, int] = field(default_factory=Counter)  # fulfilment hold reason → orders

    def __add__(self, other: Partial) -> Partial:
        return Partial(*(getattr(self, f) + getattr(other, f) for f in Partial.__slots__))


def minute_key(at: datetime) -> str:
    """The UTC minute an instant falls in, as the SQL groups it ("YYYY-MM-DD HH:MM"). Shanghai's minutes
    start at the same instants (UTC+8 is a whole number of hours)."""
    return clock.as_utc(at).strftime("%Y-%m-%d %H:%M")


def last_minutes(end: datetime, count: int = MINUTES) -> list[datetime]:
    """The starts (UTC) of the `count` minutes up to and including the one `end` falls in, oldest first."""
    top = clock.as_utc(end).replace(second=0, microsecond=0)
    if top == clock.as_utc(end) and count:
        top -= timedelta(minutes=1)  # `end` is exclusive: a window ending at 20:15:00 ends with 20:14
    return [top - timedelta(minutes=count - 1 - i) for i in range(count)]


def compose(window: Window, part: Partial, *, hot_skus: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """What the screen shows for `window`, from its sums (hot SKUs already named and with their stock)."""
    orders = sum(part.cube.values())
    gmv = sum(part.gmv.values())
    by_state: Counter[str] = Counter()
    channels: dict[str, list[int]] = {}
    provinces: dict[str, list[int]] = {}
    minutes: dict[str, list[int]] = {}
    for key, count in part.cube.items():
        channel, province, state, minute = key
        fen = part.gmv[key]
        by_state[state] += count
        for bucket, name in ((channels, channel), (provinces, province or NO_PROVINCE)):
            totals = bucket.setdefault(name, [0, 0])
            totals[0] += count
            totals[1] += fen
        if minute is not None:
            totals = minutes.setdefault(minute, [0, 0])
            totals[0] += count
            totals[1] += fen
    cancelled = by_state.get("cancelled", 0)
    cancelled_fen = sum(fen for (_, _, state, _), fen in part.gmv.items() if state == "cancelled")
    per_minute = []
    for start in last_minutes(window.end):
        count, fen = minutes.get(minute_key(start), (0, 0))
        per_minute.append({"at": start, "label": clock.to_shanghai(start).strftime("%H:%M"), "orders": count,
                           "gmv_fen": fen})
    shipped = sum(by_state.get(s, 0) for s in SHIPPED_STATES)
    anomalies = ([{"source": "order", "reason": r, "orders": n} for r, n in sorted(part.order_anomalies.items())]
                 + [{"source": "fulfilment", "reason": r, "orders": n} for r, n in sorted(part.held.items())])
    return {
        "view": {"kind": window.kind, "live_session_id": window.live_session_id, **window.info},
        "window": {"from": window.start, "to": window.end},
        "as_of": now,
        "timezone": "Asia/Shanghai",
        "totals": {"orders": orders, "gmv_fen": gmv, "units": sum(part.units.values()),
                   "cancelled_orders": cancelled, "cancelled_fen": cancelled_fen, "net_gmv_fen": gmv - cancelled_fen},
        "per_minute": per_minute,
        "channels": _ranked(channels, "channel"),
        "hot_skus": hot_skus,
        "anomalies": {"orders": sum(a["orders"] for a in anomalies), "by_reason": anomalies},
        "shipping": {"orders": orders, "shipped": shipped,
                     "shipped_share": round(shipped / orders, 4) if orders else 0.0,
                     "states": dict(sorted(by_state.items())), "stages": dict(sorted(part.stages.items()))},
        "provinces": _ranked(provinces, "province"),
    }


def top_skus(part: Partial, count: int) -> list[tuple[int, int, int, int, list[int]]]:
    """The `count` SKUs with the most units: (sku_id, units, lines, amount_fen, shop ids that sold it),
    most units first (ties: lower SKU id first)."""
    units: Counter[int] = Counter()
    lines: Counter[int] = Counter()
    fen: Counter[int] = Counter()
    shops: dict[int, set[int]] = {}
    for (shop_id, sku_id), n in part.units.items():
        units[sku_id] += n
        lines[sku_id] += part.lines[(shop_id, sku_id)]
        fen[sku_id] += part.line_fen[(shop_id, sku_id)]
        shops.setdefault(sku_id, set()).add(shop_id)
    ranked = sorted(units.items(), key=lambda item: (-item[1], item[0]))[:count]
    return [(sku_id, n, lines[sku_id], fen[sku_id], sorted(shops[sku_id])) for sku_id, n in ranked]


def _ranked(totals: dict[str, list[int]], name: str) -> list[dict[str, Any]]:
    return [{name: key, "orders": count, "gmv_fen": fen}
            for key, (count, fen) in sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))]

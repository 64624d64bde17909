"""Reservation rules: whole orders, first paid first served, never more than is free."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

StockKey = tuple[int, int]  # (sku_id, warehouse_id)


class MoveKind(StrEnum):
    """What a ledger move records. Moves are immutable facts; levels are their running sum."""

    adjust = "adjust"  # counted or corrected by a person (盘点/调整)
    receipt = "receipt"  # goods received (入库)
    reserve = "reserve"  # stock held for paid orders
    release = "release"  # a hold given back (cancel, refund)
    ship = "ship"  # goods left the warehouse: on hand and hold both go down


class DemandLine(NamedTuple):
    order_line_id: int
    sku_id: int  # a component SKU: bundles are already expanded
    qty: int


class Demand(NamedTuple):
    """One order's need for stock, with the warehouses it may come from in preference order."""

    order_id: int
    paid_at: str  # UTC text key (clock.sql_text): sorts like the time it names
    lines: tuple[DemandLine, ...]
    warehouses: tuple[int, ...]

    def need(self) -> dict[int, int]:
        total: dict[int, int] = {}
        for line in self.lines:
            total[line.sku_id] = total.get(line.sku_id, 0) + line.qty
        return total


class Grant(NamedTuple):
    demand: Demand
    warehouse_id: int


class Shortage(NamedTuple):
    demand: Demand
    short_sku_ids: tuple[int, ...]


@dataclass(slots=True)
class ReservationPlan:
    granted: list[Grant] = field(default_factory=list)
    short: list[Shortage] = field(default_factory=list)
    free_after: dict[StockKey, int] = field(default_factory=dict)

    def reserved_by_key(self) -> dict[StockKey, int]:
        total: dict[StockKey, int] = defaultdict(int)
        for grant in self.granted:
            for line in grant.demand.lines:
                total[(line.sku_id, grant.warehouse_id)] += line.qty
        return dict(total)


def plan_reservations(demands: Iterable[Demand], free: Mapping[StockKey, int], *,
                      blocked_sku_ids: Collection[int] = ()) -> ReservationPlan:
    """Reserve each order whole from one warehouse or not at all, first paid first served.

    An order is served from the first warehouse in its preference list that can cover every line;
    when none can, it waits, naming the SKUs its first-choice warehouse lacks. An order that needs a
    blocked SKU (one whose waiting orders are being retried and so come first) waits without trying.
    """
    remaining = dict(free)
    plan = ReservationPlan()
    blocked = set(blocked_sku_ids)
    for demand in sorted(demands, key=lambda d: (d.paid_at, d.order_id)):
        need = demand.need()
        queued_behind = sorted(blocked.intersection(need))
        if queued_behind:
            plan.short.append(Shortage(demand, tuple(queued_behind)))
            continue
        chosen = _first_warehouse_covering(need, demand.warehouses, remaining)
        if chosen is None:
            plan.short.append(Shortage(demand, _short_skus(need, demand.warehouses, remaining)))
            continue
        for sku_id, qty in need.items():
            remaining[(sku_id, chosen)] -= qty
        plan.granted.append(Grant(demand, chosen))
    plan.free_after = remaining
    return plan


def _first_warehouse_covering(need: Mapping[int, int], warehouses: Sequence[int],
                              free: Mapping[StockKey, int]) -> int | None:
    for warehouse_id in warehouses:
        if all(free.get((sku_id, warehouse_id), 0) >= qty for sku_id, qty in need.items()):
            return warehouse_id
    return None


def _short_skus(need: Mapping[int, int], warehouses: Sequence[int],
                free: Mapping[StockKey, int]) -> tuple[int, ...]:
    first = warehouses[0] if warehouses else None
    short = [sku_id for sku_id, qty in need.items() if free.get((sku_id, first), 0) < qty]
    return tuple(sorted(short or need))

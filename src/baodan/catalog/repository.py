"""Catalog lookups the pipeline needs per batch: SKU resolution, bundles, shop routing, live sessions."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from baodan.core import clock
from baodan.core.db import db_time, dialect_of, fetchall, in_list, read_json


@dataclass(slots=True)
class SkuResolver:
    """Maps a line to a SKU: the shop's platform-SKU mapping first, then the merchant code (商家编码)."""

    by_mapping: dict[tuple[int, str], int] = field(default_factory=dict)
    by_code: dict[str, int] = field(default_factory=dict)
    components: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # bundle → (sku, qty)

    def resolve(self, shop_id: int, platform_sku_id: str | None, sku_code: str | None) -> int | None:
        if platform_sku_id is not None:
            found = self.by_mapping.get((shop_id, platform_sku_id))
            if found is not None:
                return found
        if sku_code is not None:
            return self.by_code.get(sku_code)
        return None

    def expand(self, sku_id: int, qty: int) -> list[tuple[int, int]]:
        """Component SKUs and quantities for `qty` of `sku_id` (a plain SKU is its own component)."""
        parts = self.components.get(sku_id)
        if parts is None:
            return [(sku_id, qty)]
        return [(component, per * qty) for component, per in parts]


def load_sku_resolver(db: Session, *, shop_ids: Collection[int], platform_sku_ids: Collection[str],
                      sku_codes: Collection[str], sku_ids: Collection[int] = ()) -> SkuResolver:
    dialect = dialect_of(db)
    resolver = SkuResolver()
    if platform_sku_ids:
        frag, param = in_list(dialect, platform_sku_ids)
        for shop_id, platform_sku_id, sku_id in fetchall(
                db, f"SELECT shop_id, platform_sku_id, sku_id FROM sku_mapping WHERE platform_sku_id {frag}",
                (param,)):
            if shop_id in shop_ids:
                resolver.by_mapping[(shop_id, platform_sku_id)] = sku_id
    if sku_codes:
        frag, param = in_list(dialect, sku_codes)
        for code, sku_id in fetchall(db, f"SELECT code, id FROM sku WHERE code {frag}", (param,)):
            resolver.by_code[code] = sku_id
    wanted = set(resolver.by_mapping.values()) | set(resolver.by_code.values()) | set(sku_ids)
    if wanted:
        frag, param = in_list(dialect, sorted(wanted))
        for bundle_id, component_id, qty in fetchall(
                db, "SELECT bundle_sku_id, component_sku_id, qty FROM bundle_component "
                    f"WHERE bundle_sku_id {frag} ORDER BY bundle_sku_id, component_sku_id", (param,)):
            resolver.components.setdefault(bundle_id, []).append((component_id, qty))
    return resolver


def load_warehouse_preferences(db: Session, shop_ids: Collection[int]) -> dict[int, tuple[int, ...]]:
    """For each shop: its default warehouse, then its fallback list (or all others by priority).

    This is the routing seam: rule-based routing (分仓) replaces this function's answer, not its callers.
    """
    dialect = dialect_of(db)
    active = [row[0] for row in fetchall(
        db, "SELECT id FROM warehouse WHERE active = ? ORDER BY priority, id", (True,))]
    frag, param = in_list(dialect, shop_ids)
    prefs: dict[int, tuple[int, ...]] = {}
    for shop_id, default_id, fallback in fetchall(
            db, f"SELECT id, default_warehouse_id, fallback_warehouse_ids FROM shop WHERE id {frag}", (param,)):
        listed = [w for w in (read_json(fallback) or []) if w in active]
        rest = listed or [w for w in active if w != default_id]
        order = ([default_id] if default_id in active else []) + [w for w in rest if w != default_id]
        prefs[shop_id] = tuple(order)
    return prefs


@dataclass(frozen=True, slots=True)
class SessionWindow:
    """A live session's window; times are UTC text keys (clock.sql_text), compared as text."""

    id: int
    shop_id: int
    room_id: str | None
    started_at: str
    ended_at: str | None

    def covers(self, moment: str) -> bool:
        return self.started_at <= moment and (self.ended_at is None or moment < self.ended_at)


def load_live_sessions(db: Session, *, shop_ids: Collection[int], earliest: str,
                       latest: str) -> list[SessionWindow]:
    dialect = dialect_of(db)
    frag, param = in_list(dialect, shop_ids)
    rows = fetchall(
        db, "SELECT id, shop_id, room_id, started_at, ended_at FROM live_session "
            f"WHERE shop_id {frag} AND started_at <= ? AND (ended_at IS NULL OR ended_at > ?) "
            "ORDER BY started_at DESC",
        (param, db_time(dialect, latest), db_time(dialect, earliest)))
    return [SessionWindow(r[0], r[1], r[2], _key(r[3]), _key(r[4]) if r[4] is not None else None) for r in rows]


def _key(value: str | datetime) -> str:
    return value if isinstance(value, str) else clock.sql_text(value)

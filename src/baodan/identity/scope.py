"""Data scope: the one place a query is narrowed to the caller's shops and warehouses.

Every read of scoped data (orders, stock, shops, warehouses, intake counters) takes a `Scope` and adds
`scope.shops(column)` / `scope.warehouses(column)` to its WHERE clause. Something outside the scope is
treated exactly like something that does not exist: lists leave it out, counts do not count it, and a
detail by id answers 404 (never 403, which would confirm that the id exists)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, true


@dataclass(frozen=True, slots=True)
class Scope:
    shop_ids: frozenset[int] | None = None  # None: every shop
    warehouse_ids: frozenset[int] | None = None  # None: every warehouse

    @classmethod
    def of(cls, principal: Any) -> Scope:
        return cls(principal.shop_ids, principal.warehouse_ids)

    def shops(self, column: Any) -> ColumnElement[bool]:
        return true() if self.shop_ids is None else column.in_(sorted(self.shop_ids))

    def warehouses(self, column: Any) -> ColumnElement[bool]:
        return true() if self.warehouse_ids is None else column.in_(sorted(self.warehouse_ids))

    def has_shop(self, shop_id: int | None) -> bool:
        return self.shop_ids is None or shop_id in self.shop_ids

    def has_warehouse(self, warehouse_id: int | None) -> bool:
        return self.warehouse_ids is None or warehouse_id in self.warehouse_ids


EVERYTHING = Scope()

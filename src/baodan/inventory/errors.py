"""Inventory errors with stable codes."""

from baodan.core.errors import BaoDanError, Conflict, NotFound


class StockLevelConflict(Conflict):
    """A conditional stock update matched fewer rows than planned: the batch is rolled back whole."""

    code = "inventory.level_conflict"


class BelowReserved(Conflict):
    code = "inventory.below_reserved"


class UnknownStockLevel(NotFound):
    code = "inventory.unknown_level"


class InvalidAdjustment(BaoDanError):
    code = "inventory.invalid_adjustment"
    status = 422

"""Order use cases that write beside reading: revealing a buyer."""

from __future__ import annotations

from typing import Any

from baodan.core.db import Database
from baodan.identity import audit
from baodan.identity.pii import PiiCipher
from baodan.identity.scope import EVERYTHING, Scope
from baodan.orders import queries


def reveal_receiver(db: Database, pii: PiiCipher, order_id: int, *, actor: str, ip: str | None = None,
                    scope: Scope = EVERYTHING) -> dict[str, Any] | None:
    """The buyer's name, phone and address in clear, or None if the order has none. The audit record is
    written first, in its own transaction: no record, no reveal. An order out of scope is not found."""
    with db.write() as s:
        sealed = queries.sealed_receiver(s, order_id, scope=scope)
        audit.record(s, actor=actor, action="pii.reveal", target=f"order:{order_id}", ip=ip,
                     detail={"fields": ["name", "phone", "address"]})
    return pii.open(sealed) if sealed is not None else None

"""Order use cases that write beside reading: revealing a buyer."""

from __future__ import annotations

from typing import Any

from baodan.channels import decrypt
from baodan.core.db import Database
from baodan.identity import audit
from baodan.identity.pii import PiiCipher
from baodan.identity.scope import EVERYTHING, Scope
from baodan.orders import queries


def reveal_receiver(db: Database, pii: PiiCipher, order_id: int, *, actor: str, ip: str | None = None,
                    scope: Scope = EVERYTHING) -> dict[str, Any] | None:
    """The buyer's name, phone and address in clear (with the region), or None if the order has none. The
    audit record is written first, in its own transaction: no record, no reveal. Where the platform showed
    only masked values (and sealed its ciphertexts with them), the receiver is decrypted by the platform
    after the record: returned, never stored (platforms forbid keeping it). An order out of scope is not
    found; a decrypt that fails raises (409: the shop is not connected or its platform has no decrypt call
    or its token must be re-authorised; 502: the platform refused), but a masked receiver the platform gave
    nothing to decrypt for is returned as sealed."""
    with db.write() as s:
        sealed = queries.sealed_receiver(s, order_id, scope=scope)
        receiver = pii.open(sealed) if sealed is not None else None
        through_platform = receiver is not None and decrypt.is_masked(receiver)
        audit.record(s, actor=actor, action="pii.reveal", target=f"order:{order_id}", ip=ip,
                     detail={"fields": ["name", "phone", "address"]}
                     | ({"decrypt": "platform"} if through_platform else {}))
    if receiver is None:
        return None
    shown = {key: value for key, value in receiver.items() if key != "platform_cipher"}
    if not through_platform:
        return shown
    found = decrypt.decrypt_receivers(db, pii, [order_id])
    error = found.failed.get(order_id)
    if isinstance(error, decrypt.NothingToDecrypt):
        return shown
    if error is not None:
        raise error
    return found.receivers.get(order_id, shown)

"""Receivers in clear through the platforms' decrypt calls. Most platforms show a seller's app only masked
receivers (张*, 138****5678) and give the real ones encrypted; intake seals what the platform showed and its
ciphertexts (`receiver.platform_cipher`, docs/canonical-order.md). Here those are opened by the platform,
per shop, a batch of the adapter's `decrypt_batch_size` orders a call.

The clear values are returned, never stored: the platforms allow decrypting for the use at hand (showing
the buyer to an authorised user, printing the label) and forbid keeping the result, so each reveal or print
asks the platform again. The caller MUST write its audit record (pii.reveal, a label print) before calling.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from baodan.channels.base import PlatformError
from baodan.channels.credentials import CredentialCache
from baodan.channels.ingest import LinkDirectory
from baodan.channels.tokens import TokenKeeper
from baodan.channels.transport import CallLog, ShopLink, Transport
from baodan.core.db import Database, dialect_of, fetchall, in_list
from baodan.core.errors import BaoDanError, Conflict
from baodan.identity.pii import SEALED_FIELDS, PiiCipher
from baodan.orders.repository import PLATFORM_ID


class NotConnected(Conflict):
    code = "channels.not_connected"


class NoDecrypt(Conflict):
    code = "channels.decrypt_unavailable"


class NothingToDecrypt(Conflict):
    """The receiver is masked, but the platform gave nothing that its decrypt call opens."""

    code = "channels.nothing_to_decrypt"


@dataclass(frozen=True)
class Decrypted:
    """`receivers`: order id → the receiver in clear (name, phone, address and the region; the platform's
    values where it gives them); `failed`: order id → why it is not (an error with its HTTP status: 409
    NotConnected, NoDecrypt, NothingToDecrypt, ReauthorizeNeeded; 502 the platform refused)."""

    receivers: dict[int, dict[str, Any]] = field(default_factory=dict)
    failed: dict[int, BaoDanError] = field(default_factory=dict)


def is_masked(receiver: dict[str, Any]) -> bool:
    """Whether the name, phone or address is a masked value (as platforms show them: a `*` in it)."""
    return any("*" in str(receiver.get(key) or "") for key in SEALED_FIELDS)


def decrypt_receivers(db: Database, pii: PiiCipher, order_ids: Iterable[int], *, transport: Transport | None = None,
                      directory: LinkDirectory | None = None) -> Decrypted:
    """The receivers of `order_ids` in clear: as sealed where they are clear already, else decrypted by
    their shop's platform, in batches per shop (through `transport`, so under the platform's rates, with a
    working access token). Orders without a receiver are in neither map. Nothing is written."""
    if directory is None:
        directory = LinkDirectory(db, CredentialCache(db, pii))
    own = transport is None
    if transport is None:
        transport = Transport(CallLog(db), tokens=TokenKeeper(db, pii, directory=directory))
    result = Decrypted()
    masked: dict[int, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)  # shop → (order, id there, receiver)
    for order_id, shop_id, platform_order_id, receiver in _sealed(db, pii, order_ids):
        if is_masked(receiver):
            masked[shop_id].append((order_id, platform_order_id, receiver))
        else:
            result.receivers[order_id] = _clear(receiver)
    links = {link.shop_id: link for link in directory.all(fresh=True)} if masked else {}
    try:
        for shop_id, orders in masked.items():
            _decrypt_shop(links.get(shop_id), orders, transport, result)
    finally:
        transport.log.flush()
        if own:
            transport.http.close()
    return result


def _decrypt_shop(link: ShopLink | None, orders: list[tuple[int, str, dict[str, Any]]], transport: Transport,
                  result: Decrypted) -> None:
    if link is None:
        for order_id, _, receiver in orders:
            result.failed[order_id] = (NotConnected("the order's shop is not connected to its platform (no "
                                                    "credentials): its receiver cannot be decrypted")
                                       if receiver.get("platform_cipher") else _nothing())
        return
    adapter = link.adapter
    if adapter.decrypt_batch_size < 1:
        for order_id, _, _ in orders:
            result.failed[order_id] = NoDecrypt(f"{link.channel} has no decrypt call BaoDan makes (see the adapter's "
                                                "readings): the receiver stays masked")
        return
    for start in range(0, len(orders), adapter.decrypt_batch_size):
        batch = orders[start:start + adapter.decrypt_batch_size]
        asked = [(platform_order_id, dict(receiver.get("platform_cipher") or {}))
                 for _, platform_order_id, receiver in batch]
        try:
            call = adapter.decrypt_call(link.creds, asked)
            opened = adapter.parse_decrypt(transport.call(link, call), items=asked) if call is not None else {}
        except PlatformError as exc:
            for order_id, _, _ in batch:
                result.failed[order_id] = exc
            continue
        for order_id, platform_order_id, receiver in batch:
            got = opened.get(platform_order_id)
            if got is None:
                result.failed[order_id] = _nothing()
            elif "error" in got:
                result.failed[order_id] = PlatformError(f"{link.channel} did not decrypt the receiver of order "
                                                        f"{platform_order_id}: {got['error']}",
                                                        details={"platform_order_id": platform_order_id})
            else:
                result.receivers[order_id] = _clear(receiver) | got


def _sealed(db: Database, pii: PiiCipher,
            order_ids: Iterable[int]) -> list[tuple[int, int, str, dict[str, Any]]]:
    ids = sorted(set(order_ids))
    with db.read() as s:
        sql, param = in_list(dialect_of(s), ids)
        rows = fetchall(s, f"SELECT o.id, o.shop_id, {PLATFORM_ID}, o.receiver_sealed FROM sales_order o "
                           f"WHERE o.id {sql}", (param,))
    return [(int(i), int(shop), str(pid), pii.open(sealed)) for i, shop, pid, sealed in rows if sealed]


def _clear(receiver: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in receiver.items() if key != "platform_cipher"}


def _nothing() -> NothingToDecrypt:
    return NothingToDecrypt("the receiver is masked and the platform gave no ciphertext its decrypt call opens")

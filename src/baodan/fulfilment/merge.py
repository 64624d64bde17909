"""Merging parcels (合单): routed orders of the same shop and buyer, to the same receiver (name, phone and
full address, compared in clear after opening the sealed receiver), shipping from the same warehouse and
paid within the merge window of each other, go out as one parcel under one waybill.

The step runs after routing and before the courier step. For each routed order (stage `waybill`) it looks
for a lead: an order of the same parcel key not yet waved (stage `waybill`, `number` or `ready`) paid
within the window; an order that already has a courier or a number is preferred as the lead, as its number
is already taken. The merged order gets stage `merged` and `parcel_of` = the lead: it takes no number of
its own, its items are picked in the lead's wave, printed on the lead's label, scanned into the lead's
parcel, and it ships with the lead's waybill (each order still writes the waybill back to its platform).
Each merge is recorded in the order's history.

Not merged: orders without a phone blind index or a sealed receiver, and orders whose receiver the
platform gives only encrypted (抖店, 快手, 淘宝's ciphertexts): the platform's own merge key for them is not
in the specs, and a masked address is not proof of the same receiver.

Interception: a merged order cancelled meanwhile is simply left out of the parcel (the packer is told); a
lead cancelled before packing hands its merged orders back to the courier step, unmerged, to get a number
of their own (or merge again among themselves)."""

from __future__ import annotations

import hashlib
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, dialect_of, executemany, fetchall, read_json, read_time, where_in
from baodan.identity.pii import PiiCipher
from baodan.orders import repository

BATCH = 2000
LEAD_STAGES = ("waybill", "number", "ready")  # not yet waved: a parcel can still take an order


@dataclass
class _Candidate:
    order_id: int
    stage: str
    paid_at: datetime
    key: str


def merge_once(db: Database, pii: PiiCipher, *, window: timedelta, limit: int = BATCH,
               now: datetime | None = None) -> int:
    """Merge routed orders into parcels of the same receiver; how many orders were merged."""
    if window <= timedelta(0):
        return 0
    now = now or clock.utcnow()
    with db.read() as s:
        # the oldest routed orders first: the ones the courier step takes next
        phones = sorted({int(r[0]) for r in fetchall(
            s, "SELECT o.phone_index FROM fulfilment f JOIN sales_order o ON o.id = f.order_id "
               "WHERE f.stage = 'waybill' AND f.parcel_of IS NULL AND o.state = 'reserved' "
               "AND o.phone_index IS NOT NULL ORDER BY f.order_id LIMIT ?", (limit,))})
        if not phones:
            return 0
        rows = where_in(s, "SELECT f.order_id, f.stage, o.paid_at, o.shop_id, f.warehouse_id, o.phone_index, "
                           "o.receiver, o.receiver_sealed FROM fulfilment f JOIN sales_order o ON o.id = f.order_id "
                           "WHERE f.stage IN ('waybill', 'number', 'ready') AND f.parcel_of IS NULL "
                           "AND o.state = 'reserved' AND o.phone_index", phones)
    groups: dict[str, list[_Candidate]] = defaultdict(list)
    for order_id, stage, paid_at, shop_id, warehouse_id, phone_index, region, sealed in rows:
        key = _parcel_key(pii, read_json(region) or {}, sealed, shop_id, warehouse_id, phone_index)
        paid = read_time(paid_at)
        if key is not None and paid is not None:
            groups[key].append(_Candidate(int(order_id), stage, paid, key))
    joins = [join for group in groups.values() if len(group) > 1 for join in _joins(group, window)]
    if not joins:
        return 0
    return _write(db, joins, now)


def _joins(group: list[_Candidate], window: timedelta) -> list[tuple[int, int]]:
    """(order, lead) pairs: each routed order joins the first lead paid within the window of it; numbered
    orders lead first, then routed ones in payment order."""
    leads = sorted((c for c in group if c.stage != "waybill"), key=lambda c: (c.paid_at, c.order_id))
    joins = []
    for candidate in sorted((c for c in group if c.stage == "waybill"), key=lambda c: (c.paid_at, c.order_id)):
        lead = next((lead for lead in leads if abs(candidate.paid_at - lead.paid_at) <= window), None)
        if lead is None:
            leads.append(candidate)
        else:
            joins.append((candidate.order_id, lead.order_id))
    return joins


def _write(db: Database, joins: Sequence[tuple[int, int]], now: datetime) -> int:
    with db.write() as s:
        dialect = dialect_of(s)
        at = db_time(dialect, now)
        # the lead must still take orders (not waved, not merged itself, not stopped) when the write happens
        open_leads = {int(r[0]) for r in where_in(
            s, "SELECT order_id FROM fulfilment WHERE parcel_of IS NULL AND stage IN ('waybill', 'number', 'ready') "
               "AND order_id", {lead for _, lead in joins})}
        joins = [(order_id, lead) for order_id, lead in joins if lead in open_leads]
        done = []
        for order_id, lead in joins:
            changed = fetchall(s, "UPDATE fulfilment SET stage = 'merged', parcel_of = ?, version = version + 1, "
                                  "updated_at = ? WHERE order_id = ? AND stage = 'waybill' AND parcel_of IS NULL "
                                  "RETURNING order_id", (lead, at, order_id))
            if changed:
                done.append((order_id, lead))
        repository.insert_events(s, [(order_id, "merged", at, db_json(dialect, {"into": lead}))
                                     for order_id, lead in done])
    return len(done)


def release_members(s: Any, lead_ids: Sequence[int], at: Any) -> list[tuple[int, int]]:
    """A lead stopped (cancelled) before packing: its live merged orders go back to the courier step, each
    on its own again; the (order, former lead) pairs released."""
    if not lead_ids:
        return []
    members = [(int(o), int(lead)) for o, lead in where_in(
        s, "SELECT order_id, parcel_of FROM fulfilment WHERE stage = 'merged' AND parcel_of", lead_ids)]
    executemany(s, "UPDATE fulfilment SET stage = 'waybill', parcel_of = NULL, wave_id = NULL, pick_seq = NULL, "
                   "scanned = NULL, version = version + 1, updated_at = ? WHERE order_id = ? AND stage = 'merged'",
                [(at, order_id) for order_id, _ in members])
    repository.insert_events(s, [(order_id, "unmerged", at, db_json(dialect_of(s), {"from": lead}))
                                 for order_id, lead in members])
    return members


def _parcel_key(pii: PiiCipher, region: dict[str, Any], sealed: str | None, shop_id: Any, warehouse_id: Any,
                phone_index: Any) -> str | None:
    """The receiver in full (the region in clear, name, phone and address sealed), with shop, warehouse and
    the phone's blind index: equal keys, one parcel."""
    if not sealed or warehouse_id is None:
        return None
    try:
        clear = pii.open(sealed)
    except Exception:  # a key not configured here: such an order ships on its own
        return None
    if clear.get("platform_cipher"):
        return None
    fields = {**region, **clear}
    parts = [fields.get(k) or "" for k in ("name", "phone", "province", "city", "district", "town", "address")]
    if not parts[0] or not parts[1] or not parts[6]:
        return None
    text = "|".join([str(shop_id), str(warehouse_id), str(phone_index),
                     *(_normalised(str(p)) for p in parts)])
    return hashlib.sha256(text.encode()).hexdigest()


def _normalised(value: str) -> str:
    """Full-width to half-width, no spaces, lower case: 文三路90号 and 文三路９０号 are one address."""
    return "".join(unicodedata.normalize("NFKC", value).split()).lower()

"""Merchants' accounts with e-waybill services, one per courier and service (ZTO through 菜鸟, 韵达 through
快递鸟, …), as data. The app key and settings are shown; every secret (app secret, 菜鸟 session, the courier
account's password) is sealed at rest with the PII cipher, so `baodan pii rotate` re-seals it too, and never
leaves through the API again (write-only, as shops' platform credentials are: channels.credentials)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from baodan.catalog.tables import shop, warehouse
from baodan.channels import credentials
from baodan.channels.base import Credentials
from baodan.core import clock
from baodan.core.db import Database
from baodan.identity import audit
from baodan.identity.pii import PiiCipher
from baodan.waybills import schemas
from baodan.waybills.base import Address, CarrierAccount, Contact
from baodan.waybills.errors import AccountExists, AccountNotFound, InvalidAccount
from baodan.waybills.registry import ADAPTERS
from baodan.waybills.tables import carrier_account, waybill, waybill_request

SHOP_SESSIONS = ("douyin", "pdd")  # e-waybill services that act in the seller's platform session

SHOWN = ("name", "adapter", "carrier_code", "platform_code", "app_key", "base_url", "sender", "warehouse_id",
         "shop_id", "daily_capacity",
         "low_water", "refill_batch", "active")


@dataclass(frozen=True)
class Pool:
    """An active account and how its numbers are kept ahead of printing."""

    account: CarrierAccount
    low_water: int
    refill_batch: int
    daily_capacity: int | None


def save(db: Database, pii: PiiCipher, *, data: schemas.CarrierAccountWrite, account_id: int | None = None,
         actor: str, ip: str | None = None) -> dict[str, Any]:
    """Create an account (`account_id` None; secrets required) or replace one's settings (secrets left out:
    kept). Audited without the secrets, in the same transaction."""
    if data.adapter not in ADAPTERS:
        raise InvalidAccount(f"adapter: one of {', '.join(ADAPTERS)}")
    if account_id is None and data.secrets is None:
        raise InvalidAccount("secrets: required to create an account")
    values: dict[str, Any] = {key: getattr(data, key) for key in SHOWN} | {
        "sender": data.sender.model_dump(), "updated_by": actor[:100], "updated_at": clock.utcnow()}
    if data.secrets is not None:
        values["secrets_sealed"] = _seal(pii, data.secrets)
    try:
        with db.write() as s:
            before = _shown(s, account_id) if account_id is not None else None
            if account_id is not None and before is None:
                raise AccountNotFound(f"no carrier account {account_id}")
            if data.warehouse_id is not None and s.scalar(
                    select(warehouse.c.id).where(warehouse.c.id == data.warehouse_id)) is None:
                raise InvalidAccount(f"warehouse_id: no warehouse {data.warehouse_id}")
            if data.shop_id is not None:
                channel = s.scalar(select(shop.c.channel).where(shop.c.id == data.shop_id))
                if channel is None or channel != data.adapter or data.adapter not in SHOP_SESSIONS:
                    raise InvalidAccount(f"shop_id: a 抖店 or 拼多多 e-waybill account may use the session of a shop "
                                         f"of its own platform ({data.adapter}); shop {data.shop_id} is "
                                         f"{channel or 'unknown'}")
            if s.scalar(select(carrier_account.c.id).where(carrier_account.c.name == data.name,
                                                           carrier_account.c.id != (account_id or 0))) is not None:
                raise AccountExists(f"a carrier account named {data.name!r} exists")
            if account_id is None:
                account_id = s.execute(insert(carrier_account).values(**values).returning(carrier_account.c.id)
                                       ).scalar_one()
            else:
                s.execute(update(carrier_account).where(carrier_account.c.id == account_id).values(**values))
            audit.record(s, actor=actor, action="settings.carrier_account", target=f"carrier_account:{account_id}",
                         ip=ip, detail={"before": before, "after": _shown(s, account_id),
                                        "secrets": "kept" if data.secrets is None else "replaced"})
    except IntegrityError as exc:  # a concurrent create with the same name
        raise AccountExists(f"a carrier account named {data.name!r} exists") from exc
    return summary(db, account_id)


def summary(db: Database, account_id: int) -> dict[str, Any]:
    found = listing(db, account_id=account_id)
    if not found:
        raise AccountNotFound(f"no carrier account {account_id}")
    return found[0]


def listing(db: Database, *, account_id: int | None = None) -> list[dict[str, Any]]:
    """Accounts as the API shows them (never a secret), with how many numbers are ready, orders queued and
    failing, and numbers issued today."""
    a = carrier_account.c
    shown = [a.id, *(a[key] for key in SHOWN), a.last_error, a.last_refill_at, a.updated_by, a.updated_at]
    query = select(*shown).order_by(a.id)
    if account_id is not None:
        query = query.where(a.id == account_id)
    with db.read() as s:
        rows = [{str(key): value for key, value in row._asdict().items()} for row in s.execute(query)]
        ids = [row["id"] for row in rows]
        if not ids:
            return []
        w, r = waybill.c, waybill_request.c
        ready = dict(s.execute(select(w.account_id, func.count()).where(w.account_id.in_(ids), w.state == "issued")
                               .group_by(w.account_id)).all())
        today = dict(s.execute(select(w.account_id, func.count()).where(w.account_id.in_(ids),
                                                                          w.issued_at >= start_of_day(clock.utcnow()))
                               .group_by(w.account_id)).all())
        queued = {k: (n, f) for k, n, f in s.execute(
            select(r.account_id, func.count(), func.count().filter(r.attempts > 0))
            .where(r.account_id.in_(ids)).group_by(r.account_id)).all()}
    return [row | {"ready": ready.get(row["id"], 0), "queued": queued.get(row["id"], (0, 0))[0],
                   "failing": queued.get(row["id"], (0, 0))[1], "issued_today": today.get(row["id"], 0)}
            for row in rows]


def pools(s: Session, pii: PiiCipher) -> list[Pool]:
    """Every active account, opened (its secrets in clear, for calls)."""
    a = carrier_account.c
    rows = s.execute(select(a.id, a.name, a.adapter, a.carrier_code, a.platform_code, a.app_key, a.secrets_sealed,
                            a.base_url, a.sender, a.shop_id, a.low_water, a.refill_batch, a.daily_capacity)
                     .where(a.active.is_(True)).order_by(a.id)).all()
    return [Pool(_opened(s, pii, row), row.low_water, row.refill_batch, row.daily_capacity) for row in rows]


def account(s: Session, pii: PiiCipher, account_id: int) -> CarrierAccount:
    """One account, active or not, opened."""
    a = carrier_account.c
    row = s.execute(select(a.id, a.name, a.adapter, a.carrier_code, a.platform_code, a.app_key, a.secrets_sealed,
                           a.base_url, a.sender, a.shop_id).where(a.id == account_id)).one_or_none()
    if row is None:
        raise AccountNotFound(f"no carrier account {account_id}")
    return _opened(s, pii, row)


def start_of_day(now: datetime) -> datetime:
    """Midnight (Beijing) of `now`'s day: when an account's daily capacity starts again."""
    local = clock.to_shanghai(now)
    return clock.as_utc(datetime.combine(local.date(), time(0), tzinfo=clock.SHANGHAI))


def next_day(now: datetime) -> datetime:
    return start_of_day(now) + timedelta(days=1)


def _shown(s: Session, account_id: int) -> dict[str, Any] | None:
    row = s.execute(select(*(carrier_account.c[key] for key in SHOWN))
                    .where(carrier_account.c.id == account_id)).one_or_none()
    return {str(key): value for key, value in row._asdict().items()} if row is not None else None


def _seal(pii: PiiCipher, secrets: schemas.Secrets) -> str:
    return pii.seal({"app_secret": secrets.app_secret, "access_token": secrets.access_token,
                     "extra": dict(secrets.extra)})


def _opened(s: Session, pii: PiiCipher, row: Any) -> CarrierAccount:
    """The account with its secrets in clear; an account using its shop's session gets the shop's current
    access token (the channel sync renews it ahead of expiry), else the copy it was saved with."""
    opened = pii.open(row.secrets_sealed)
    if row.shop_id is not None:
        shop_creds = credentials.stored(s, pii, int(row.shop_id))
        if shop_creds is not None and shop_creds.access_token:
            opened["access_token"] = shop_creds.access_token
    sender = dict(row.sender)
    adapter = ADAPTERS[row.adapter]
    return CarrierAccount(
        id=int(row.id), name=row.name, adapter=row.adapter, carrier_code=row.carrier_code,
        platform_code=row.platform_code,
        creds=Credentials(app_key=row.app_key, app_secret=opened["app_secret"], access_token=opened.get("access_token"),
                          extra=opened.get("extra") or {}),
        base_url=row.base_url or adapter.default_base_url,
        sender=Contact(name=sender["name"], phone=sender["phone"],
                       address=Address(province=sender["province"], city=sender["city"],
                                       district=sender.get("district") or "", address=sender["address"],
                                       town=sender.get("town") or "")))

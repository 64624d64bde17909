"""Courier codes per platform. BaoDan names couriers by the common codes (ZTO, YTO, STO, YUNDA, SF, EMS,
JD, JTSD, …); each platform has its own code for them, from its own list call (抖店 company_code, 淘宝
company_code, 快手 numeric expressCode, 拼多多 numeric logistics_id, 京东 numeric logiCoprId). The spec
warns never to hard-code them: they are data (`channel_carrier`, set with
`PUT /api/v1/channels/<platform>/carriers`), with defaults only where they are the common codes themselves
(抖店, 淘宝, 微信小店: a plausible reading, to be checked against each shop's list) or given by the spec
(京东's sample ids, marked [inf] there). 快手 and 拼多多 have no default: a write-back waits, with
`channels.carrier_unmapped` in `baodan channels status`, until the merchant sets them."""

from __future__ import annotations

from typing import Any

from baodan.core import clock
from baodan.core.db import Database, db_time, dialect_of, executemany, fetchall
from baodan.core.errors import Invalid
from baodan.identity import audit

LETTER_CODES = ("SF", "ZTO", "YTO", "YUNDA", "STO", "JTSD", "HTKY", "EMS", "POSTB", "JD", "DBKD", "ZJS")
DEFAULTS: dict[str, dict[str, str]] = {
    "douyin": {c: c for c in LETTER_CODES},
    "taobao": {c: c for c in LETTER_CODES},
    "wechat": {c: c for c in LETTER_CODES},
    "jd": {"ZTO": "1499", "YUNDA": "1327", "STO": "470", "YTO": "463", "SF": "467", "EMS": "465", "DBKD": "3046",
           "JD": "2087"},
    "kuaishou": {},
    "pdd": {},
}


class CarrierUnmapped(Invalid):
    code = "channels.carrier_unmapped"


def codes(s: Any, channel: str) -> dict[str, str]:
    """BaoDan courier code → the platform's, defaults overridden by what the merchant set."""
    mapped = dict(DEFAULTS.get(channel, {}))
    mapped.update(dict(fetchall(s, "SELECT carrier_code, platform_code FROM channel_carrier WHERE channel = ?",
                                (channel,))))
    return mapped


def platform_code(s: Any, channel: str, carrier: str) -> str:
    found = codes(s, channel).get(carrier)
    if found is None:
        raise CarrierUnmapped(f"{channel} has no code for courier {carrier}: set it with PUT "
                              f"/api/v1/channels/{channel}/carriers", details={"channel": channel, "carrier": carrier})
    return found


def save(db: Database, channel: str, mapping: dict[str, str], *, actor: str, ip: str | None = None) -> dict[str, str]:
    """Set some of a platform's courier codes (audited, in the same transaction)."""
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        before = codes(s, channel)
        executemany(s, "INSERT INTO channel_carrier (channel, carrier_code, platform_code, updated_at) "
                       "VALUES (?, ?, ?, ?) ON CONFLICT (channel, carrier_code) DO UPDATE SET "
                       "platform_code = excluded.platform_code, updated_at = excluded.updated_at",
                    [(channel, carrier, code, db_time(dialect, now)) for carrier, code in mapping.items()])
        audit.record(s, actor=actor, action="settings.carriers", target=f"channel:{channel}", ip=ip,
                     detail={"changes": {c: {"before": before.get(c), "after": v} for c, v in mapping.items()
                                         if before.get(c) != v}})
        return codes(s, channel)

"""What every export passes before its first row leaves: the daily cap and the audit record.

- **Cap**: one actor (user or API key) may export at most `Settings.export_daily_rows` rows per
  Shanghai calendar day, counted from the `export` records of the audit trail itself (so the cap
  cannot drift from what was recorded). The check and the record are one step under the audit lock,
  so two exports at once cannot both slip under the cap.
- **Audit**: the record (what, which filters, how many rows, from where) is committed before the file
  streams; its id is the export's number.
- **Watermark**: the file's first line and a column on every row name the export number, the actor
  and the time, so a leaked file, or a few rows pasted out of it, can be traced to who exported it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from baodan.core import clock
from baodan.core.db import Database, db_time, dialect_of, fetchall, read_json
from baodan.core.errors import BaoDanError
from baodan.identity import audit


class ExportCapReached(BaoDanError):
    status = 429
    code = "export.daily_cap"


@dataclass(frozen=True, slots=True)
class Watermark:
    export_id: int
    actor: str
    at: datetime

    @property
    def banner(self) -> str:
        return (f"BaoDan 导出 #{self.export_id} · {self.actor} · {clock.to_shanghai(self.at):%Y-%m-%d %H:%M:%S} "
                "(上海时间) · 内部资料，严禁外传")

    @property
    def tag(self) -> str:
        return f"#{self.export_id} {self.actor} {clock.to_shanghai(self.at):%Y-%m-%d %H:%M}"


def day_start(now: datetime) -> datetime:
    """The start of `now`'s calendar day in Shanghai, in UTC."""
    local = clock.to_shanghai(now)
    return clock.as_utc(local.replace(hour=0, minute=0, second=0, microsecond=0))


def open_export(db: Database, *, actor: str, kind: str, rows: int, filters: dict[str, Any], cap: int,
                ip: str | None) -> Watermark:
    """Check the cap, record the export; raises ExportCapReached (nothing recorded) when over it."""
    now = clock.utcnow()
    start = day_start(now)
    with db.write() as s:
        audit.lock(s)
        used = sum(int(read_json(d).get("rows", 0)) for (d,) in fetchall(
            s, "SELECT detail FROM audit_log WHERE actor = ? AND action = 'export' AND at >= ?",
            (actor, db_time(dialect_of(s), start))))
        if used + rows > cap:
            resets = start + timedelta(days=1)
            raise ExportCapReached(
                f"this export has {rows} rows; {used} of your {cap} rows today are used (resets at 00:00 上海时间)",
                details={"rows": rows, "used_today": used, "daily_cap": cap,
                         "retry_after_s": max(1, int((resets - now).total_seconds()))})
        export_id = audit.record(s, actor=actor, action="export", target=kind, ip=ip,
                                 detail={"kind": kind, "rows": rows, "filters": filters, "format": "csv"})
    return Watermark(export_id, actor, now)

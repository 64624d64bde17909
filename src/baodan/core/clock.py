"""Time: aware UTC inside, Asia/Shanghai only when shown to people."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive value is taken as Asia/Shanghai, the zone every Chinese platform writes in."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(UTC)


def to_shanghai(value: datetime) -> datetime:
    return as_utc(value).astimezone(SHANGHAI)


def sql_text(value: datetime) -> str:
    """Fixed-width UTC text as SQLite stores our timestamps (sorts and compares correctly as text)."""
    if value.tzinfo is not UTC:
        value = as_utc(value)
    return value.isoformat(sep=" ", timespec="microseconds")[:26]  # drop the "+00:00"


def from_sql_text(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)

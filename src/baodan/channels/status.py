"""How each connected shop is in step with its platform (`baodan channels status`, GET /channels/status)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any


def sync_state(db: Any) -> list[dict[str, Any]]:
    """Per connected shop: pull cursor, fetch backlog, write-backs owed, stock pushes failing, call errors,
    and when its access token expires (`token_error`: it cannot be renewed, the merchant must re-authorise)."""
    from baodan.channels.tokens import token_problem
    from baodan.core import clock
    from baodan.core.db import db_time, dialect_of, fetchall, read_time

    now = clock.utcnow()
    with db.read() as s:
        hour_ago = db_time(dialect_of(s), now - timedelta(hours=1))
        shops = fetchall(s, "SELECT s.id, s.code, s.channel, c.app_key, c.base_url, c.token_expires_at, "
                            "c.refresh_expires_at FROM shop s JOIN shop_credential c ON c.shop_id = s.id "
                            "ORDER BY s.id")
        out = []
        for shop_id, code, channel, app_key, base_url, token_at, refresh_at in shops:
            cursor = fetchall(s, "SELECT synced_to, last_run_at, last_error FROM channel_cursor WHERE shop_id = ?",
                              (shop_id,))
            fetch = fetchall(s, "SELECT count(*), sum(CASE WHEN last_error IS NULL THEN 0 ELSE 1 END), max(last_error) "
                                "FROM channel_fetch WHERE shop_id = ?", (shop_id,))[0]
            owed = fetchall(s, "SELECT count(*), max(last_error) FROM channel_outbox WHERE shop_id = ? "
                               "AND done_at IS NULL", (shop_id,))[0]
            stock = fetchall(s, "SELECT count(*), sum(CASE WHEN last_error IS NULL THEN 0 ELSE 1 END) "
                                "FROM channel_stock WHERE shop_id = ?", (shop_id,))[0]
            calls = fetchall(s, "SELECT count(*), sum(CASE WHEN ok THEN 0 ELSE 1 END) FROM channel_call "
                                "WHERE shop_id = ? AND at >= ?", (shop_id, hour_ago))[0]
            out.append({
                "shop": code, "channel": channel, "app_key": app_key, "base_url": base_url,
                "synced_to": read_time(cursor[0][0]) if cursor else None,
                "last_pull_at": read_time(cursor[0][1]) if cursor else None,
                "pull_error": cursor[0][2] if cursor else None,
                "fetch_queued": int(fetch[0]), "fetch_failing": int(fetch[1] or 0), "fetch_error": fetch[2],
                "writebacks_owed": int(owed[0]), "writeback_error": owed[1],
                "stock_listings_pushed": int(stock[0]), "stock_failing": int(stock[1] or 0),
                "calls_last_hour": int(calls[0]), "failed_calls_last_hour": int(calls[1] or 0),
                "token_expires_at": read_time(token_at), "refresh_expires_at": read_time(refresh_at),
                "token_error": token_problem(read_time(token_at), read_time(refresh_at), now=now)})
    return out

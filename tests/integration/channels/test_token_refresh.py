"""Access tokens renewed through the in-process platform simulator: ahead of expiry, after the platform
says one expired, not at all (and without hammering the platform) when the refresh is refused, and once
when two processes find it due together."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from baodan.channels import credentials
from baodan.channels.base import PlatformError, ReauthorizeNeeded
from baodan.channels.registry import PLATFORMS
from baodan.channels.status import sync_state
from baodan.channels.sync import ChannelSync
from baodan.core import clock
from baodan.core.db import Database, db_time, dialect_of, execute, fetchall
from baodan.identity import audit
from baodan.sim import Simulator, load_config
from tests.helpers import API, make_catalog, sqlite_only

SHOP = "SHOP-A"


@pytest.fixture
def simulate() -> Iterator[Any]:
    """Start a simulator of one platform (its [platforms.X] settings overridden); stopped afterwards."""
    started: list[Simulator] = []

    def start(channel: str, **platform: Any) -> Simulator:
        config = load_config(port=0)
        config = replace(config, platforms={channel: replace(config.platforms[channel], **platform)})
        started.append(Simulator(config).start())
        return started[-1]

    yield start
    for sim in started:
        sim.stop()


def _connect(db: Database, runtime: Any, sim: Simulator, channel: str, **tokens: Any) -> int:
    """The shop connected to the simulator with its credentials (`tokens` override the token fields)."""
    shop_id = make_catalog(db, skus={"A": 5}, shop=SHOP, channel=channel)[SHOP]
    creds = sim.credentials(channel)
    fields = {"access_token": creds.access_token, "refresh_token": creds.refresh_token} | tokens
    credentials.save(db, runtime.pii, shop_id=shop_id, app_key=creds.app_key, app_secret=creds.app_secret,
                     platform_shop_id=creds.shop_id, base_url=sim.base_url(channel), extra=dict(creds.extra),
                     actor="system:test", **fields)
    return shop_id


def _saved_an_hour_ago(db: Database, shop_id: int) -> None:
    """The credentials were saved an hour ago, so a token expiring soon is within its renewal margin."""
    with db.write() as s:
        execute(s, "UPDATE shop_credential SET updated_at = ? WHERE shop_id = ?",
                (db_time(dialect_of(s), clock.utcnow() - timedelta(hours=1)), shop_id))


def _sync(runtime: Any) -> ChannelSync:
    """A ChannelSync with its own credential cache, shop links and token keeper: another process, as far as
    renewing tokens goes (they share only the database)."""
    return ChannelSync(runtime.db, runtime.inbox, runtime.shops, runtime.pii, pull_lookback=timedelta(minutes=30))


def _calls(db: Database, sync: ChannelSync) -> list[tuple[str, bool]]:
    sync.call_log.flush()
    with db.read() as s:
        return [(method, bool(ok)) for method, ok in fetchall(s, "SELECT method, ok FROM channel_call ORDER BY id")]


def _refreshes(db: Database) -> list[dict[str, Any]]:
    with db.read() as s:
        return audit.search(s, action="settings.shop_token_refreshed")


def test_a_token_near_expiry_is_renewed_before_the_call(runtime, db, simulate) -> None:
    sim = simulate("douyin")
    old = sim.credentials("douyin")
    shop_id = _connect(db, runtime, sim, "douyin", token_expires_at=clock.utcnow() + timedelta(minutes=2))
    _saved_an_hour_ago(db, shop_id)  # 2 minutes left of an hour: within min(1 h, 10%) = 6 minutes
    sim.add_orders("douyin", 2)
    sync = _sync(runtime)

    assert sync.pull_once(sync.link(shop_id)) == 2

    assert sim.store.token_counts("douyin") == (1, 0)
    assert _calls(db, sync) == [("token.refresh", True), ("order.searchList", True)]  # no refused call first
    stored = credentials.load(db, runtime.pii, shop_id)
    assert stored is not None and stored.access_token not in (None, old.access_token)
    assert sim.store.token_state("douyin", stored.access_token, clock.utcnow()) == "valid"
    assert stored.refresh_token not in (None, old.refresh_token)  # the used one is gone; the new one kept
    summary = credentials.summary(db, shop_id)
    assert summary["token_expires_at"] > clock.utcnow() + timedelta(days=6)
    assert summary["refresh_expires_at"] > clock.utcnow() + timedelta(days=13)
    [record] = _refreshes(db)
    assert record["target"] == f"shop:{shop_id}" and record["detail"]["reason"] == "due"
    assert stored.access_token not in str(record["detail"]) and stored.refresh_token not in str(record["detail"])
    with db.read() as s:
        logged = " ".join(str(r) for r in fetchall(s, "SELECT request, response FROM channel_call"))
    assert all(t not in logged for t in (stored.access_token, stored.refresh_token, old.refresh_token,
                                         old.app_secret))


@pytest.mark.parametrize("channel", PLATFORMS)
def test_an_expired_token_the_platform_refuses_is_renewed_and_the_call_made_again(runtime, db, simulate,
                                                                                  channel) -> None:
    sim = simulate(channel)
    shop_id = _connect(db, runtime, sim, channel)  # BaoDan does not know when the token expires
    sim.add_orders(channel, 1)
    sim.store.expire_tokens(channel, at=clock.utcnow())
    sync = _sync(runtime)

    assert sync.pull_once(sync.link(shop_id)) == 1

    assert sim.store.token_counts(channel) == (1, 0)
    calls = _calls(db, sync)
    listed = calls[0][0]
    assert calls[0] == (listed, False) and calls[-1] == (listed, True) and len(calls) == 3  # refused, renewed, again
    assert calls[1][1] and calls[1][0] != listed
    [record] = _refreshes(db)
    assert record["detail"]["reason"] == "expired"
    stored = credentials.load(db, runtime.pii, shop_id)
    assert stored is not None and sim.store.token_state(channel, stored.access_token, clock.utcnow()) == "valid"


def test_a_refused_refresh_shows_in_the_status_and_is_not_tried_again(runtime, db, simulate, client) -> None:
    sim = simulate("douyin")
    shop_id = _connect(db, runtime, sim, "douyin", refresh_token="a-refresh-token-the-platform-never-issued")
    sim.store.expire_tokens("douyin", at=clock.utcnow())
    sync = _sync(runtime)

    with pytest.raises(ReauthorizeNeeded) as refused:
        sync.pull_once(sync.link(shop_id))
    assert refused.value.status == 409 and "re-authorise" in refused.value.message
    assert "refresh_token无效或已过期" in refused.value.message  # the platform's own words
    made = _calls(db, sync)
    assert made == [("order.searchList", False), ("token.refresh", False)]

    for _ in range(5):  # the worker's loops keep going: nothing reaches the platform any more
        with pytest.raises(ReauthorizeNeeded):
            sync.pull_once(sync.link(shop_id))
    assert _calls(db, sync) == made
    assert sim.store.token_counts("douyin") == (0, 1)

    [state] = sync_state(db)
    assert "re-authorise" in state["token_error"]
    assert state["token_expires_at"] <= clock.utcnow() and state["refresh_expires_at"] <= clock.utcnow()
    [shown] = client.get(f"{API}/channels/status").json()
    assert "re-authorise" in shown["token_error"]

    # the merchant re-authorises: the shop works again
    creds = sim.credentials("douyin")
    fresh = sim.store.issue_token("douyin", now=clock.utcnow(), lifetime=timedelta(hours=1),
                                  refresh_lifetime=timedelta(days=14), grace=timedelta(0))
    assert fresh is not None
    credentials.save(db, runtime.pii, shop_id=shop_id, app_key=creds.app_key, app_secret=creds.app_secret,
                     platform_shop_id=creds.shop_id, base_url=sim.base_url("douyin"), access_token=fresh.access_token,
                     refresh_token=fresh.refresh_token, token_expires_at=fresh.expires_at,
                     refresh_expires_at=fresh.refresh_expires_at, actor="system:test")
    sync.directory.forget()
    sync.directory.credentials.forget(shop_id)
    sync.pull_once(sync.link(shop_id))
    assert sync_state(db)[0]["token_error"] is None


def test_a_refresh_that_fails_for_a_passing_reason_keeps_the_working_token(runtime, db, simulate) -> None:
    sim = simulate("douyin")
    shop_id = _connect(db, runtime, sim, "douyin", token_expires_at=clock.utcnow() + timedelta(minutes=2))
    _saved_an_hour_ago(db, shop_id)
    sync = _sync(runtime)
    link = sync.link(shop_id)
    real_send = sync.transport.send

    def token_calls_fail(link: Any, call: Any, **kwargs: Any) -> Any:
        if call.method == "token.refresh":
            raise PlatformError("douyin token.refresh: HTTP 503", retryable=True)
        return real_send(link, call, **kwargs)

    sync.transport.send = token_calls_fail  # type: ignore[method-assign]
    sync.pull_once(link)
    sync.pull_once(link)  # within the cooldown: no second refresh attempt

    assert sim.store.token_counts("douyin") == (0, 0)
    assert [m for m, _ in _calls(db, sync)] == ["order.searchList", "order.searchList"]
    assert sync_state(db)[0]["token_error"] is None


def test_two_processes_finding_the_token_due_together_renew_it_once(runtime, db, simulate) -> None:
    sim = simulate("douyin")
    shop_id = _connect(db, runtime, sim, "douyin", token_expires_at=clock.utcnow() + timedelta(minutes=2))
    _saved_an_hour_ago(db, shop_id)
    sim.add_orders("douyin", 1)
    syncs = [_sync(runtime), _sync(runtime)]
    links = [sync.link(shop_id) for sync in syncs]
    start = threading.Barrier(2)
    outcome: list[Any] = [None, None]

    def pull(i: int) -> None:
        start.wait()
        try:
            outcome[i] = syncs[i].pull_once(links[i])
        except Exception as exc:  # reported below
            outcome[i] = exc

    threads = [threading.Thread(target=pull, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcome == [1, 1]
    assert sim.store.token_counts("douyin") == (1, 0)
    assert len(_refreshes(db)) == 1
    syncs[0].call_log.flush()
    calls = _calls(db, syncs[1])  # both processes' calls
    assert sorted(calls) == [("order.searchList", True)] * 2 + [("token.refresh", True)]


@sqlite_only
def test_credentials_show_when_the_tokens_expire_never_the_tokens(runtime, db, client) -> None:
    shop_id = make_catalog(db, skus={"A": 1}, shop=SHOP, channel="douyin")[SHOP]
    body = {"app_key": "7012345678901234567", "app_secret": "a-secret-of-the-app", "access_token": "at-1",
            "refresh_token": "rt-1", "token_expires_at": "2026-12-10T12:00:00+08:00",
            "refresh_expires_at": "2026-12-17T12:00:00+08:00"}
    saved = client.put(f"{API}/shops/{shop_id}/credentials", json=body)
    assert saved.status_code == 200, saved.text
    shown = client.get(f"{API}/shops/{shop_id}/credentials").json()
    assert shown["token_expires_at"].startswith("2026-12-10T04:00:00")
    assert shown["refresh_expires_at"].startswith("2026-12-17T04:00:00")
    assert "at-1" not in str(shown) and "rt-1" not in str(shown)
    stored = credentials.load(db, runtime.pii, shop_id)
    assert stored is not None and (stored.access_token, stored.refresh_token) == ("at-1", "rt-1")
    naive = client.put(f"{API}/shops/{shop_id}/credentials", json=body | {"token_expires_at": "2026-12-10T12:00:00"})
    assert naive.status_code == 422

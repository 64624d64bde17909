"""Queued detail fetches are leased: a process that dies mid-call leaves the order to be fetched again
once the lease ends, and meanwhile another process does not fetch it twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from baodan.channels import credentials
from baodan.channels.sync import LEASE, ChannelSync
from baodan.core import clock
from baodan.core.db import fetchall
from tests.helpers import make_catalog


class Died(BaseException):
    """The process is killed in the middle of a platform call."""


def _sync(runtime: Any) -> ChannelSync:
    return ChannelSync(runtime.db, runtime.inbox, runtime.shops, runtime.pii)


def test_a_fetch_claimed_by_a_dead_process_is_retried_after_its_lease_and_not_before(runtime, db) -> None:
    ids = make_catalog(db, skus={"A": 5})
    credentials.save(db, runtime.pii, shop_id=ids["SHOP-A"], app_key="k", app_secret="s", access_token="t",
                     base_url="http://douyin.test", actor="system:test")
    first, second = _sync(runtime), _sync(runtime)
    first.request_fetch(ids["SHOP-A"], ["6920000000000000001"])
    calls: list[str] = []

    def dies(link: Any, call: Any) -> Any:
        calls.append(call.method)
        raise Died

    first.transport.call = dies  # type: ignore[method-assign]
    with pytest.raises(Died):
        first.fetch_once()
    now = clock.utcnow()

    def answers(link: Any, call: Any) -> Any:
        calls.append(call.method)
        return {}  # an empty detail: unmappable, so it is queued again with the reason

    second.transport.call = answers  # type: ignore[method-assign]
    assert second.fetch_once(now=now) == 0 and calls == ["order.orderDetail"]  # leased: not fetched twice
    second.fetch_once(now=now + LEASE + timedelta(seconds=1))
    assert calls == ["order.orderDetail", "order.orderDetail"]  # the lease ended: fetched again
    with db.read() as s:
        ((attempts, error),) = fetchall(s, "SELECT attempts, last_error FROM channel_fetch")
    assert attempts == 1 and error

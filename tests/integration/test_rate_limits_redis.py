"""Rate limits shared through a real Redis (BAODAN_REDIS_URL): two API processes count one caller
together. Skipped where no Redis answers, unless BAODAN_REQUIRE_REDIS=1 (CI), which fails instead."""

from __future__ import annotations

import os
import uuid

import pytest
import redis
from fastapi.testclient import TestClient

from baodan.app import create_app
from baodan.identity import accounts
from baodan.identity.http import RateLimited, RateLimits
from tests.helpers import API, error_body, sqlite_only

REDIS_URL = os.environ.get("BAODAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("BAODAN_REQUIRE_REDIS") == "1":
            pytest.fail(f"BAODAN_REQUIRE_REDIS=1 but no Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    return REDIS_URL


def test_two_processes_share_one_callers_budget(redis_url: str) -> None:
    first, second = RateLimits(redis_url), RateLimits(redis_url)  # as two API processes would
    caller = f"key:test-{uuid.uuid4().hex}"
    first.hit(caller, 3)
    second.hit(caller, 3)
    first.hit(caller, 3)
    with pytest.raises(RateLimited) as refused:
        second.hit(caller, 3)
    assert 1 <= refused.value.details["retry_after_s"] <= 60
    assert RateLimits(redis_url).allow(f"key:other-{uuid.uuid4().hex}", 3)  # another caller is not affected


@sqlite_only
def test_a_key_over_its_rate_is_refused_across_apps_sharing_redis(runtime, db, redis_url: str) -> None:
    key = accounts.create_api_key(db, name="sync", permissions=["orders.read"], rate_per_minute=4, actor="system")
    runtime.rate_limits = RateLimits(redis_url)
    one = TestClient(create_app(runtime), headers={"Authorization": f"Bearer {key}"})
    other_rt_limits = RateLimits(redis_url)
    for _ in range(2):
        assert one.get(f"{API}/orders").status_code == 200
    runtime.rate_limits = other_rt_limits  # the same caller reaching a second process
    for _ in range(2):
        assert one.get(f"{API}/orders").status_code == 200
    resp = one.get(f"{API}/orders")
    error_body(resp, 429, "rate_limited")
    assert int(resp.headers["Retry-After"]) >= 1


def test_an_unreachable_redis_lets_requests_through_instead_of_failing_them(caplog) -> None:
    limits = RateLimits("redis://127.0.0.1:1/0")  # nothing listens on port 1
    for _ in range(3):
        limits.hit("key:x", 1)  # would be refused at the second call if Redis counted
    assert "rate-limit store unavailable" in caplog.text

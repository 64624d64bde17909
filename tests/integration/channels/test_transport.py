"""Calls to a platform (channels.transport): signed, retried with backoff on 5xx, timeouts and "busy"
answers but not on a refusal, kept under the platform's rate, and logged with secrets and PII masked."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from baodan.channels.base import Call, Credentials, PlatformError
from baodan.channels.registry import ADAPTERS
from baodan.channels.transport import LOG_LIST_MAX, CallLog, ShopLink, TokenBucket, Transport, mask
from baodan.core.db import fetchall, read_json

CREDS = Credentials(app_key="7012345678901234567", app_secret="s3cr3t-app-secret", shop_id="12345",
                    access_token="tok-abcdef")
CALL = Call("order.orderDetail", {"shop_order_id": "6920000000000012345"})


def _link() -> ShopLink:
    return ShopLink(1, "DY-FLAGSHIP", "douyin", ADAPTERS["douyin"], CREDS, "http://douyin.test")


def _transport(db: Any, answers: list[Any], seen: list[httpx.Request]) -> Transport:
    adapter = ADAPTERS["douyin"]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, int):
            return httpx.Response(answer, content=b"gateway trouble")
        return httpx.Response(200, content=adapter.envelope(CALL, answer.get("data"), error=answer.get("error")))

    return Transport(CallLog(db), http=httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda _: None)


def _log(db: Any) -> list[dict[str, Any]]:
    with db.read() as s:
        rows = fetchall(s, "SELECT attempt, status, ok, error, request, response FROM channel_call ORDER BY id")
    return [{"attempt": a, "status": st, "ok": bool(ok), "error": e, "request": r, "response": read_json(resp)
             if resp else None} for a, st, ok, e, r, resp in rows]


def test_a_5xx_and_a_timeout_are_retried_then_the_answer_is_returned(db) -> None:
    seen: list[httpx.Request] = []
    detail = {"shop_order_detail": {"order_id": "6920000000000012345", "post_tel": "13812345678"}}
    transport = _transport(db, [502, httpx.ReadTimeout("slow"), {"data": detail}], seen)
    assert transport.call(_link(), CALL) == detail
    assert len(seen) == 3 and all("sign" in r.url.params for r in seen)
    transport.log.flush()
    log = _log(db)
    assert [(e["attempt"], e["status"], e["ok"]) for e in log] == [(1, 502, False), (2, None, False), (3, 200, True)]
    text = str(log)
    assert CREDS.app_secret not in text and CREDS.access_token not in text and "13812345678" not in text
    assert "ReadTimeout" in log[1]["error"]


def test_a_refusal_is_not_retried_and_exhausted_retries_raise(db) -> None:
    seen: list[httpx.Request] = []
    transport = _transport(db, [{"error": ("isv.parameter-invalid", "bad order id")}], seen)
    with pytest.raises(PlatformError) as refused:
        transport.call(_link(), CALL)
    assert not refused.value.retryable and len(seen) == 1
    seen.clear()
    transport = _transport(db, [503, 503, 503, 503], seen)
    with pytest.raises(PlatformError) as gave_up:
        transport.call(_link(), CALL)
    assert gave_up.value.retryable and len(seen) == transport.max_attempts


def test_masking_drops_secrets_and_masks_buyers() -> None:
    masked = mask({"app_key": "k", "sign": "abc", "access_token": "t", "post_receiver": "张三",
                   "items": [{"title": "面膜", "note": "call 13912345678"}], "encrypt_post_tel": "#x#"})
    assert masked == {"app_key": "***", "sign": "***", "access_token": "***", "post_receiver": "**",
                      "items": [{"title": "面膜", "note": "call 139****5678"}], "encrypt_post_tel": "**"}
    page = mask({"orders": [{"post_tel": "13912345678"}] * 50})  # only the first items: the log is cut anyway
    assert page == {"orders": [{"post_tel": "**"}] * LOG_LIST_MAX + [f"… {50 - LOG_LIST_MAX} more"]}


def test_the_token_bucket_keeps_under_the_rate() -> None:
    bucket = TokenBucket(20)
    started = time.monotonic()
    for _ in range(30):  # 20 at once (a second's worth), then 10 more at 20 a second
        bucket.acquire()
    assert 0.4 <= time.monotonic() - started < 2.0

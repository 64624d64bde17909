"""Own channels (a shop's own 微信小程序 mall or 独立站): the merchant's system pushes canonical orders to
`POST /webhooks/custom/<shop code>`, signed with the shop's secret.

The recipe (documented with curl and Python examples in docs/own-channel.md):

    X-BaoDan-Timestamp: <unix seconds>
    X-BaoDan-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>

A timestamp more than REPLAY_WINDOW_S away from BaoDan's clock is refused, so a captured request cannot
be replayed later; within the window a replay is harmless, because intake is idempotent on each order
event's natural key. The same recipe signs BaoDan's outgoing webhooks to the merchant's system.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from baodan.channels.base import BadSignature

TIMESTAMP_HEADER = "x-baodan-timestamp"
SIGNATURE_HEADER = "x-baodan-signature"
REPLAY_WINDOW_S = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def sign(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The headers that sign `body` (for BaoDan's outgoing webhooks, tests and the examples)."""
    timestamp = str(int(time.time() if now is None else now))
    return {"X-BaoDan-Timestamp": timestamp, "X-BaoDan-Signature": signature(secret, timestamp, body)}


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None) -> None:
    """Raise BadSignature unless the headers sign `body` with `secret` within the replay window."""
    timestamp, presented = headers.get(TIMESTAMP_HEADER, ""), headers.get(SIGNATURE_HEADER, "")
    if not timestamp.isdigit() or not presented:
        raise BadSignature(f"send the {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers",
                           code="webhook.unsigned")
    skew = abs((time.time() if now is None else now) - int(timestamp))
    if skew > REPLAY_WINDOW_S:
        raise BadSignature(f"the timestamp is {int(skew)} s away from now (at most {REPLAY_WINDOW_S} s)",
                           code="webhook.stale_timestamp")
    if not hmac.compare_digest(presented, signature(secret, timestamp, body)):
        raise BadSignature("the signature does not match the body and the shop's secret")

"""抖店 signatures: the v2 request sign (HMAC-SHA256 or legacy MD5) and the push `event-sign` (MD5)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from baodan.channels._common import compact_json


def param_json(params: dict[str, Any]) -> str:
    """Business parameters as the SDKs send them: keys sorted at every level, compact, non-ASCII as is."""
    return compact_json(params, sort_keys=True) if params else "{}"


def string_to_sign(*, app_key: str, app_secret: str, method: str, param_json: str, timestamp: str) -> str:
    # access_token and sign_method are not signed
    return (f"{app_secret}app_key{app_key}method{method}param_json{param_json}"
            f"timestamp{timestamp}v2{app_secret}")


def request_sign(*, app_key: str, app_secret: str, method: str, param_json: str, timestamp: str,
                 sign_method: str = "hmac-sha256") -> str:
    """Lowercase hex HMAC-SHA256 (key = app_secret) of the string to sign; `md5` is the legacy variant."""
    message = string_to_sign(app_key=app_key, app_secret=app_secret, method=method, param_json=param_json,
                             timestamp=timestamp).encode()
    if sign_method == "md5":
        return hashlib.md5(message).hexdigest()
    if sign_method != "hmac-sha256":
        raise ValueError(f"unknown douyin sign_method {sign_method!r}")
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


def push_sign(*, app_key: str, app_secret: str, body: bytes) -> str:
    """The `event-sign` header: lowercase hex MD5(app_key + raw body + app_secret)."""
    return hashlib.md5(app_key.encode() + body + app_secret.encode()).hexdigest()


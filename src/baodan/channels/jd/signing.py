"""京东 JOS request signature: upper MD5 over the sorted system parameters (business parameters travel inside
`360buy_param_json`) wrapped in the app secret."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from baodan.channels.base import BadSignature


def sign_params(params: Mapping[str, str], secret: str) -> str:
    """upper(md5_hex(secret + k1v1k2v2… + secret)) over every parameter but `sign`, sorted by key."""
    joined = "".join(key + value for key, value in sorted(params.items()) if key != "sign")
    return hashlib.md5(f"{secret}{joined}{secret}".encode()).hexdigest().upper()


def check_sign(params: Mapping[str, str], secret: str) -> None:
    given = (params.get("sign") or "").upper()
    if not given or not hmac.compare_digest(given, sign_params(params, secret)):
        raise BadSignature("JOS sign does not match")

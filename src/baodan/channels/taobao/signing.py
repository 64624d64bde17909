"""TOP (淘宝/天猫开放平台) signatures: the request sign over sorted parameters (md5, hmac, hmac-sha256), also
used for the HTTP relay of TMC messages with the message body appended."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from baodan.channels._common import sign_matches, sorted_join, wrapped_md5
from baodan.channels.base import BadSignature

SIGN_METHODS = ("md5", "hmac", "hmac-sha256")


def sign_params(params: Mapping[str, str], secret: str, sign_method: str = "md5", *, body: bytes = b"") -> str:
    """Upper-case hex signature of every non-empty parameter but `sign`, sorted by key and joined as key+value.

    md5: MD5(secret + joined + secret); hmac: HMAC-MD5(secret, joined); hmac-sha256: HMAC-SHA256(secret,
    joined). `body` goes after the parameters, as in TOP's batch API recipe (the TMC relay signs its body so)."""
    if sign_method == "md5":
        return wrapped_md5(params, secret, keep_empty=False, body=body)
    data = sorted_join(params, keep_empty=False).encode() + body
    key = secret.encode()
    if sign_method == "hmac":
        return hmac.new(key, data, hashlib.md5).hexdigest().upper()
    if sign_method == "hmac-sha256":
        return hmac.new(key, data, hashlib.sha256).hexdigest().upper()
    raise BadSignature(f"unknown TOP sign_method {sign_method!r}", details={"sign_method": sign_method})


def check_sign(params: Mapping[str, str], secret: str, *, body: bytes = b"") -> None:
    """Raise BadSignature unless `params["sign"]` is the signature of `params` (and `body`) by their
    `sign_method` (md5 when absent, as the gateway defaults)."""
    given = params.get("sign")
    if not given:
        raise BadSignature("TOP request carries no sign")
    expected = sign_params(params, secret, params.get("sign_method") or "md5", body=body)
    if not sign_matches(given, expected):
        raise BadSignature("TOP sign does not match")

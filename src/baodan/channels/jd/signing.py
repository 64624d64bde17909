"""京东 JOS request signature: upper MD5 over the sorted system parameters (business parameters travel inside
`360buy_param_json`) wrapped in the app secret."""

from __future__ import annotations

from collections.abc import Mapping

from baodan.channels._common import sign_matches, wrapped_md5
from baodan.channels.base import BadSignature


def sign_params(params: Mapping[str, str], secret: str) -> str:
    """upper(md5_hex(secret + k1v1k2v2… + secret)) over every parameter but `sign`, sorted by key."""
    return wrapped_md5(params, secret)


def check_sign(params: Mapping[str, str], secret: str) -> None:
    if not sign_matches(params.get("sign"), sign_params(params, secret)):
        raise BadSignature("JOS sign does not match")

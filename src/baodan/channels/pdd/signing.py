"""拼多多 signatures: the API sign (upper MD5 over sorted parameters wrapped in the client secret) and the PMC
message-service sign (base64 of lower MD5 hex), also used for the HTTP relay of PMC frames."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping

from baodan.channels._common import sign_matches, wrapped_md5
from baodan.channels.base import BadSignature


def sign_params(params: Mapping[str, str], secret: str, *, keep_empty: bool = True) -> str:
    """upper(md5_hex(secret + k1v1k2v2… + secret)) over every parameter but `sign`, sorted by key."""
    return wrapped_md5(params, secret, keep_empty=keep_empty)


def check_sign(params: Mapping[str, str], secret: str) -> None:
    """Raise BadSignature unless `params["sign"]` signs `params`. Whether empty values are signed is open
    (the node SDK signs them, a PHP SDK leaves them out), so either reading is accepted."""
    if not params.get("sign"):
        raise BadSignature("PDD request carries no sign")
    if not sign_matches(params["sign"], *(sign_params(params, secret, keep_empty=k) for k in (True, False))):
        raise BadSignature("PDD sign does not match")


def message_sign(client_id: str, timestamp_ms: str, secret: str, *, body: bytes = b"") -> str:
    """base64(md5_hex(client_id + timestamp_ms + body + secret)). With no body it is the PMC websocket path sign
    (`/message/{client_id}/{timestamp_ms}/{urlencode(sign)}`); BaoDan's relay puts the frame in `body`."""
    digest = hashlib.md5(client_id.encode() + timestamp_ms.encode() + body + secret.encode()).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def check_message_sign(client_id: str, timestamp_ms: str, given: str, secret: str, *, body: bytes) -> None:
    if not sign_matches(given, message_sign(client_id, timestamp_ms, secret, body=body), hex_digest=False):
        raise BadSignature("PMC relay sign does not match")

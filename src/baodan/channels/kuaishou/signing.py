"""快手电商 signatures and push crypto: the request sign over the system parameters (HMAC-SHA256 → Base64, or
MD5 → hex, keyed by the app's signSecret) and the AES-CBC message body (zero IV, PKCS#7)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from baodan.channels._common import compact_json

SIGN_METHODS = ("HMAC_SHA256", "MD5")
_ZERO_IV = bytes(16)


def param_string(params: dict[str, Any]) -> str:
    """Business parameters as the SDKs send them: top-level keys sorted, compact, non-ASCII as is."""
    return compact_json(dict(sorted(params.items())))


def string_to_sign(*, access_token: str, app_key: str, method: str, param: str, sign_method: str, timestamp: str,
                   version: str, sign_secret: str) -> str:
    # the system parameters in alphabetical order, then the secret
    return (f"access_token={access_token}&appkey={app_key}&method={method}&param={param}"
            f"&signMethod={sign_method}&timestamp={timestamp}&version={version}&signSecret={sign_secret}")


def request_sign(*, sign_secret: str, sign_method: str = "HMAC_SHA256", **system: str) -> str:
    """`HMAC_SHA256`: Base64(HMAC-SHA256(signSecret, string)); `MD5`: lowercase hex MD5(string)."""
    message = string_to_sign(sign_secret=sign_secret, sign_method=sign_method, **system).encode()
    if sign_method == "HMAC_SHA256":
        return base64.b64encode(hmac.new(sign_secret.encode(), message, hashlib.sha256).digest()).decode()
    if sign_method == "MD5":
        return hashlib.md5(message).hexdigest()
    raise ValueError(f"unknown kuaishou signMethod {sign_method!r}")


def md5_sign_secret_appended(*, sign_secret: str, **system: str) -> str:
    """The other MD5 reading (one Go SDK): the sorted parameters with the secret appended bare."""
    message = string_to_sign(sign_secret="", sign_method="MD5", **system).removesuffix("&signSecret=") + sign_secret
    return hashlib.md5(message.encode()).hexdigest()


def decrypt_message(body: bytes, message_secret: str) -> bytes:
    """A push body (Base64 ciphertext) to its plaintext; ValueError when it does not open."""
    try:
        key = base64.b64decode(message_secret, validate=True)
        data = base64.b64decode(body.strip(), validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(_ZERO_IV)).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"kuaishou push body does not decrypt: {exc}") from None


def encrypt_message(plaintext: bytes, message_secret: str) -> bytes:
    """The push body the platform sends for a plaintext message."""
    key = base64.b64decode(message_secret)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(_ZERO_IV)).encryptor()
    data = encryptor.update(padder.update(plaintext) + padder.finalize()) + encryptor.finalize()
    return base64.b64encode(data)

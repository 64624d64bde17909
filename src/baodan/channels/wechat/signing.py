"""微信小店 push crypto (the standard WeChat message scheme): SHA1 signatures over the sorted Token, timestamp,
nonce (and ciphertext), and AES-256-CBC with the EncodingAESKey (IV = first 16 key bytes, PKCS#7 to 32 bytes,
plaintext = 16 random bytes + 4-byte big-endian length + message + appid). API calls carry no signature."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_BLOCK = 32  # WeChat pads to 32 bytes, not the AES block size


def signature(token: str, timestamp: str, nonce: str, *more: str) -> str:
    """`signature` (Token, timestamp, nonce) or `msg_signature` (+ Encrypt): SHA1 hex of the sorted join."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce, *more))).encode()).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:
        raise ValueError("an EncodingAESKey is 43 characters (32 bytes)")
    return key


def decrypt(encrypted: str, encoding_aes_key: str) -> tuple[bytes, str]:
    """The message and the appid it was encrypted for; ValueError when it does not open."""
    key = aes_key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypted, validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"wechat message does not decrypt: {exc}") from None
    pad = plain[-1] if plain else 0
    if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad or len(plain) < 20 + pad:
        raise ValueError("wechat message padding is wrong")
    content = plain[16:-pad]
    (length,) = struct.unpack(">I", content[:4])
    if length > len(content) - 4:
        raise ValueError("wechat message length is wrong")
    try:
        appid = content[4 + length:].decode()
    except UnicodeDecodeError:
        raise ValueError("wechat message appid is not text") from None
    return content[4:4 + length], appid


def encrypt(message: bytes, encoding_aes_key: str, appid: str, random16: bytes) -> str:
    """Base64 ciphertext of a message for an appid; `random16` is the 16-byte prefix (random in WeChat)."""
    if len(random16) != 16:
        raise ValueError("the random prefix is 16 bytes")
    key = aes_key(encoding_aes_key)
    plain = random16 + struct.pack(">I", len(message)) + message + appid.encode()
    pad = _BLOCK - len(plain) % _BLOCK
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()).decode()

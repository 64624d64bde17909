"""Buyers' personal data (name, phone, address): sealed at intake, masked for display, revealed only
with an audit record.

- **Sealing**: AES-256-GCM; the token names the key that sealed it (`v1.<key id>.<base64url(nonce|ct)>`,
  the key id is also the associated data), so keys can be rotated: new data is sealed with the current
  key, `baodan pii rotate` re-seals old rows in batches while the system runs, and an old key can be
  retired once nothing names it. Sealing happens at intake, so plaintext PII is never at rest: not in the
  inbox, not in orders, not in backups.
- **Blind index**: keyed BLAKE2b (a MAC) of the normalised phone number under a separate key, so an operator can
  find an order by the buyer's phone (exact match) without decrypting anything.
- **Masking**: what every API answer shows: 张*, 138****5678, 文三路****. The region (province, city,
  district, town) stays in clear: routing and reports by province need it and it identifies no one.

Keys come from settings (`BAODAN_PII_KEYS="k1:<base64 32 bytes>,k2:…"`, `BAODAN_PII_CURRENT_KEY`,
`BAODAN_PII_INDEX_KEY`). Without them, the embedded default keeps generated keys in
`<data dir>/keys.json` (mode 0600), created on first use; production sets the variables instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from baodan.core.errors import BaoDanError

SEALED_FIELDS = ("name", "phone", "address")
REGION_FIELDS = ("province", "city", "district", "town")
_VERSION = "v1"
_NON_DIGITS = re.compile(r"\D")
_VIRTUAL = re.compile(r"^(.*\d{11})\s*[-转#]\s*(\d{1,6})$")  # 13812345678-1234: a platform's virtual number


class PiiError(BaoDanError):
    code = "pii.error"
    status = 500


class UnknownKey(PiiError):
    code = "pii.unknown_key"


class Unreadable(PiiError):
    code = "pii.unreadable"


@dataclass(frozen=True)
class SealedReceiver:
    """What intake keeps of a receiver: region in clear plus masked fields, the sealed token and the
    phone's blind index."""

    public: dict[str, Any]
    sealed: str
    phone_index: int | None


class PiiCipher:
    def __init__(self, keys: dict[str, bytes], current: str, index_key: bytes) -> None:
        if current not in keys:
            raise UnknownKey(f"the current PII key {current!r} is not among the configured keys")
        for key_id, key in keys.items():
            if len(key) != 32 or not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", key_id):
                raise PiiError(f"PII key {key_id!r} must be 32 bytes with an id of letters, digits, _ or -",
                               code="pii.bad_key")
        if not 32 <= len(index_key) <= 64:
            raise PiiError("the PII index key must be 32 to 64 bytes", code="pii.bad_key")
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = current
        self._index_key = index_key

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._aead)

    # ----------------------------------------------------------------------------------- seal / open

    def seal(self, fields: dict[str, Any]) -> str:
        nonce = secrets.token_bytes(12)
        aad = self.current.encode()
        ct = self._aead[self.current].encrypt(nonce, orjson.dumps(fields), aad)
        return f"{_VERSION}.{self.current}.{base64.urlsafe_b64encode(nonce + ct).decode()}"

    def open(self, token: str) -> dict[str, Any]:
        try:
            version, key_id, body = token.split(".", 2)
        except ValueError:
            raise Unreadable("not a sealed PII token") from None
        if version != _VERSION:
            raise Unreadable(f"unknown sealed PII version {version!r}")
        aead = self._aead.get(key_id)
        if aead is None:
            raise UnknownKey(f"PII sealed with key {key_id!r}, which is not configured")
        raw = base64.urlsafe_b64decode(body)
        try:
            return orjson.loads(aead.decrypt(raw[:12], raw[12:], key_id.encode()))
        except InvalidTag:
            raise Unreadable("sealed PII failed authentication (altered, or a different key)") from None

    @staticmethod
    def key_of(token: str) -> str:
        return token.split(".", 2)[1]

    def reseal(self, token: str) -> str:
        """The same fields sealed with the current key (unchanged if it already is)."""
        return token if self.key_of(token) == self.current else self.seal(self.open(token))

    def phone_index(self, phone: str | None) -> int | None:
        """64 bits of keyed BLAKE2b (a MAC: a PRF under the key, one C call) of the normalised number, as a
        signed integer: an integer index is a third the size of a hex one and cheaper to insert into at
        surge rates. Two phones sharing an index among millions of orders is a 1-in-10^7 event that at
        worst adds an order to a search result."""
        digits = normalise_phone(phone)
        if not digits:
            return None
        digest = hashlib.blake2b(digits.encode(), key=self._index_key, digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    # -------------------------------------------------------------------------------------- receiver

    def seal_receiver(self, receiver: dict[str, Any] | None) -> SealedReceiver | None:
        if receiver is None:
            return None
        public = mask_receiver(receiver)
        fields = {k: receiver.get(k) for k in SEALED_FIELDS}
        if receiver.get("platform_cipher"):
            fields["platform_cipher"] = receiver["platform_cipher"]
        sealed = self.seal(fields)
        return SealedReceiver(public, sealed, self.phone_index(receiver.get("phone")))

    # ------------------------------------------------------------------------------------------ keys

    @classmethod
    def from_settings(cls, settings: Any) -> PiiCipher:
        keys_env = settings.pii_keys.get_secret_value() if settings.pii_keys else ""
        if keys_env:
            keys = {}
            for item in keys_env.split(","):
                key_id, _, b64 = item.strip().partition(":")
                keys[key_id] = _b64(b64, f"BAODAN_PII_KEYS entry {key_id!r}")
            current = settings.pii_current_key or next(iter(keys))
            index_env = settings.pii_index_key.get_secret_value() if settings.pii_index_key else ""
            if not index_env:
                raise PiiError("BAODAN_PII_KEYS is set but BAODAN_PII_INDEX_KEY is not", code="pii.bad_key")
            return cls(keys, current, _b64(index_env, "BAODAN_PII_INDEX_KEY"))
        stored = load_key_file(Path(settings.data_dir) / "keys.json")
        return cls({k: _b64(v, f"keys.json key {k!r}") for k, v in stored["keys"].items()}, stored["current"],
                   _b64(stored["index_key"], "keys.json index_key"))


def load_key_file(path: Path, *, create: bool = True) -> dict[str, Any]:
    """The embedded default's key file; created (0600, never overwritten) on first use."""
    if not path.exists():
        if not create:
            raise PiiError(f"no PII key file at {path}", code="pii.no_keys")
        path.parent.mkdir(parents=True, exist_ok=True)
        content = {"current": "k1", "keys": {"k1": _new_key()}, "index_key": _new_key()}
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as f:
                json.dump(content, f, indent=2)
                f.flush()
                os.fsync(f.fileno())
    try:
        data = json.loads(path.read_text())
        assert isinstance(data["keys"], dict) and data["current"] in data["keys"] and data["index_key"]
    except (OSError, ValueError, KeyError, AssertionError) as exc:
        raise PiiError(f"the PII key file {path} is unreadable: {exc}", code="pii.bad_key_file") from exc
    return data


def add_key_to_file(path: Path) -> str:
    """Generate a new key, make it current (old keys stay, to open what they sealed); returns its id."""
    data = load_key_file(path, create=False)
    n = 1 + max((int(k[1:]) for k in data["keys"] if re.fullmatch(r"k\d+", k)), default=0)
    key_id = f"k{n}"
    data["keys"][key_id] = _new_key()
    data["current"] = key_id
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    return key_id


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except ValueError:
        raise PiiError(f"{what} is not valid base64", code="pii.bad_key") from None


# ------------------------------------------------------------------------------------------- masking


def normalise_phone(phone: str | None) -> str:
    if phone is not None and len(phone) == 11 and phone.isdigit():  # the usual mobile number: no regex
        return phone
    digits = _NON_DIGITS.sub("", phone or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def mask_receiver(receiver: dict[str, Any]) -> dict[str, Any]:
    """What may be shown of a receiver: the region as given, name, phone and address masked; nothing else
    (never `platform_cipher`)."""
    public: dict[str, Any] = {k: receiver.get(k) for k in REGION_FIELDS if receiver.get(k) is not None}
    public["name"] = mask_name(receiver.get("name"))
    public["phone"] = mask_phone(receiver.get("phone"))
    public["address"] = mask_address(receiver.get("address"))
    return public


def mask_phone(phone: str | None) -> str | None:
    """138****5678. Platform-virtual numbers keep their extension masked too (138****5678-****)."""
    if not phone:
        return phone
    if len(phone) == 11 and phone.isdigit():  # the usual mobile number: no regex
        return f"{phone[:3]}****{phone[7:]}"
    virtual = _VIRTUAL.match(phone)
    main, ext = (virtual.group(1), virtual.group(2)) if virtual else (phone, "")
    digits = normalise_phone(main)
    masked = f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "*" * (len(digits) or 4)
    return masked + (f"-{'*' * len(ext)}" if ext else "")


def mask_name(name: str | None) -> str | None:
    """张*, 欧阳**: the first character, then one star per further character."""
    if not name:
        return name
    name = name.strip()
    return name[:1] + "*" * max(1, len(name) - 1)


def mask_address(address: str | None) -> str | None:
    """The first few characters (usually the road), the rest starred: 文三路****."""
    if not address:
        return address
    address = address.strip()
    keep = min(6, len(address) // 3)
    return address[:keep] + "****"


# ------------------------------------------------------------------------------------------ rotation


def rotate_orders(db: Any, cipher: PiiCipher, *, batch_size: int = 1000, progress: Any = None) -> int:
    """Re-seal every order's PII that an older key sealed, `batch_size` rows per transaction, while the
    system runs. Each row is updated only if it still holds the token that was read (a newer event the
    worker wrote meanwhile is sealed with the current key already and is left alone). Returns rows
    re-sealed; run it again until it returns 0, then the old key can be retired."""
    from baodan.core.db import executemany, fetchall

    done, after = 0, 0
    prefix = f"{_VERSION}.{cipher.current}.%"
    while True:
        with db.write() as session:
            rows = fetchall(session, "SELECT id, receiver_sealed FROM sales_order WHERE id > ? AND receiver_sealed "
                                     "IS NOT NULL AND receiver_sealed NOT LIKE ? ORDER BY id LIMIT ?",
                            (after, prefix, batch_size))
            if not rows:
                return done
            done += executemany(session, "UPDATE sales_order SET receiver_sealed = ? WHERE id = ? "
                                         "AND receiver_sealed = ?",
                                [(cipher.reseal(token), order_id, token) for order_id, token in rows])
            after = rows[-1][0]
        if progress is not None:
            progress(done)


# Sealed values besides the orders' receivers, (table, key column, sealed column): a few rows each.
SEALED_SECRETS = (("app_user", "id", "totp_secret"), ("shop_credential", "shop_id", "secrets_sealed"),
                  ("carrier_account", "id", "secrets_sealed"))


def rotate_secrets(db: Any, cipher: PiiCipher) -> int:
    """Re-seal TOTP secrets, shop credentials and carrier accounts that an older key sealed (one transaction:
    they are few)."""
    from baodan.core.db import executemany, fetchall

    done = 0
    with db.write() as session:
        for table, key, column in SEALED_SECRETS:
            rows = fetchall(session, f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL "
                                     f"AND {column} NOT LIKE ?", (f"{_VERSION}.{cipher.current}.%",))
            done += executemany(session, f"UPDATE {table} SET {column} = ? WHERE {key} = ? AND {column} = ?",
                                [(cipher.reseal(token), row_key, token) for row_key, token in rows])
    return done


def sealed_by_key(db: Any) -> dict[str, int]:
    """How many orders each key sealed (what `baodan pii status` shows)."""
    from baodan.core.db import fetchall

    key_id = ("substr(receiver_sealed, 4, instr(substr(receiver_sealed, 4), '.') - 1)" if db.is_sqlite
              else "split_part(receiver_sealed, '.', 2)")
    with db.read() as session:
        return dict(fetchall(session, f"SELECT {key_id}, count(*) FROM sales_order WHERE receiver_sealed IS NOT NULL "
                                      f"GROUP BY {key_id}"))

"""Sealing, blind index and masking of buyers' personal data."""

import base64
import os
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baodan.core.config import Settings
from baodan.identity.pii import (
    PiiCipher,
    PiiError,
    UnknownKey,
    Unreadable,
    add_key_to_file,
    mask_address,
    mask_name,
    mask_phone,
)

RECEIVER = {"name": "张三丰", "phone": "13812345678", "province": "浙江省", "city": "杭州市", "district": "西湖区",
            "address": "文三路 188 号 3 幢 1201 室"}


def _cipher(current: str = "k1", **extra: bytes) -> PiiCipher:
    keys = {"k1": b"\x01" * 32, **extra}
    return PiiCipher(keys, current, b"\x02" * 32)


@pytest.mark.parametrize(("given_", "masked"), [("13812345678", "138****5678"),
                                                ("+86 138-1234-5678", "138****5678"),
                                                ("13812345678-1234", "138****5678-****"), ("12345", "*****"),
                                                ("", ""), (None, None)])
def test_phones_are_masked_to_the_first_three_and_last_four_digits(given_, masked) -> None:
    assert mask_phone(given_) == masked


@pytest.mark.parametrize(("given_", "masked"), [("张三", "张*"), ("张三丰", "张**"), ("欧阳娜娜", "欧***"),
                                                ("李", "李*"), (None, None)])
def test_names_keep_their_first_character(given_, masked) -> None:
    assert mask_name(given_) == masked


def test_addresses_keep_only_their_start() -> None:
    assert mask_address("文三路 188 号 3 幢 1201 室") == "文三路 18****"
    assert "1201" not in mask_address(RECEIVER["address"])


@given(st.dictionaries(st.sampled_from(["name", "phone", "address"]), st.text(max_size=80)))
def test_what_is_sealed_opens_to_the_same_fields(fields) -> None:
    cipher = _cipher()
    token = cipher.seal(fields)
    assert cipher.open(token) == fields
    for value in fields.values():
        if len(value) >= 4:
            assert value not in token


def test_an_altered_token_is_refused() -> None:
    cipher = _cipher()
    token = cipher.seal({"phone": "13812345678"})
    version, key_id, body = token.split(".", 2)
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(Unreadable):
        cipher.open(f"{version}.{key_id}.{base64.urlsafe_b64encode(bytes(raw)).decode()}")
    with pytest.raises(Unreadable):
        cipher.open("not a token")


def test_rotation_reseals_with_the_current_key_and_the_old_key_is_still_needed_until_then() -> None:
    old = _cipher()
    token = old.seal({"name": "张三"})
    both = _cipher(current="k2", k2=b"\x03" * 32)
    fresh = both.reseal(token)
    assert PiiCipher.key_of(token) == "k1" and PiiCipher.key_of(fresh) == "k2"
    assert both.open(fresh) == {"name": "张三"}
    assert both.reseal(fresh) == fresh
    with pytest.raises(UnknownKey):
        PiiCipher({"k2": b"\x03" * 32}, "k2", b"\x02" * 32).open(token)


def test_the_phone_index_matches_however_the_number_is_written_and_reveals_nothing() -> None:
    cipher = _cipher()
    index = cipher.phone_index("13812345678")
    assert index == cipher.phone_index("+86 138 1234 5678") == cipher.phone_index("138-1234-5678")
    assert index != cipher.phone_index("13812345679")
    assert isinstance(index, int) and "5678" not in str(index) and -(2**63) <= index < 2**63
    assert PiiCipher({"k1": b"\x01" * 32}, "k1", b"\x09" * 32).phone_index("13812345678") != index
    assert cipher.phone_index("") is None and cipher.phone_index(None) is None


def test_a_receiver_is_kept_as_region_plus_masked_fields_plus_a_sealed_token() -> None:
    cipher = _cipher()
    sealed = cipher.seal_receiver(RECEIVER)
    assert sealed is not None
    assert sealed.public == {"province": "浙江省", "city": "杭州市", "district": "西湖区", "name": "张**",
                             "phone": "138****5678", "address": mask_address(RECEIVER["address"])}
    assert cipher.open(sealed.sealed) == {"name": "张三丰", "phone": "13812345678", "address": RECEIVER["address"]}
    assert sealed.phone_index == cipher.phone_index("13812345678")
    assert cipher.seal_receiver(None) is None


def test_the_embedded_key_file_is_created_once_private_and_reused(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = PiiCipher.from_settings(settings)
    path = tmp_path / "keys.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    token = first.seal({"name": "张三"})
    assert PiiCipher.from_settings(settings).open(token) == {"name": "张三"}
    assert add_key_to_file(path) == "k2"
    rotated = PiiCipher.from_settings(settings)
    assert rotated.current == "k2" and rotated.open(token) == {"name": "张三"}


def test_keys_from_the_environment_win_over_the_file(tmp_path) -> None:
    key = base64.b64encode(b"\x05" * 32).decode()
    settings = Settings(data_dir=tmp_path, pii_keys=f"prod1:{key}", pii_index_key=key)
    cipher = PiiCipher.from_settings(settings)
    assert cipher.current == "prod1" and not (tmp_path / "keys.json").exists()
    assert "prod1" not in repr(settings) or key not in repr(settings)
    assert key not in repr(settings)


@pytest.mark.parametrize("bad", [{"pii_keys": "k1:not-base64!"}, {"pii_keys": "k1:" + base64.b64encode(b"x").decode()},
                                 {"pii_keys": "k1:" + base64.b64encode(b"\x05" * 32).decode()}])
def test_bad_key_settings_are_refused_with_a_clear_error(tmp_path, bad) -> None:
    with pytest.raises(PiiError):
        PiiCipher.from_settings(Settings(data_dir=tmp_path, **bad))

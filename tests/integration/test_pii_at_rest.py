"""Buyers' name, phone and address are never at rest in clear: not in the inbox, not in orders or their
history; answers show them masked; the phone is searchable through its blind index."""

import sqlite3
from contextlib import closing

from baodan.core.db import fetchall, read_json
from tests.helpers import API, drain, make_catalog, order, submit

PHONE, NAME, ADDRESS = "13800138000", "张三", "文三路 1 号"  # what tests.helpers.order sends


def _everything_stored(db) -> str:
    """Every text the database holds for orders, their history and the inbox, as one string."""
    chunks = []
    with db.read() as s:
        for table in ("sales_order", "order_line", "order_event"):
            for row in fetchall(s, f"SELECT * FROM {table}"):
                chunks += [str(v) for v in row]
        if not db.is_sqlite:
            chunks += [bytes(r[0]).decode() for r in fetchall(s, "SELECT payload FROM inbox_event")]
    if db.is_sqlite:
        with closing(sqlite3.connect(db.inbox_path)) as conn:
            chunks += [bytes(r[0]).decode() for r in conn.execute("SELECT payload FROM inbox_event")]
    return "\n".join(chunks)


def test_pii_is_sealed_from_intake_on_and_opens_to_what_was_sent(runtime, db) -> None:
    make_catalog(db, skus={"A": 5})
    submit(runtime, order("o1", [("A", 1)]))
    drain(runtime)
    stored = _everything_stored(db)
    for secret in (PHONE, NAME, ADDRESS, "0013800"):
        assert secret not in stored
    with db.read() as s:
        ((receiver, sealed, index),) = fetchall(s, "SELECT receiver, receiver_sealed, phone_index FROM sales_order")
    assert read_json(receiver) == {"province": "浙江省", "city": "杭州市", "district": "西湖区", "name": "张*",
                                   "phone": "138****8000", "address": "文三****"}
    assert runtime.pii.open(sealed) == {"name": NAME, "phone": PHONE, "address": ADDRESS}
    assert index == runtime.pii.phone_index(PHONE)


def test_a_later_event_with_a_new_address_reseals_it(runtime, db) -> None:
    make_catalog(db, skus={"A": 5})
    submit(runtime, order("o1", [("A", 1)]))
    drain(runtime)
    moved = order("o1", [("A", 1)], updated_offset_s=60)
    moved["receiver"] = {**moved["receiver"], "phone": "13900139000", "address": "莫干山路 8 号"}
    submit(runtime, moved)
    drain(runtime)
    with db.read() as s:
        ((sealed, index),) = fetchall(s, "SELECT receiver_sealed, phone_index FROM sales_order")
    assert runtime.pii.open(sealed)["address"] == "莫干山路 8 号"
    assert index == runtime.pii.phone_index("13900139000")


def test_answers_are_masked_and_a_phone_finds_its_orders_through_the_blind_index(client, runtime, db) -> None:
    make_catalog(db, skus={"A": 5})
    other = order("o2", [("A", 1)])
    other["receiver"] = {**other["receiver"], "phone": "13900139000"}
    submit(runtime, order("o1", [("A", 1)]), other)
    drain(runtime)
    found = client.get(f"{API}/orders", params={"buyer_phone": "+86 138-0013-8000"}).json()["items"]
    assert [o["platform_order_id"] for o in found] == ["o1"]
    assert found[0]["receiver"]["phone"] == "138****8000"
    detail = client.get(f"{API}/orders/{found[0]['id']}")
    assert detail.status_code == 200
    for secret in (PHONE, NAME, ADDRESS, "receiver_sealed", "phone_index", "v1.k1."):
        assert secret not in detail.text
    listed = client.get(f"{API}/orders").text
    assert PHONE not in listed and "v1.k1." not in listed
    assert client.get(f"{API}/orders", params={"buyer_phone": "13700000000"}).json()["items"] == []
    bad = client.get(f"{API}/orders", params={"buyer_phone": "no digits"})
    assert bad.status_code == 422 and bad.json()["code"] == "request.invalid"


def test_key_rotation_reseals_every_order_in_batches_and_nothing_changes_for_readers(runtime, db) -> None:
    from baodan.identity.pii import PiiCipher, add_key_to_file, rotate_orders, sealed_by_key

    make_catalog(db, skus={"A": 50})
    submit(runtime, *[order(f"o{i}", [("A", 1)], paid_offset_s=i) for i in range(7)])
    drain(runtime)
    assert sealed_by_key(db) == {"k1": 7}
    assert add_key_to_file(runtime.settings.data_dir / "keys.json") == "k2"  # what `baodan pii new-key` does
    new = PiiCipher.from_settings(runtime.settings)
    batches = []
    assert rotate_orders(db, new, batch_size=3, progress=batches.append) == 7
    assert batches == [3, 6, 7]
    assert sealed_by_key(db) == {"k2": 7}
    assert rotate_orders(db, new, batch_size=3) == 0
    with db.read() as s:
        for (token,) in fetchall(s, "SELECT receiver_sealed FROM sales_order"):
            assert new.open(token) == {"name": NAME, "phone": PHONE, "address": ADDRESS}


def test_platform_ciphertext_is_sealed_with_the_rest_and_never_shown(runtime, db, client) -> None:
    make_catalog(db, skus={"A": 5})
    cipher = {"name": "#Zm9vYmFy#CIPHER-NAME#", "phone": "$$CIPHER-PHONE-13800138000$$", "address": "~CIPHER-ADDR~"}
    masked = {"name": "张*", "phone": "138****8000", "province": "浙江省", "city": "杭州市", "address": "文三路****",
              "platform_cipher": cipher}
    submit(runtime, order("c1", [("A", 1)], receiver=masked))
    drain(runtime)
    assert "CIPHER" not in _everything_stored(db)
    assert "CIPHER" not in client.get(f"{API}/orders").text
    with db.read() as s:
        ((sealed,),) = fetchall(s, "SELECT receiver_sealed FROM sales_order")
    assert runtime.pii.open(sealed)["platform_cipher"] == cipher
    order_id = client.get(f"{API}/orders").json()["items"][0]["id"]
    assert "CIPHER" not in client.post(f"{API}/orders/{order_id}/reveal").text  # reveal shows the fields, not this

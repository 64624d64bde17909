"""Contract tests of the 拼多多 e-waybill adapter (pdd.waybill.get / .cancel through PDD's router) against answers
in the node SDK's shapes."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qsl

import pytest

from baodan.channels.base import Call, Credentials, PlatformError
from baodan.waybills.base import IssuedWaybill
from baodan.waybills.cloudprint import REQUEST_PARAM
from baodan.waybills.pdd import ADAPTER, APPLY_METHOD, CANCEL_METHOD
from tests.waybills import _support
from tests.waybills._support import NOW, account, answered, fixture_bytes, parcel, served

CREDS = Credentials(app_key="4bd3c5f0a1b2c3d4e5f60718293a4b5c", app_secret="pdd-test-client-secret",
                    access_token="pdd-shop-token", extra={"user_id": "100200300"})
ACCOUNT = account("pdd", CREDS)
CIPHER = {"name": "~AgAAAAHn5rYB~", "phone": "$2a8BQT2nCw==$", "address": "~AgAAAAHn5rZD~"}


def test_adapter_has_every_member_of_the_contract_with_the_same_parameters():
    _support.assert_conforms(ADAPTER, "pdd")


def test_an_apply_call_is_a_pdd_router_call_signed_with_the_pdd_recipe():
    request = ADAPTER.sign(CREDS, ADAPTER.apply_call(ACCOUNT, [parcel()]), base_url="https://gw-api.pinduoduo.com",
                           now=NOW)
    assert request.url == "https://gw-api.pinduoduo.com/api/router"
    form = dict(parse_qsl(request.body.decode()))
    assert (form["type"], form["client_id"], form["access_token"]) == (APPLY_METHOD, CREDS.app_key, "pdd-shop-token")
    joined = "".join(k + v for k, v in sorted(form.items()) if k != "sign")
    expected = hashlib.md5(f"pdd-test-client-secret{joined}pdd-test-client-secret".encode()).hexdigest().upper()
    assert form["sign"] == expected
    request_json = json.loads(form[REQUEST_PARAM])
    assert request_json["wp_code"] == "ZTO" and request_json["trade_order_info_dtos"][0]["user_id"] == "100200300"


def test_a_pdd_receiver_held_masked_goes_by_its_ciphertexts():
    call = ADAPTER.apply_call(ACCOUNT, [parcel(cipher=CIPHER, masked_receiver=True, channel="pdd")])
    request = call.params[REQUEST_PARAM]
    recipient = request["trade_order_info_dtos"][0]["recipient"]
    assert (recipient["name"], recipient["mobile"], recipient["address"]["detail"]) == (
        CIPHER["name"], CIPHER["phone"], CIPHER["address"])
    assert recipient["address"]["province"] == "浙江省" and request["need_encrypt"] is True


def test_another_platforms_or_an_incomplete_ciphertext_is_refused_before_any_call():
    with pytest.raises(ValueError, match="its own"):
        ADAPTER.apply_call(ACCOUNT, [parcel(cipher=CIPHER, masked_receiver=True, channel="douyin")])
    with pytest.raises(ValueError, match="its own"):
        ADAPTER.apply_call(ACCOUNT, [parcel(cipher={"name": "~x~"}, masked_receiver=True, channel="pdd")])


def test_the_sdk_shaped_answers_are_read():
    call = Call(APPLY_METHOD, {})
    (got,) = ADAPTER.parse_apply(ADAPTER.read_response(call, 200, fixture_bytes("pdd", "apply_answer.json")))
    assert (got.object_id, got.waybill_no, got.sort_code, got.package_center_code) == (
        "BD2001", "784561237890", "579-义乌", "579001")
    assert got.parent_waybill_no is None
    cancel = ADAPTER.cancel_call(ACCOUNT, waybill_no="784561237890", object_id="BD2001")
    assert cancel == Call(CANCEL_METHOD, {"wp_code": "ZTO", "waybill_code": "784561237890"})
    ADAPTER.parse_cancel(ADAPTER.read_response(cancel, 200, fixture_bytes("pdd", "cancel_answer.json")))
    with pytest.raises(PlatformError) as busy:
        ADAPTER.read_response(call, 200, fixture_bytes("pdd", "error_busy.json"))
    assert busy.value.retryable and busy.value.platform_code == "52102"


def test_the_server_side_reads_back_and_answers_what_the_client_parses():
    call = ADAPTER.apply_call(ACCOUNT, [parcel("BD1"), parcel("BD2", cipher=CIPHER, masked_receiver=True,
                                                              channel="pdd")])
    got = served(ADAPTER, CREDS, call)
    assert (got.kind, got.courier, [p.object_id for p in got.parcels]) == ("apply", "ZTO", ["BD1", "BD2"])
    assert got.parcels[1].receiver.name == CIPHER["name"] and got.parcels[1].channel == "pdd"
    issued = [IssuedWaybill("BD1", "784500000001"), IssuedWaybill("BD2", "784500000002")]
    assert [w.waybill_no for w in answered(ADAPTER, call, got, issued)] == ["784500000001", "784500000002"]
    cancel = served(ADAPTER, CREDS, ADAPTER.cancel_call(ACCOUNT, waybill_no="7845", object_id="BD1"))
    assert (cancel.kind, cancel.courier, cancel.waybill_no) == ("cancel", "ZTO", "7845")
    assert json.loads(ADAPTER.envelope(Call(CANCEL_METHOD, {}), ADAPTER.cancel_data())) == {
        "pdd_waybill_cancel_response": {"cancel_result": True}}

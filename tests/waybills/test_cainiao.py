"""Contract tests of the 菜鸟 e-waybill adapter (cainiao.waybill.ii.get / .cancel through TOP) against answers in
the documented shapes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest

from baodan.channels.base import BadSignature, Call, Credentials, PlatformError
from baodan.channels.taobao.signing import sign_params
from baodan.waybills.base import IssuedWaybill
from baodan.waybills.cainiao import ADAPTER, APPLY_METHOD, CANCEL_METHOD, REQUEST_PARAM
from tests.channels._support import as_incoming, changed
from tests.waybills import _support
from tests.waybills._support import NOW, account, answered, fixture, fixture_bytes, parcel, served

CREDS = Credentials(app_key="23456789", app_secret="cn-test-secret", access_token="6100a1b2c3d4session",
                    extra={"user_id": "2200123456789"})
ACCOUNT = account("cainiao", CREDS)


def test_adapter_has_every_member_of_the_contract_with_the_same_parameters():
    _support.assert_conforms(ADAPTER, "cainiao")
    assert ADAPTER.max_per_call == 10


def test_an_apply_call_is_a_top_call_signed_with_the_top_recipe_and_the_sellers_session():
    call = ADAPTER.apply_call(ACCOUNT, [parcel()])
    request = ADAPTER.sign(CREDS, call, base_url="https://eco.taobao.com", now=NOW)
    assert request.url == "https://eco.taobao.com/router/rest" and request.http_method == "POST"
    query, body = dict(request.query), dict(parse_qsl(request.body.decode()))
    assert (query["method"], query["session"], query["app_key"]) == (APPLY_METHOD, CREDS.access_token, "23456789")
    # TOP md5: upper(md5(secret + k1v1k2v2… over every parameter but sign, sorted + secret)), by hand
    params = {k: v for k, v in {**query, **body}.items() if k != "sign"}
    joined = "".join(k + v for k, v in sorted(params.items()))
    assert query["sign"] == hashlib.md5(f"cn-test-secret{joined}cn-test-secret".encode()).hexdigest().upper()
    assert query["sign"] == sign_params({**query, **body}, "cn-test-secret")


def test_an_apply_call_names_each_parcel_by_its_application_and_trade():
    call = ADAPTER.apply_call(ACCOUNT, [parcel("BD1"), parcel("BD2", trade="6900000000000002", channel="pdd")])
    request = call.params[REQUEST_PARAM]
    assert request["cp_code"] == "ZTO" and request["need_encrypt"] is False
    assert request["sender"] == {"name": "杭州仓", "mobile": "13900000000", "address": {
        "province": "浙江省", "city": "杭州市", "district": "余杭区", "town": "", "detail": "仓前街道 1 号"}}
    first, second = request["trade_order_info_dtos"]
    assert first["object_id"] == first["package_info"]["id"] == "BD1"
    assert first["order_info"] == {"order_channels_type": "DY", "trade_order_list": ["6900000000000001"]}
    assert second["order_info"]["order_channels_type"] == "PDD"
    assert first["package_info"]["items"] == [{"name": "保温杯 500ml", "count": 2}, {"name": "杯刷", "count": 1}]
    assert first["recipient"]["name"] == "张三" and first["user_id"] == 2200123456789
    assert "oaid" not in first["recipient"]


def test_a_taobao_receiver_held_masked_goes_by_its_oaid_and_trade_and_asks_for_encrypted_print_data():
    call = ADAPTER.apply_call(ACCOUNT, [parcel(cipher={"oaid": "1pRnVeKdHXLl3"}, masked_receiver=True, channel="taobao",
                                               trade="3310000000001")])
    request = call.params[REQUEST_PARAM]
    recipient = request["trade_order_info_dtos"][0]["recipient"]
    assert (recipient["oaid"], recipient["tid"], recipient["name"]) == ("1pRnVeKdHXLl3", "3310000000001", "张*")
    assert request["need_encrypt"] is True
    assert request["trade_order_info_dtos"][0]["order_info"]["order_channels_type"] == "TB"


def test_a_masked_receiver_without_an_oaid_is_refused_before_any_call():
    with pytest.raises(ValueError, match="masked"):
        ADAPTER.apply_call(ACCOUNT, [parcel(masked_receiver=True)])


def test_an_account_without_the_seller_id_or_with_too_many_parcels_is_refused():
    with pytest.raises(ValueError, match="user_id"):
        ADAPTER.apply_call(account("cainiao", replace(CREDS, extra={})), [parcel()])
    with pytest.raises(ValueError, match="1 to 10"):
        ADAPTER.apply_call(ACCOUNT, [parcel(f"BD{i}") for i in range(11)])


def test_the_accounts_platform_code_overrides_the_courier_code():
    call = ADAPTER.apply_call(account("cainiao", CREDS, carrier_code="JTSD", platform_code="HTKY"), [parcel()])
    assert call.params[REQUEST_PARAM]["cp_code"] == "HTKY"


def test_the_documented_answer_gives_numbers_routing_print_data_and_parents():
    call = Call(APPLY_METHOD, {})
    data = ADAPTER.read_response(call, 200, fixture_bytes("cainiao", "apply_answer.json"))
    first, second = ADAPTER.parse_apply(data)
    assert (first.object_id, first.waybill_no, first.sort_code) == ("BD1001", "780098765432", "830都江堰")
    assert (first.package_center_code, first.package_center_name) == ("280104", "成都转运中心")
    assert json.loads(first.print_data)["templateURL"].startswith("http://cloudprint.cainiao.com/")
    # encrypted print data: the label carries the routing, BaoDan reads none
    assert (second.waybill_no, second.sort_code, second.package_center_code) == ("780098765433", None, None)
    assert second.parent_waybill_no == "780098765400"


def test_an_answer_with_a_plain_module_list_is_read_too():
    doc = fixture("cainiao", "apply_answer.json")["cainiao_waybill_ii_get_response"]
    doc["modules"] = doc["modules"]["waybill_cloud_print_response"]
    assert [w.waybill_no for w in ADAPTER.parse_apply(doc)] == ["780098765432", "780098765433"]
    with pytest.raises(PlatformError, match="no modules"):
        ADAPTER.parse_apply({"request_id": "x"})


def test_errors_are_platform_errors_busy_ones_retryable():
    call = Call(APPLY_METHOD, {})
    with pytest.raises(PlatformError) as refused:
        ADAPTER.read_response(call, 200, fixture_bytes("cainiao", "error_no_balance.json"))
    assert refused.value.platform_code == "isv.WAYBILL_BALANCE_NOT_ENOUGH" and not refused.value.retryable
    with pytest.raises(PlatformError) as busy:
        ADAPTER.read_response(call, 200, fixture_bytes("cainiao", "error_busy.json"))
    assert busy.value.retryable


def test_a_cancel_names_the_courier_and_number_and_a_false_result_is_a_refusal():
    call = ADAPTER.cancel_call(ACCOUNT, waybill_no="780098765432", object_id="BD1001")
    assert call == Call(CANCEL_METHOD, {"cp_code": "ZTO", "waybill_code": "780098765432"})
    ADAPTER.parse_cancel(ADAPTER.read_response(call, 200, fixture_bytes("cainiao", "cancel_answer.json")))
    with pytest.raises(PlatformError, match="cancel_result false"):
        ADAPTER.parse_cancel(ADAPTER.read_response(call, 200, fixture_bytes("cainiao", "cancel_refused.json")))


def test_the_server_side_reads_back_what_the_client_sent():
    call = ADAPTER.apply_call(ACCOUNT, [parcel("BD1"), parcel("BD2", cipher={"oaid": "oa2"}, masked_receiver=True,
                                                              channel="taobao", trade="331")])
    got = served(ADAPTER, CREDS, call)
    assert got.kind == "apply" and got.courier == "ZTO" and got.details["need_encrypt"] is True
    assert [p.object_id for p in got.parcels] == ["BD1", "BD2"]
    assert got.parcels[0] == parcel("BD1")
    assert (got.parcels[1].receiver.cipher["oaid"], got.parcels[1].channel, got.parcels[1].platform_order_id) == (
        "oa2", "taobao", "331")
    assert got.sender == ACCOUNT.sender
    cancel = served(ADAPTER, CREDS, ADAPTER.cancel_call(ACCOUNT, waybill_no="7800", object_id="BD1"))
    assert (cancel.kind, cancel.courier, cancel.waybill_no) == ("cancel", "ZTO", "7800")


def test_the_server_side_answers_what_the_client_parses():
    call = ADAPTER.apply_call(ACCOUNT, [parcel("BD1")])
    issued = [IssuedWaybill("BD1", "780000000001", sort_code="浙-杭州 西湖", package_center_code="310000",
                            package_center_name="浙江转运中心")]
    (got,) = answered(ADAPTER, call, served(ADAPTER, CREDS, call), issued)
    assert (got.waybill_no, got.sort_code, got.package_center_code, got.package_center_name) == (
        "780000000001", "浙-杭州 西湖", "310000", "浙江转运中心")
    assert json.loads(got.print_data)["data"]["recipient"]["name"] == "张三"


def test_check_request_refuses_a_wrong_sign_a_wrong_session_and_a_stale_call():
    request = as_incoming(ADAPTER.sign(CREDS, ADAPTER.apply_call(ACCOUNT, [parcel()]), base_url="http://s", now=NOW))
    with pytest.raises(BadSignature, match="sign"):
        ADAPTER.check_request(replace(CREDS, app_secret="another-secret"), request, now=NOW)
    with pytest.raises(BadSignature, match="session"):
        ADAPTER.check_request(replace(CREDS, access_token="someone-elses"), request, now=NOW)
    with pytest.raises(BadSignature, match="timestamp"):
        ADAPTER.check_request(CREDS, request, now=NOW + timedelta(minutes=11))
    with pytest.raises(BadSignature):
        ADAPTER.check_request(CREDS, changed(request, body=request.body + b"&x=1"), now=NOW)


def test_errors_are_enveloped_as_top_does():
    call = Call(CANCEL_METHOD, {})
    body = json.loads(ADAPTER.envelope(call, None, error=("isv.WAYBILL_NOT_EXIST", "面单号不存在")))
    assert body == {"error_response": {"code": 15, "msg": "Remote service error", "sub_code": "isv.WAYBILL_NOT_EXIST",
                                       "sub_msg": "面单号不存在"}}
    assert json.loads(ADAPTER.envelope(call, ADAPTER.cancel_data())) == {
        "cainiao_waybill_ii_cancel_response": {"cancel_result": True}}

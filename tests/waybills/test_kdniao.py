"""Contract tests of the 快递鸟 EOrderService adapter (RequestType 1007 / 1147) against answers in the documented
shapes. No public SDK publishes a DataSign vector; the signature is checked against the official .NET demo's
steps (KdApiEOrderDemo.encrypt) written out by hand."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from urllib.parse import parse_qsl, quote

import pytest

from baodan.channels.base import BadSignature, Call, Credentials, PlatformError
from baodan.waybills.base import IssuedWaybill
from baodan.waybills.kdniao import ADAPTER, APPLY, CANCEL, data_sign
from tests.channels._support import as_incoming, changed
from tests.waybills import _support
from tests.waybills._support import NOW, account, answered, fixture_bytes, parcel, served

CREDS = Credentials(app_key="1237100", app_secret="56da2cf8-c8a2-44b2-b6fa-476cd7d1ba17",
                    extra={"CustomerName": "zto-hz-001", "CustomerPwd": "pw123456"})
ACCOUNT = account("kdniao", CREDS, carrier_code="YUNDA")


def _demo_encrypt(content: str, key_value: str) -> str:
    """The official demo: MD5 of (content + AppKey) in UTF-8, each byte as upper hex then ToLower, then
    Convert.ToBase64String of that text's UTF-8 bytes."""
    hex_text = "".join(f"{b:02X}" for b in hashlib.md5((content + key_value).encode("utf-8")).digest()).lower()
    return base64.b64encode(hex_text.encode("utf-8")).decode()


def test_adapter_has_every_member_of_the_contract_with_the_same_parameters():
    _support.assert_conforms(ADAPTER, "kdniao")
    assert ADAPTER.max_per_call == 1


def test_data_sign_is_base64_of_the_hex_md5_as_the_official_demo_computes_it():
    demo_request = "{'OrderCode': '012657700222','ShipperCode':'SF','PayType':1,'ExpType':1}"
    assert data_sign(demo_request, CREDS.app_secret) == _demo_encrypt(demo_request, CREDS.app_secret)
    assert len(data_sign(demo_request, CREDS.app_secret)) == 44  # base64 of 32 hex characters, not of 16 bytes
    assert data_sign("{}", "k") == base64.b64encode(hashlib.md5(b"{}k").hexdigest().encode()).decode()


def test_an_apply_call_posts_the_signed_form_the_demo_posts():
    request = ADAPTER.sign(CREDS, ADAPTER.apply_call(ACCOUNT, [parcel("BD42")]), base_url="https://api.kdniao.com/",
                           now=NOW)
    assert (request.http_method, request.url) == ("POST", "https://api.kdniao.com/api/EOrderService")
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    form = dict(parse_qsl(request.body.decode()))
    assert (form["EBusinessID"], form["RequestType"], form["DataType"]) == ("1237100", "1007", "2")
    assert form["DataSign"] == _demo_encrypt(form["RequestData"], CREDS.app_secret)
    # each value URL-encoded once, as the demo's HttpUtility.UrlEncode does
    assert f"DataSign={quote(form['DataSign'], safe='')}" in request.body.decode()
    data = json.loads(form["RequestData"])
    assert (data["OrderCode"], data["ShipperCode"], data["Quantity"], data["IsReturnPrintTemplate"]) == (
        "BD42", "YD", 1, 0)
    assert (data["CustomerName"], data["CustomerPwd"], data["PayType"]) == ("zto-hz-001", "pw123456", 1)
    assert data["Receiver"] == {"Name": "张三", "Mobile": "13800138000", "ProvinceName": "浙江省",
                                "CityName": "杭州市", "ExpAreaName": "西湖区", "Address": "文三路 1 号"}
    assert data["Commodity"] == [{"GoodsName": "保温杯 500ml", "Goodsquantity": 2},
                                 {"GoodsName": "杯刷", "Goodsquantity": 1}]


def test_one_parcel_a_call_and_no_masked_receiver():
    with pytest.raises(ValueError, match="one parcel"):
        ADAPTER.apply_call(ACCOUNT, [parcel("a"), parcel("b")])
    with pytest.raises(ValueError, match="masked"):
        ADAPTER.apply_call(ACCOUNT, [parcel(cipher={"oaid": "oa"}, masked_receiver=True)])


def test_the_documented_answer_gives_the_number_and_routing():
    call = Call(APPLY, {})
    (got,) = ADAPTER.parse_apply(ADAPTER.read_response(call, 200, fixture_bytes("kdniao", "apply_answer.json")))
    assert (got.object_id, got.waybill_no, got.sort_code, got.package_center_code) == (
        "012657700387", "50002498503427", "京-朝阳(京-1)", "北京")
    assert got.print_data == "此处省略打印模板HTML内容"


def test_106_an_order_code_applied_for_before_answers_its_number():
    call = Call(APPLY, {})
    (got,) = ADAPTER.parse_apply(ADAPTER.read_response(call, 200, fixture_bytes("kdniao", "repeated_answer.json")))
    assert got.waybill_no == "50002498503427"


def test_a_refusal_is_a_platform_error_with_the_result_code():
    with pytest.raises(PlatformError) as refused:
        ADAPTER.read_response(Call(APPLY, {}), 200, fixture_bytes("kdniao", "error_answer.json"))
    assert refused.value.platform_code == "105" and not refused.value.retryable
    busy = json.dumps({"Success": False, "ResultCode": "105", "Reason": "系统繁忙"}).encode()
    with pytest.raises(PlatformError) as retried:
        ADAPTER.read_response(Call(APPLY, {}), 200, busy)
    assert retried.value.retryable
    with pytest.raises(PlatformError) as down:
        ADAPTER.read_response(Call(APPLY, {}), 502, b"<html>")
    assert down.value.retryable


def test_a_cancel_names_courier_application_and_number():
    call = ADAPTER.cancel_call(ACCOUNT, waybill_no="4300000000001", object_id="BD42")
    assert call == Call(CANCEL, {"RequestData": {"ShipperCode": "YD", "OrderCode": "BD42", "ExpNo": "4300000000001",
                                                 "CustomerName": "zto-hz-001", "CustomerPwd": "pw123456"}})
    ADAPTER.parse_cancel(ADAPTER.read_response(call, 200, fixture_bytes("kdniao", "cancel_answer.json")))


def test_the_server_side_reads_back_and_answers_what_the_client_parses():
    call = ADAPTER.apply_call(ACCOUNT, [parcel("BD42")])
    got = served(ADAPTER, CREDS, call)
    assert (got.kind, got.courier, got.parcels[0].object_id) == ("apply", "YD", "BD42")
    assert got.parcels[0].receiver == parcel().receiver and got.parcels[0].items == parcel().items
    assert got.sender == ACCOUNT.sender
    (issued,) = answered(ADAPTER, call, got, [IssuedWaybill("BD42", "4300000000001", sort_code="浙-杭州",
                                                            package_center_code="310000", package_center_name="浙江")])
    assert (issued.waybill_no, issued.sort_code, issued.package_center_name) == ("4300000000001", "浙-杭州", "浙江")
    repeated = json.loads(ADAPTER.envelope(call, ADAPTER.apply_data(got, [issued], repeated=True)))
    assert (repeated["ResultCode"], repeated["Success"]) == ("106", True)
    cancel = served(ADAPTER, CREDS, ADAPTER.cancel_call(ACCOUNT, waybill_no="4300000000001", object_id="BD42"))
    assert (cancel.kind, cancel.waybill_no, cancel.object_id) == ("cancel", "4300000000001", "BD42")


def test_check_request_refuses_another_merchant_and_a_wrong_sign():
    request = as_incoming(ADAPTER.sign(CREDS, ADAPTER.apply_call(ACCOUNT, [parcel()]), base_url="http://s", now=NOW))
    with pytest.raises(BadSignature, match="EBusinessID"):
        ADAPTER.check_request(replace(CREDS, app_key="999"), request, now=NOW)
    with pytest.raises(BadSignature, match="DataSign"):
        ADAPTER.check_request(replace(CREDS, app_secret="other"), request, now=NOW)
    form = dict(parse_qsl(request.body.decode()))
    tampered = form | {"RequestData": form["RequestData"].replace("张三", "李四")}
    with pytest.raises(BadSignature, match="DataSign"):
        ADAPTER.check_request(CREDS, changed(request, body="&".join(
            f"{k}={quote(v, safe='')}" for k, v in tampered.items()).encode()), now=NOW)


def test_errors_are_enveloped_as_the_service_does():
    body = json.loads(ADAPTER.envelope(Call(CANCEL, {"EBusinessID": "1237100"}), None, error=("105", "单号不存在")))
    assert {k: body[k] for k in ("EBusinessID", "Success", "ResultCode", "Reason")} == {
        "EBusinessID": "1237100", "Success": False, "ResultCode": "105", "Reason": "单号不存在"}

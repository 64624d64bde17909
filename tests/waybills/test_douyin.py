"""Contract tests of the 抖店 e-waybill adapter (/logistics/newCreateOrder and /logistics/cancelOrder through
抖店's gateway) against answers in the SDK's shapes (zsmhub/doudian-sdk)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace

import pytest

from baodan.channels.base import BadSignature, Call, Credentials, PlatformError
from baodan.waybills.base import IssuedWaybill
from baodan.waybills.douyin import ADAPTER, APPLY_METHOD, CANCEL_METHOD, MAX_PARCELS, object_id, pack_id
from tests.channels._support import as_incoming
from tests.waybills import _support
from tests.waybills._support import NOW, account, answered, fixture_bytes, parcel, served

CREDS = Credentials(app_key="7219843365011234567", app_secret="3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b",
                    access_token="dy-shop-token", extra={"shop_id": "88001234"})
ACCOUNT = account("douyin", CREDS)
CIPHER = {"name": "#VpsnqAH7CvG3AvsT#", "phone": "$8HZlW0dwcDX9g2kF$", "address": "~Qm1vQ2Rlc3Nz0fKq~"}


def test_adapter_has_every_member_of_the_contract_with_the_same_parameters():
    _support.assert_conforms(ADAPTER, "douyin")


def test_an_apply_call_is_a_doudian_gateway_call_signed_with_the_v2_recipe():
    call = ADAPTER.apply_call(ACCOUNT, [parcel()])
    request = ADAPTER.sign(CREDS, call, base_url="https://openapi-fxg.jinritemai.com", now=NOW)
    assert request.http_method == "POST"
    assert request.url == "https://openapi-fxg.jinritemai.com/logistics/newCreateOrder"
    query = request.query
    assert (query["app_key"], query["method"], query["access_token"], query["v"], query["sign_method"]) == (
        CREDS.app_key, APPLY_METHOD, "dy-shop-token", "2", "hmac-sha256")
    param_json = request.body.decode()
    assert param_json == json.dumps(json.loads(param_json), sort_keys=True, separators=(",", ":"),
                                    ensure_ascii=False)  # keys sorted at every level, compact
    secret = CREDS.app_secret
    signed = (f"{secret}app_key{CREDS.app_key}method{APPLY_METHOD}param_json{param_json}"
              f"timestamp{query['timestamp']}v2{secret}")
    assert query["sign"] == hmac.new(secret.encode(), signed.encode(), hashlib.sha256).hexdigest()


def test_an_apply_call_carries_the_documented_fields():
    call = ADAPTER.apply_call(ACCOUNT, [parcel("BD1001"), parcel("BD1002-1", trade="6900000000000002")])
    p = call.params
    assert call.method == APPLY_METHOD and p["logistics_code"] == "zhongtong" and p["user_id"] == 88001234
    assert p["sender_info"] == {
        "address": {"country_code": "CHN", "province_name": "浙江省", "city_name": "杭州市",
                    "district_name": "余杭区", "street_name": "", "detail_address": "仓前街道 1 号"},
        "contact": {"name": "杭州仓", "mobile": "13900000000"}}
    first, second = p["order_infos"]
    assert (first["order_id"], first["pack_id"]) == ("6900000000000001", "BD1001")
    assert (second["order_id"], second["pack_id"]) == ("6900000000000002", "BD1002_1")  # letters, digits and _
    assert first["receiver_info"]["contact"] == {"name": "张三", "mobile": "13800138000"}
    assert first["receiver_info"]["address"]["detail_address"] == "文三路 1 号"
    assert first["items"] == [{"item_name": "保温杯 500ml", "item_count": 2}, {"item_name": "杯刷", "item_count": 1}]
    assert "pay_method" not in first and "net_info" not in first


def test_the_accounts_settings_outlet_and_payment_are_sent():
    settled = account("douyin", replace(CREDS, extra={"net_code": "571001", "net_category": "加盟",
                                                      "pay_method": "1", "product_type": "1"}))
    (info,) = ADAPTER.apply_call(settled, [parcel()]).params["order_infos"]
    assert info["net_info"] == {"net_code": "571001", "category": "加盟"}
    assert (info["pay_method"], info["product_type"]) == (1, "1")
    assert "user_id" not in ADAPTER.apply_call(settled, [parcel()]).params  # no shop id: the shop's own account


def test_a_douyin_receiver_held_masked_goes_by_its_ciphertexts_as_given():
    call = ADAPTER.apply_call(ACCOUNT, [parcel(cipher=CIPHER, masked_receiver=True)])
    (info,) = call.params["order_infos"]
    receiver = info["receiver_info"]
    assert receiver["contact"] == {"name": CIPHER["name"], "mobile": CIPHER["phone"]}
    assert receiver["address"]["detail_address"] == CIPHER["address"]
    assert (receiver["address"]["province_name"], receiver["address"]["district_name"]) == ("浙江省", "西湖区")
    assert "*" not in json.dumps(receiver, ensure_ascii=False)  # no masked value goes


def test_another_platforms_order_or_an_incomplete_ciphertext_is_refused_before_any_call():
    with pytest.raises(ValueError, match="抖店 orders only"):
        ADAPTER.apply_call(ACCOUNT, [parcel(channel="taobao")])
    with pytest.raises(ValueError, match="抖店 orders only"):
        ADAPTER.apply_call(ACCOUNT, [parcel(cipher=CIPHER, masked_receiver=True, channel="pdd")])
    with pytest.raises(ValueError, match="no 抖店 ciphertexts"):
        ADAPTER.apply_call(ACCOUNT, [parcel(cipher={"name": CIPHER["name"]}, masked_receiver=True)])
    with pytest.raises(ValueError, match=f"1 to {MAX_PARCELS}"):
        ADAPTER.apply_call(ACCOUNT, [parcel(f"BD{i}") for i in range(MAX_PARCELS + 1)])


def test_couriers_are_doudians_codes_and_the_accounts_platform_code_wins():
    assert ADAPTER.apply_call(account("douyin", CREDS, carrier_code="YUNDA"), [parcel()]).params[
        "logistics_code"] == "yunda"
    assert ADAPTER.apply_call(account("douyin", CREDS, carrier_code="JTSD", platform_code="jt"), [parcel()]).params[
        "logistics_code"] == "jt"


def test_the_sdk_shaped_answer_gives_numbers_and_routing_and_leaves_the_refused_out():
    call = Call(APPLY_METHOD, {})
    got = ADAPTER.parse_apply(ADAPTER.read_response(call, 200, fixture_bytes("douyin", "apply_answer.json")))
    assert [(w.object_id, w.waybill_no) for w in got] == [("BD2001", "75301234567890"),
                                                          ("BD2002-1", "75301234567891")]
    first, second = got
    assert (first.sort_code, first.package_center_code, first.package_center_name) == (
        "杭州 西湖", "571001", "杭州转运中心")  # 大头笔: short_address_name
    assert second.sort_code == "300-A01 03"  # no 大头笔: the 三段码
    assert first.print_data is None and first.parent_waybill_no is None


def test_an_answer_that_refuses_every_parcel_is_an_error_naming_them():
    call = Call(APPLY_METHOD, {})
    with pytest.raises(PlatformError) as refused:
        ADAPTER.parse_apply(ADAPTER.read_response(call, 200, fixture_bytes("douyin", "refused_answer.json")))
    assert refused.value.code == "waybills.carrier_error" and refused.value.platform_code == "3003"
    assert "BD2003" in refused.value.message and "服务范围" in refused.value.message
    assert not refused.value.retryable
    with pytest.raises(PlatformError) as busy:
        ADAPTER.parse_apply(ADAPTER.read_response(call, 200, fixture_bytes("douyin", "busy_answer.json")))
    assert busy.value.retryable


def test_gateway_errors_are_the_doudian_adapters():
    call = Call(APPLY_METHOD, {})
    with pytest.raises(PlatformError) as unavailable:
        ADAPTER.read_response(call, 200, fixture_bytes("douyin", "error_unavailable.json"))
    assert unavailable.value.retryable
    with pytest.raises(PlatformError) as expired:
        ADAPTER.read_response(call, 200, fixture_bytes("douyin", "error_token.json"))
    assert expired.value.token_expired and not expired.value.retryable


def test_a_cancel_names_courier_and_number_and_a_false_success_is_a_refusal():
    cancel = ADAPTER.cancel_call(ACCOUNT, waybill_no="75301234567890", object_id="BD2001")
    assert cancel == Call(CANCEL_METHOD, {"logistics_code": "zhongtong", "track_no": "75301234567890",
                                          "user_id": 88001234})
    assert ADAPTER.sign(CREDS, cancel, base_url="http://sim.local", now=NOW).url == "http://sim.local/logistics/cancelOrder"
    ADAPTER.parse_cancel(ADAPTER.read_response(cancel, 200, fixture_bytes("douyin", "cancel_answer.json")))
    with pytest.raises(PlatformError) as refused:
        ADAPTER.parse_cancel(ADAPTER.read_response(cancel, 200, fixture_bytes("douyin", "cancel_refused.json")))
    assert refused.value.code == "waybills.cancel_refused"


def test_pack_ids_and_application_ids_map_both_ways():
    assert pack_id("BD12-3") == "BD12_3" and object_id({"pack_id": "BD12_3"}) == "BD12-3"
    assert object_id({"order_id": "BD9"}) == "BD9"


def test_the_server_side_reads_back_and_answers_what_the_client_parses():
    call = ADAPTER.apply_call(ACCOUNT, [parcel("BD1"), parcel("BD2-1", cipher=CIPHER, masked_receiver=True),
                                        parcel("BD3")])
    got = served(ADAPTER, CREDS, call)
    assert (got.kind, got.courier, [p.object_id for p in got.parcels]) == ("apply", "zhongtong",
                                                                           ["BD1", "BD2-1", "BD3"])
    assert got.parcels[0].receiver.cipher == {} and got.parcels[1].receiver.cipher == CIPHER
    assert got.parcels[1].channel == "douyin" and got.sender is not None and got.sender.name == "杭州仓"
    issued = [IssuedWaybill("BD1", "75300000000001", sort_code="浙-杭州 西湖区", package_center_code="571001"),
              IssuedWaybill("BD2-1", "75300000000002")]
    numbers = answered(ADAPTER, call, got, issued)
    assert [(w.object_id, w.waybill_no) for w in numbers] == [("BD1", "75300000000001"), ("BD2-1", "75300000000002")]
    assert numbers[0].sort_code == "浙-杭州 西湖区"
    refusing = replace(got, details={"refused": {"BD3": ("300008", "收件人密文与订单不匹配")}})
    data = json.loads(ADAPTER.envelope(call, ADAPTER.apply_data(refusing, issued)))["data"]
    assert data["err_infos"] == [{"order_id": "6900000000000001", "pack_id": "BD3", "err_code": "300008",
                                  "err_msg": "收件人密文与订单不匹配"}]
    cancel = served(ADAPTER, CREDS, ADAPTER.cancel_call(ACCOUNT, waybill_no="7530", object_id="BD1"))
    assert (cancel.kind, cancel.courier, cancel.waybill_no) == ("cancel", "zhongtong", "7530")
    assert json.loads(ADAPTER.envelope(Call(CANCEL_METHOD, {}), ADAPTER.cancel_data()))["data"] == {
        "cancel_result": {"success": True}}


def test_check_request_refuses_a_wrong_sign_and_a_wrong_token():
    request = as_incoming(ADAPTER.sign(CREDS, ADAPTER.apply_call(ACCOUNT, [parcel()]), base_url="http://sim.local",
                                       now=NOW))
    with pytest.raises(BadSignature, match="sign"):
        ADAPTER.check_request(replace(CREDS, app_secret="another-secret"), request, now=NOW)
    with pytest.raises(BadSignature, match="access_token"):
        ADAPTER.check_request(replace(CREDS, access_token="another-token"), request, now=NOW)

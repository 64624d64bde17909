"""抖店 adapter contract tests against fixtures in the documented shapes (tests/fixtures/douyin)."""

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from baodan.channels.base import (
    BadSignature,
    Call,
    Credentials,
    Incoming,
    MappingError,
    PlatformError,
    PushNotice,
    ServedCall,
    Token,
)
from baodan.channels.douyin import ADAPTER, mapping, signing
from baodan.core.clock import SHANGHAI
from baodan.core.errors import Invalid
from baodan.orders.schemas import CanonicalOrder
from tests.channels import _support
from tests.channels._support import as_incoming, assert_refused, assert_unmappable, changed, flip

CREDS = Credentials(app_key="7012345678901234567", app_secret="a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                    shop_id="12345678", access_token="8c1f0d6e-1b2a-4c3d-9e8f-7a6b5c4d3e2f")
NOW = datetime(2026, 11, 25, 20, 15, 3, tzinfo=SHANGHAI)  # unix 1795608903


def fixture(name: str) -> dict:
    return _support.fixture("douyin", name)


def detail_order() -> dict:
    return ADAPTER.parse_order_detail(fixture("order_detail.json")["data"])


def push_request(body_file: str = "push.json", headers_file: str = "push_headers.json") -> Incoming:
    return Incoming("POST", "/webhooks/douyin", {}, fixture(headers_file), _support.fixture_bytes("douyin", body_file))


def test_adapter_has_every_member_of_the_contract_with_the_same_parameters():
    _support.assert_conforms(ADAPTER, "douyin")
    assert (ADAPTER.has_push, ADAPTER.stock_mode) == (True, "absolute")


# signing


def test_request_sign_matches_a_hand_computed_hmac_sha256():
    # No SDK test vector exists. Computed outside Python with the recipe of the Go SDK's utils/sign_util.go:
    #   S=a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d
    #   printf '%s' "${S}app_key7012345678901234567methodorder.orderDetail"\
    #     'param_json{"shop_order_id":"6920000000000012345"}timestamp1795608903v2'"${S}" \
    #     | openssl dgst -sha256 -hmac "$S"          (and | md5sum for the legacy md5)
    common = dict(app_key=CREDS.app_key, app_secret=CREDS.app_secret, method="order.orderDetail",
                  param_json='{"shop_order_id":"6920000000000012345"}', timestamp="1795608903")
    assert signing.request_sign(**common) == "f594b4b1f1e45b8f11fe0cfadeddd19fd31cc3d6868dc5b14b3988912ac22768"
    assert signing.request_sign(**common, sign_method="md5") == "bb8c5069611e5b81136119c2252b672d"


def test_param_json_sorts_keys_at_every_level_and_keeps_chinese():
    assert signing.param_json({"size": 10, "a": {"z": 1, "b": "中"}}) == '{"a":{"b":"中","z":1},"size":10}'
    assert signing.param_json({}) == "{}"


def test_sign_builds_the_v2_request_the_sdk_sends():
    request = ADAPTER.sign(CREDS, ADAPTER.order_detail_call(CREDS, "6920000000000012345"),
                           base_url="https://openapi-fxg.jinritemai.com/", now=NOW)
    assert request.http_method == "POST"
    assert request.url == "https://openapi-fxg.jinritemai.com/order/orderDetail"
    assert request.body == b'{"shop_order_id":"6920000000000012345"}'
    assert request.query == {
        "app_key": CREDS.app_key, "method": "order.orderDetail", "access_token": CREDS.access_token,
        "timestamp": "1795608903", "v": "2", "sign_method": "hmac-sha256",
        "sign": "f594b4b1f1e45b8f11fe0cfadeddd19fd31cc3d6868dc5b14b3988912ac22768",
    }


def test_token_calls_are_signed_without_access_token():
    call = Call("token.create", {"code": "", "grant_type": "authorization_self", "shop_id": "12345678"})
    request = ADAPTER.sign(Credentials(CREDS.app_key, CREDS.app_secret), call, base_url="http://sim", now=NOW)
    assert "access_token" not in request.query and request.url == "http://sim/token/create"
    assert ADAPTER.check_request(CREDS, as_incoming(request), now=NOW) == call


def test_check_request_accepts_what_sign_produces():
    call = ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page=1,
                                   page_size=50)
    request = ADAPTER.sign(CREDS, call, base_url="http://127.0.0.1:9000", now=NOW)
    assert ADAPTER.check_request(CREDS, as_incoming(request), now=NOW + timedelta(seconds=30)) == call


@pytest.mark.parametrize("tamper", ["body", "sign", "secret", "stale", "path", "token"])
def test_check_request_refuses_a_tampered_call(tamper):
    request = as_incoming(ADAPTER.sign(CREDS, ADAPTER.order_detail_call(CREDS, "6920000000000012345"),
                                       base_url="http://sim", now=NOW))
    query, body, path, creds, now = dict(request.query), request.body, request.path, CREDS, NOW
    if tamper == "body":
        body = b'{"shop_order_id":"6920000000000012346"}'
    elif tamper == "sign":
        query["sign"] = flip(query["sign"])
    elif tamper == "secret":
        creds = Credentials(CREDS.app_key, "another-secret", access_token=CREDS.access_token)
    elif tamper == "stale":
        now = NOW + timedelta(minutes=11)
    elif tamper == "path":
        path = "/order/searchList"
    elif tamper == "token":
        query["access_token"] = "someone-elses-token"
    with pytest.raises(BadSignature):
        ADAPTER.check_request(creds, Incoming("POST", path, query, request.headers, body), now=now)


def test_check_request_accepts_the_older_sdk_form_date_timestamp_and_no_sign_method():
    param_json, timestamp = '{"shop_order_id":"6920000000000012345"}', "2026-11-25 20:15:03"
    sign = signing.request_sign(app_key=CREDS.app_key, app_secret=CREDS.app_secret, method="order.orderDetail",
                                param_json=param_json, timestamp=timestamp)
    query = {"app_key": CREDS.app_key, "method": "order.orderDetail", "access_token": CREDS.access_token,
             "timestamp": timestamp, "v": "2", "sign": sign}
    call = ADAPTER.check_request(CREDS, Incoming("POST", "/order/orderDetail", query, {}, param_json.encode()),
                                 now=NOW)
    assert call == Call("order.orderDetail", {"shop_order_id": "6920000000000012345"})


# push


def test_open_push_accepts_the_signed_push_and_reads_every_order_message():
    created, paid = ADAPTER.open_push(CREDS, push_request(), now=NOW)
    assert (created.kind, paid.kind) == ("created", "paid")
    assert paid.platform_order_id == "6920000000000012345" and paid.platform_shop_id == "12345678"
    assert paid.occurred_at == NOW and created.occurred_at == datetime(2026, 11, 25, 20, 14, 51, tzinfo=SHANGHAI)
    assert paid.raw["data"]["pay_amount"] == 17480 and paid.order is None


def test_open_push_has_no_staleness_check_as_douyin_signs_no_time():
    assert len(ADAPTER.open_push(CREDS, push_request(), now=NOW + timedelta(days=3))) == 2


@pytest.mark.parametrize("body_file, headers_file", [("push_tampered.json", "push_headers.json"),
                                                     ("push.json", "push_bad_signature_headers.json")])
def test_open_push_refuses_a_tampered_body_or_a_bad_signature(body_file, headers_file):
    assert_refused(ADAPTER, CREDS, push_request(body_file, headers_file), NOW)


def test_open_push_refuses_another_app():
    assert_refused(ADAPTER, Credentials("7000000000000000001", CREDS.app_secret), push_request(), NOW)


def test_push_route_reads_the_app_and_shop_before_verification():
    route = ADAPTER.push_route(push_request())
    assert (route.app_key, route.platform_shop_id) == (CREDS.app_key, "12345678")
    assert ADAPTER.push_route(Incoming("POST", "/", {}, {}, b"not json")).app_key is None
    assert ADAPTER.handshake(CREDS, push_request()) is None


def test_sign_push_round_trips_through_push_route_and_open_push():
    notices = [PushNotice("6920000000000012500", "cancelled", "12345678", NOW - timedelta(minutes=1)),
               PushNotice("6920000000000012500", "refund", "12345678", NOW),
               PushNotice("6920000000000012501", "paid", "12345678", None)]
    request = _support.push_round_trip(ADAPTER, CREDS, NOW, notices)
    assert isinstance(json.loads(request.body)[0]["data"], str)  # data is a JSON string inside the array
    assert [m["tag"] for m in json.loads(request.body)] == ["106", "200", "101"]
    assert ADAPTER.push_route(request).platform_shop_id == "12345678"
    assert_refused(ADAPTER, CREDS, changed(request, body=request.body.replace(b"12500", b"12599")), NOW)
    assert_refused(ADAPTER, CREDS, changed(request, headers=request.headers | {"event-sign": "0" * 32}), NOW)


def test_sign_push_keeps_a_tag_given_in_raw_and_the_registration_message_gives_no_notice():
    registration = PushNotice("0", "other", raw={"tag": "0", "data": {}})
    request = _support.as_incoming(ADAPTER.sign_push(CREDS, [registration], url="/hook", now=NOW))
    assert ADAPTER.open_push(CREDS, request, now=NOW) == []


def test_push_answers_are_the_documented_bodies():
    assert json.loads(ADAPTER.push_answer(True).body) == {"code": 0, "msg": "success"}
    fail = ADAPTER.push_answer(False)
    assert json.loads(fail.body) == {"code": 1, "msg": "fail"} and fail.status != 200


# mapping


def test_detail_maps_to_the_canonical_order():
    order = ADAPTER.to_canonical(detail_order(), shop_code="DY-FLAGSHIP")
    CanonicalOrder.model_validate(order)
    assert order["status"] == "paid" and order["platform_order_id"] == "6920000000000012345"
    assert order["created_at"] == datetime(2026, 11, 25, 20, 14, 51, tzinfo=SHANGHAI)
    assert order["updated_at"] == order["paid_at"] == NOW and order["paid_at"].utcoffset() == timedelta(hours=8)
    assert order["lines"] == [
        {"platform_line_id": "6920000000000012346", "platform_sku_id": "1748000000000001", "sku_code": "P001-0001",
         "title": "玻尿酸补水面膜 10片装", "quantity": 2, "unit_price_fen": 4990, "discount_fen": 0,
         "amount_fen": 9980},
        {"platform_line_id": "6920000000000012347", "platform_sku_id": "1748000000000004", "sku_code": "P004-0004",
         "title": "防晒喷雾 SPF50 150ml", "quantity": 1, "unit_price_fen": 8900, "discount_fen": 900,
         "amount_fen": 8000},
    ]
    assert (order["goods_total_fen"], order["shipping_fee_fen"], order["discount_fen"], order["paid_total_fen"]) == (
        17980, 0, 500, 17480)
    assert all(type(order[k]) is int for k in ("goods_total_fen", "discount_fen", "paid_total_fen"))
    assert order["receiver"] == {"name": "张*", "phone": "138****8000", "province": "浙江省", "city": "杭州市",
                                 "district": "西湖区", "town": "文新街道", "address": "文三路****",
                                 "platform_cipher": {"name": detail_order()["encrypt_post_receiver"],
                                                     "phone": detail_order()["encrypt_post_tel"],
                                                     "address": detail_order()["post_addr"]["encrypt_detail"]}}
    assert order["live_room_id"] == "7301234567890" and order["buyer_message"] == "请尽快发货"
    assert order["seller_memo"] is None


def test_an_appointment_ship_time_is_every_line_s_presale_date_and_renders_back():
    raw = detail_order()
    assert not ADAPTER.to_canonical(raw, shop_code="DY-FLAGSHIP")["lines"][0].get("ship_after")  # 0: none
    raw["appointment_ship_time"] = 1796313600  # 2026-12-04 00:00 Shanghai
    order = ADAPTER.to_canonical(raw, shop_code="DY-FLAGSHIP")
    assert {line["ship_after"] for line in order["lines"]} == {datetime(2026, 12, 4, tzinfo=SHANGHAI)}
    assert mapping.from_canonical(CanonicalOrder.model_validate(order).model_dump())["appointment_ship_time"] == (
        1796313600)


def test_receiver_ciphertexts_go_to_platform_cipher_and_never_stand_in_for_masked_values():
    raw = detail_order()
    raw["mask_post_receiver"], raw["mask_post_addr"] = "", None
    receiver = ADAPTER.to_canonical(raw, shop_code="S")["receiver"]
    assert receiver["name"] is None and receiver["address"] is None
    assert receiver["platform_cipher"]["name"] == raw["encrypt_post_receiver"]
    assert receiver["platform_cipher"]["address"] == raw["post_addr"]["encrypt_detail"]


def test_list_page_items_map_and_the_page_knows_there_is_more():
    page = ADAPTER.parse_order_list(fixture("order_list.json")["data"], page=1, page_size=2)
    assert page.has_more and page.total == 3 and len(page.orders) == 2
    unpaid, refunded = (ADAPTER.to_canonical(o, shop_code="DY-FLAGSHIP") for o in page.orders)
    for order in (unpaid, refunded):
        CanonicalOrder.model_validate(order)
    assert unpaid["status"] == "unpaid" and unpaid["paid_at"] is None and unpaid["live_room_id"] is None
    assert unpaid["lines"][0]["sku_code"] is None and unpaid["lines"][0]["platform_sku_id"] == "1748000000000009"
    assert refunded["status"] == "refunded"  # 已取消 with every sku order refunded
    assert (refunded["goods_total_fen"], refunded["shipping_fee_fen"], refunded["paid_total_fen"]) == (4980, 500, 5480)


def test_last_list_page_has_no_more():
    data = fixture("order_list.json")["data"] | {"page": 1}
    assert not ADAPTER.parse_order_list(data, page=2, page_size=2).has_more


@pytest.mark.parametrize("platform_status, canonical", [
    (1, "unpaid"), (105, "paid"), (2, "paid"), (101, "paid"), (3, "shipped"), (4, "cancelled"), (5, "completed")])
def test_status_table(platform_status, canonical):
    raw = detail_order() | {"order_status": platform_status}
    assert ADAPTER.to_canonical(raw, shop_code="S")["status"] == canonical


def test_rendered_statuses_read_back_through_the_table():
    _support.assert_rendered_statuses_read_back(mapping, refunded_as="cancelled")


def test_unknown_status_is_a_mapping_error_naming_it():
    assert_unmappable(lambda: ADAPTER.to_canonical(fixture("order_unknown_status.json"), shop_code="S"),
                      "order_status", "999")


def test_missing_fields_fixture_names_the_first_missing_field():
    assert_unmappable(lambda: ADAPTER.to_canonical(fixture("order_missing_fields.json"), shop_code="S"),
                      "sku_order_list.1.item_num")
    raw = fixture("order_missing_fields.json")
    raw["sku_order_list"][1]["item_num"] = 1
    with pytest.raises(MappingError, match="update_time"):
        ADAPTER.to_canonical(raw, shop_code="S")


@pytest.mark.parametrize("path", ["order_id", "order_status", "create_time", "update_time", "pay_amount",
                                  "sku_order_list", "sku_order_list.0.item_num", "sku_order_list.0.origin_amount"])
def test_each_required_field_missing_is_named(path):
    _support.assert_missing_is_named(ADAPTER, detail_order(), path, under=True)


def test_empty_sku_order_list_and_float_amounts_are_refused():
    with pytest.raises(MappingError, match="sku_order_list"):
        ADAPTER.to_canonical(detail_order() | {"sku_order_list": []}, shop_code="S")
    with pytest.raises(MappingError, match="pay_amount"):
        ADAPTER.to_canonical(detail_order() | {"pay_amount": 174.8}, shop_code="S")


def test_from_canonical_round_trips_through_to_canonical():
    original = ADAPTER.to_canonical(detail_order(), shop_code="DY-FLAGSHIP")
    receiver = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
                "district": "西湖区", "town": "文新街道", "address": "文三路 90 号 3 幢 502 室",
                "platform_cipher": {"name": "#enc-name#", "phone": "$enc-tel$", "address": "#enc-addr#"}}
    for status in ("unpaid", "paid", "shipped", "completed", "cancelled", "refunded"):
        order = copy.deepcopy(original) | {"status": status, "receiver": receiver, "seller_memo": "加急"}
        if status in ("unpaid",):
            order["paid_at"] = None
        rendered = ADAPTER.from_canonical(order, CREDS)
        assert ADAPTER.to_canonical(rendered, shop_code="DY-FLAGSHIP") == order


def test_documented_example_round_trips_except_the_buyer_nick_douyin_lacks():
    example = json.loads((Path(__file__).resolve().parents[2] / "docs/examples/order-batch.json").read_text())
    order = CanonicalOrder.model_validate(example["orders"][0]).model_dump(mode="python")
    order["receiver"] = {k: v for k, v in order["receiver"].items() if v is not None or k != "platform_cipher"}
    del order["supersedes"]  # douyin has no split orders (parts are sub-orders of one parent)
    for line in order["lines"]:
        assert line.pop("ship_after") is None  # not a presale order: 抖店 writes no appointment time
        assert line.pop("refunded") is False  # the adapters name only refunded lines
    again = ADAPTER.to_canonical(ADAPTER.from_canonical(order, CREDS), shop_code=order["shop"])
    CanonicalOrder.model_validate(again)
    assert again == order | {"buyer_nick": None}


# calls and envelopes


def test_calls_name_the_documented_methods_and_parameters():
    call = ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(minutes=5), updated_to=NOW, page=1,
                                   page_size=500)
    assert call == Call("order.searchList", {"update_time_start": 1795608603, "update_time_end": 1795608903,
                                             "order_by": "update_time", "order_asc": True, "page": 0, "size": 100})
    ship = ADAPTER.ship_call(CREDS, platform_order_id="6920000000000012345", waybill_no="SF1234567890",
                             carrier_code="shunfeng", lines=[])
    assert ship == Call("order.logisticsAdd", {"order_id": "6920000000000012345", "company_code": "shunfeng",
                                               "logistics_code": "SF1234567890"})
    partial = ADAPTER.ship_call(CREDS, platform_order_id="6920000000000012345", waybill_no="SF1",
                                carrier_code="shunfeng", lines=[{"platform_line_id": "6920000000000012346",
                                                                 "quantity": 2}])
    assert partial.method == "order.logisticsAddMultiPack"
    assert partial.params["pack_list"][0]["shipped_order_info"] == [
        {"shipped_order_id": "6920000000000012346", "shipped_num": 2}]
    assert ADAPTER.stock_call(CREDS, platform_sku_id="1748000000000001", quantity=0, current=7) == Call(
        "sku.syncStock", {"sku_id": "1748000000000001", "stock_num": 0, "incremental": False})
    assert ADAPTER.stock_query_call(CREDS, platform_sku_id="1748000000000001") is None
    with pytest.raises(NotImplementedError):
        ADAPTER.parse_stock_query({}, platform_sku_id="1748000000000001")
    with pytest.raises(Invalid):
        ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(days=2), updated_to=NOW)


# server side


@pytest.mark.parametrize("call, served", [
    _support.list_served(ADAPTER, CREDS, NOW, timedelta(hours=1), page=3, page_size=20),
    _support.detail_served(ADAPTER, CREDS, "6920000000000012345"),
    (ADAPTER.ship_call(CREDS, platform_order_id="6920000000000012345", waybill_no="SF1", carrier_code="shunfeng",
                       lines=[]),
     ServedCall("ship", platform_order_id="6920000000000012345", waybill_no="SF1", carrier_code="shunfeng")),
    (ADAPTER.ship_call(CREDS, platform_order_id="6920000000000012345", waybill_no="SF2", carrier_code="shunfeng",
                       lines=[{"platform_line_id": "6920000000000012346", "quantity": 1}]),
     ServedCall("ship", platform_order_id="6920000000000012345", waybill_no="SF2", carrier_code="shunfeng",
                lines=("6920000000000012346",))),
    (ADAPTER.stock_call(CREDS, platform_sku_id="1748000000000001", quantity=12, platform_product_id="3600000001"),
     ServedCall("stock", platform_sku_id="1748000000000001", platform_product_id="3600000001", quantity=12)),
    (Call("token.refresh", {"grant_type": "refresh_token", "refresh_token": "r"}),
     ServedCall("token_refresh", refresh_token="r")),
    (Call("token.create", {"code": "", "grant_type": "authorization_self", "shop_id": "12345678"}),
     ServedCall("token")),
    (Call("order.batchDecrypt", {"cipher_infos": [{"auth_id": "1", "cipher_text": "#c#"}]}),
     ServedCall("decrypt", decrypt_items=(("1", "#c#"),))),
])
def test_sign_check_request_and_read_call_give_back_what_was_asked(call, served):
    _support.assert_served(ADAPTER, CREDS, NOW, call, served)


def test_order_list_and_detail_data_read_back_as_the_same_orders():
    orders = [ADAPTER.from_canonical(ADAPTER.to_canonical(detail_order(), shop_code="S"), CREDS),
              fixture("order_list.json")["data"]["shop_order_list"][0]]
    first = _support.list_round_trip(ADAPTER, CREDS, NOW, orders, page=1, page_size=2, total=3)
    assert (first.orders, first.has_more, first.total) == (orders, True, 3)
    last = _support.list_round_trip(ADAPTER, CREDS, NOW, orders[:1], page=2, page_size=2, total=3)
    assert (last.orders, last.has_more) == (orders[:1], False)
    assert _support.detail_round_trip(ADAPTER, CREDS, "6920000000000012345", detail_order()) == detail_order()


def test_envelope_and_read_response_round_trip():
    call = ADAPTER.order_detail_call(CREDS, "6920000000000012345")
    data = fixture("order_detail.json")["data"]
    body = ADAPTER.envelope(call, data)
    assert json.loads(body)["code"] == 10000 and json.loads(body)["err_no"] == 0
    assert ADAPTER.read_response(call, 200, body) == data
    assert ADAPTER.read_response(call, 200, _support.fixture_bytes("douyin", "order_detail.json")) == data


@pytest.mark.parametrize("error, retryable", [(("20000", "服务不可用"), True),
                                              (("isv.access-limit", "调用频率超限"), True),
                                              (("isv.parameter-invalid", "参数不合法"), False),
                                              (("30002", "access_token已过期"), False)])
def test_error_envelope_reads_back_as_platform_error(error, retryable):
    _support.assert_error_reads_back(ADAPTER, CREDS, error, retryable)


def test_legacy_envelope_and_http_errors():
    call = ADAPTER.order_detail_call(CREDS, "1")
    assert ADAPTER.read_response(call, 200, b'{"err_no":0,"message":"success","data":{"a":1}}') == {"a": 1}
    with pytest.raises(PlatformError) as caught:
        ADAPTER.read_response(call, 200, b'{"err_no":30001,"message":"token error","data":null}')
    assert caught.value.platform_code == "30001" and not caught.value.retryable
    with pytest.raises(PlatformError) as caught:
        ADAPTER.read_response(call, 503, b"<html>busy</html>")
    assert caught.value.retryable


def test_an_absurd_timestamp_reads_as_no_time_not_a_crash():
    from baodan.channels.douyin.adapter import _parse_timestamp

    assert [_parse_timestamp(v) for v in ("9" * 20, "0", "not a time")] == [None, None, None]
    assert _parse_timestamp("1764650000") is not None


# access token and receiver decrypt

TOKEN_CREDS = Credentials(CREDS.app_key, CREDS.app_secret, shop_id=CREDS.shop_id, access_token=CREDS.access_token,
                          refresh_token="rt-douyin-0001")
ORDER_ID, OTHER_ID = "6920000000000012345", "6920000000000012346"


def test_token_refresh_is_signed_without_the_access_token_and_reads_back():
    request = _support.assert_token_refresh(ADAPTER, TOKEN_CREDS, NOW)
    assert request.path == "/token/refresh" and "access_token" not in request.query
    assert json.loads(request.body) == {"grant_type": "refresh_token", "refresh_token": "rt-douyin-0001"}


def test_parse_token_reads_expires_in_and_gives_the_refresh_token_the_specs_fourteen_days():
    data = {"access_token": "a", "expires_in": 604800, "refresh_token": "r", "scope": "SCOPE", "shop_id": 12345678}
    assert ADAPTER.parse_token(data, now=NOW) == Token("a", NOW + timedelta(days=7), "r", NOW + timedelta(days=14))
    with pytest.raises(PlatformError):
        ADAPTER.parse_token({"expires_in": 604800}, now=NOW)


def test_without_a_refresh_token_there_is_no_refresh_call():
    assert ADAPTER.token_refresh_call(CREDS) is None


@pytest.mark.parametrize("error", [("30002", "access_token已过期"), ("30001", "access_token不存在"),
                                   ("isv.access-token-expired", "access_token已过期")])
def test_token_expired_answers_are_marked_for_a_refresh(error):
    _support.assert_token_expired_reads_back(ADAPTER, CREDS, error)


def test_batch_decrypt_sends_each_ciphertext_with_its_order_and_reads_the_fields_back():
    items = [(ORDER_ID, {"name": "#n1#", "phone": "$p1$", "address": "~a1~"}), (OTHER_ID, {"phone": "$p2$"})]
    clear = {ORDER_ID: {"name": "张三", "phone": "13800138000", "address": "文三路 90 号 3 幢 502 室"},
             OTHER_ID: {"phone": "13900139000"}}
    call = ADAPTER.decrypt_call(CREDS, items)
    assert call is not None and call.method == "order.batchDecrypt"
    assert call.params["cipher_infos"][:2] == [{"auth_id": ORDER_ID, "cipher_text": "#n1#"},
                                               {"auth_id": ORDER_ID, "cipher_text": "$p1$"}]
    opened = _support.decrypt_round_trip(ADAPTER, CREDS, NOW, items, clear, refused=OTHER_ID)
    assert opened[ORDER_ID] == clear[ORDER_ID] and "密文与订单不匹配" in opened[OTHER_ID]["error"]


def test_a_decrypt_call_holds_at_most_fifty_ciphertexts_and_skips_orders_without_any():
    full = {"name": "#n#", "phone": "$p$", "address": "~a~"}
    items = [(str(i), full) for i in range(ADAPTER.decrypt_batch_size)]
    call = ADAPTER.decrypt_call(CREDS, [*items, ("x", {})])
    assert call is not None and len(call.params["cipher_infos"]) == 3 * ADAPTER.decrypt_batch_size <= 50
    with pytest.raises(ValueError):
        ADAPTER.decrypt_call(CREDS, [*items, ("y", full)])
    assert ADAPTER.decrypt_call(CREDS, [("x", {})]) is None


def test_a_virtual_phone_reads_as_its_number_and_extension():
    data = {"decrypt_infos": [{"auth_id": "1", "cipher_text": "$p$", "decrypt_text": "", "err_no": 0,
                               "is_virtual_tel": True, "phone_no_a": "13812345678", "phone_no_b": "1234"}]}
    assert ADAPTER.parse_decrypt(data, items=[("1", {"phone": "$p$"})]) == {"1": {"phone": "13812345678-1234"}}


def test_a_line_refunded_before_shipping_reads_as_refunded_while_the_rest_is_to_ship():
    order = copy.deepcopy(ADAPTER.to_canonical(detail_order(), shop_code="DY-FLAGSHIP")) | {"status": "paid"}
    order["lines"][0]["refunded"] = True
    rendered = ADAPTER.from_canonical(order, CREDS)
    assert rendered["sku_order_list"][0]["after_sale_info"]["refund_status"] == 3
    assert ADAPTER.to_canonical(rendered, shop_code="DY-FLAGSHIP") == order
    shipped = ADAPTER.to_canonical(ADAPTER.from_canonical(order | {"status": "shipped"}, CREDS), shop_code="X")
    assert "refunded" not in shipped["lines"][0]  # after shipping a refund is after-sales, not this

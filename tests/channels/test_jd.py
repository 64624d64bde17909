"""Contract tests of the 京东 (JOS) adapter against payloads in JOS's documented shapes."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest

from baodan.channels.base import (
    BadSignature,
    Call,
    Credentials,
    Incoming,
    MappingError,
    PlatformError,
    PushNotice,
    PushRoute,
    ServedCall,
    Token,
)
from baodan.channels.jd import ADAPTER
from baodan.channels.jd import mapping as jd_mapping
from baodan.channels.jd.signing import sign_params
from baodan.core.clock import SHANGHAI
from baodan.core.errors import Invalid
from baodan.orders.schemas import CanonicalOrder
from tests.channels import _support
from tests.channels._support import as_incoming, assert_unmappable

CREDS = Credentials(app_key="jd-test-app-key", app_secret="jd-test-secret", shop_id="10012345",
                    access_token="3f6e2a1b-jd-token")
NOW = datetime(2026, 11, 25, 20, 15, 5, tzinfo=SHANGHAI)


def load(name: str) -> dict:
    return _support.fixture("jd", name)


def order(name: str = "order_detail.json") -> dict:
    return ADAPTER.parse_order_detail(load(name)["jingdong_pop_order_enGet_responce"])


def test_adapter_has_every_member_of_the_contract_with_the_same_parameters():
    _support.assert_conforms(ADAPTER, "jd")
    assert (ADAPTER.has_push, ADAPTER.stock_mode, ADAPTER.max_list_window) == (False, "absolute", timedelta(days=30))


# signing

def test_sign_matches_the_vector_of_a_public_jos_sdk_test():
    # a public Python JOS SDK's unit test (jd.api DogDong, secret "yourappSecret"); its param JSON is compact
    params = {"v": "2.0", "method": "jingdong.innovation.product.write.createSkus", "app_key": "yourappkey",
              "access_token": "yourtoken", "360buy_param_json": '{"paramStrin":"abc"}',
              "timestamp": "2019-06-27 15:41:49"}
    assert sign_params(params, "yourappSecret") == "E79CD3D49918172CA907A4CB493D9361"


def test_sign_puts_business_params_in_360buy_param_json_and_signs_the_system_params():
    call = ADAPTER.order_detail_call(CREDS, "301234567890")
    request = ADAPTER.sign(CREDS, call, base_url="https://api.jd.com/", now=NOW)
    assert (request.http_method, request.url) == ("POST", "https://api.jd.com/routerjson")
    form = dict(parse_qsl(request.body.decode()))
    assert json.loads(form["360buy_param_json"]) == call.params
    assert (form["timestamp"], form["v"], form["access_token"]) == ("2026-11-25 20:15:05", "2.0", CREDS.access_token)
    unsigned = {k: v for k, v in form.items() if k != "sign"}
    joined = "".join(k + unsigned[k] for k in sorted(unsigned))
    assert form["sign"] == hashlib.md5(f"jd-test-secret{joined}jd-test-secret".encode()).hexdigest().upper()


def test_check_request_accepts_what_sign_produces_and_returns_the_call():
    call = Call("jingdong.pop.order.shipment", {"orderId": 301234567890, "logiCoprId": "2087", "logiNo": "JDX1"})
    request = ADAPTER.sign(CREDS, call, base_url="http://sim", now=NOW)
    assert ADAPTER.check_request(CREDS, as_incoming(request), now=NOW - timedelta(minutes=9)) == call


def test_check_request_reads_a_get_with_the_parameters_in_the_query():
    request = ADAPTER.sign(CREDS, Call("jingdong.pop.order.enGet", {"order_id": "1"}), base_url="http://s", now=NOW)
    query = dict(parse_qsl(request.body.decode()))
    get = Incoming("GET", "/routerjson", query, {}, b"")
    assert ADAPTER.check_request(CREDS, get, now=NOW) == Call("jingdong.pop.order.enGet", {"order_id": "1"})


def test_check_request_refuses_a_tampered_parameter():
    request = ADAPTER.sign(CREDS, Call("jingdong.pop.order.enGet", {"order_id": "1"}), base_url="http://s", now=NOW)
    form = dict(parse_qsl(request.body.decode()))
    form["360buy_param_json"] = '{"order_id":"2"}'
    tampered = Incoming("POST", "/routerjson", {}, {}, urlencode(form).encode())
    with pytest.raises(BadSignature):
        ADAPTER.check_request(CREDS, tampered, now=NOW)


@pytest.mark.parametrize("now", [NOW + timedelta(minutes=11), NOW - timedelta(minutes=11)])
def test_check_request_refuses_a_timestamp_more_than_ten_minutes_off(now):
    request = ADAPTER.sign(CREDS, Call("jingdong.pop.order.enGet", {"order_id": "1"}), base_url="http://s", now=NOW)
    with pytest.raises(BadSignature, match="10 minutes"):
        ADAPTER.check_request(CREDS, as_incoming(request), now=now)


def test_check_request_refuses_another_app_or_another_shops_token():
    request = ADAPTER.sign(CREDS, Call("jingdong.pop.order.enGet", {"order_id": "1"}), base_url="http://s", now=NOW)
    with pytest.raises(BadSignature):
        ADAPTER.check_request(Credentials("other", CREDS.app_secret, access_token=CREDS.access_token),
                              as_incoming(request), now=NOW)
    with pytest.raises(BadSignature):
        ADAPTER.check_request(Credentials(CREDS.app_key, CREDS.app_secret, access_token="other"),
                              as_incoming(request), now=NOW)


# push: JD documents none

def test_jd_has_no_push_so_every_push_is_refused():
    assert ADAPTER.has_push is False
    push = Incoming("POST", "/webhooks/jd", {}, {}, b'{"orderId":"1"}')
    with pytest.raises(BadSignature) as caught:
        ADAPTER.open_push(CREDS, push, now=NOW)
    assert caught.value.code == "webhook.no_push"
    assert ADAPTER.push_route(push) == PushRoute() and ADAPTER.handshake(CREDS, push) is None
    with pytest.raises(NotImplementedError):
        ADAPTER.sign_push(CREDS, [PushNotice("1", "paid")], url="/hook", now=NOW)


# mapping

def test_detail_maps_to_a_valid_canonical_order_in_fen():
    canonical = ADAPTER.to_canonical(order(), shop_code="JD-1")
    info = order()["consigneeInfo"]
    CanonicalOrder.model_validate(canonical)
    assert (canonical["platform_order_id"], canonical["status"]) == ("301234567890", "paid")
    assert canonical["created_at"] == datetime(2026, 11, 25, 20, 14, 51, tzinfo=SHANGHAI)
    first, second = canonical["lines"]
    assert first == {"platform_line_id": None, "platform_sku_id": "100012345678", "sku_code": "P001-0001",
                     "title": "玻尿酸补水面膜 10片装", "quantity": 2, "unit_price_fen": 4990, "discount_fen": 0,
                     "amount_fen": 9980}
    assert (second["sku_code"], second["amount_fen"]) == (None, 990)
    # orderPayment 99.70 + balanceUsed 5.00 is what the buyer paid; the seller's 5.00 is the discount
    assert (canonical["goods_total_fen"], canonical["discount_fen"], canonical["paid_total_fen"]) == \
        (10970, 500, 10470)
    assert canonical["receiver"] == {"name": "张*", "phone": "138****8000", "province": "浙江", "city": "杭州市",
                                     "district": "西湖区", "town": "文新街道",
                                     "address": "浙江杭州市西湖区文新街道文三路**号*幢***室",
                                     "platform_cipher": {"name": info["encrypt_fullname"],
                                                         "phone": info["encrypt_mobile"],
                                                         "address": info["encrypt_fullAddress"]}}


def test_list_page_maps_every_order_and_keeps_the_ciphertext_in_platform_cipher():
    page = ADAPTER.parse_order_list(load("order_list.json")["jingdong_pop_order_enSearch_responce"], page=1,
                                    page_size=100)
    assert (len(page.orders), page.has_more, page.total) == (2, False, 2)
    orders = [ADAPTER.to_canonical(o, shop_code="JD-1") for o in page.orders]
    for canonical in orders:
        CanonicalOrder.model_validate(canonical)
    assert [o["status"] for o in orders] == ["paid", "completed"]
    assert orders[1]["receiver"]["name"] is None  # no plain or masked name: the ciphertext is not a name
    assert orders[1]["receiver"]["platform_cipher"]["name"] == "AgAAAAAAAQBNoXXJ1YB3cG9GVHc4R+WZ"
    assert len(orders[1]["receiver"]["platform_cipher"]["phone"]) > 32  # kept whole for the TDE decrypt
    result = {"searchorderinfo_result": {"orderInfoList": page.orders, "orderTotal": 5}}
    assert ADAPTER.parse_order_list(result, page=2, page_size=2).has_more
    assert not ADAPTER.parse_order_list(result, page=3, page_size=2).has_more


EXPECTED_STATUS = {
    "NOT_PAY": "unpaid", "WAIT_SELLER_STOCK_OUT": "paid", "WAIT_SELLER_DELIVERY": "paid",
    "POP_ORDER_PAUSE": "paid", "PAUSE": "paid", "LOCKED": "paid", "WAIT_SEND_CODE": "paid",
    "WAIT_GOODS_RECEIVE_CONFIRM": "shipped", "FINISHED_L": "completed", "TRADE_CANCELED": "cancelled",
}


@pytest.mark.parametrize(("state", "canonical"), EXPECTED_STATUS.items())
def test_each_order_state_maps_to_its_canonical_status(state, canonical):
    mapped = ADAPTER.to_canonical({**order(), "orderState": state}, shop_code="JD-1")
    assert mapped["status"] == canonical
    CanonicalOrder.model_validate(mapped)


def test_the_status_table_covers_exactly_the_documented_states():
    assert jd_mapping.STATUS == EXPECTED_STATUS


def test_unknown_state_is_a_mapping_error_naming_it():
    assert_unmappable(lambda: ADAPTER.to_canonical(order("unknown_status.json"), shop_code="JD-1"), "orderState",
                      "WAIT_SOMETHING_NEW")


def test_missing_item_price_is_a_mapping_error_naming_the_field():
    assert_unmappable(lambda: ADAPTER.to_canonical(order("missing_fields.json"), shop_code="JD-1"),
                      "itemInfoList.0.jdPrice")


@pytest.mark.parametrize("field", ["orderId", "orderState", "orderStartTime", "modified", "orderPayment",
                                   "itemInfoList", "paymentConfirmTime"])
def test_missing_order_field_is_a_mapping_error_naming_it(field):
    _support.assert_missing_is_named(ADAPTER, order(), field, shop_code="JD-1")


def test_a_zero_payment_time_means_not_paid():
    cancelled = {**order(), "orderState": "TRADE_CANCELED", "paymentConfirmTime": "0001-01-01 00:00:00"}
    assert ADAPTER.to_canonical(cancelled, shop_code="JD-1")["paid_at"] is None
    with pytest.raises(MappingError):
        ADAPTER.to_canonical({**cancelled, "orderState": "WAIT_SELLER_STOCK_OUT"}, shop_code="JD-1")


def test_yuan_strings_become_exact_fen_and_sub_fen_amounts_are_refused():
    item = {"skuId": "1", "jdPrice": "0.10", "itemTotal": "3"}
    mapped = ADAPTER.to_canonical({**order(), "itemInfoList": [item], "orderPayment": "0.30", "balanceUsed": "0"},
                                  shop_code="JD-1")
    assert (mapped["lines"][0]["amount_fen"], mapped["paid_total_fen"]) == (30, 30)
    with pytest.raises(MappingError) as caught:
        ADAPTER.to_canonical({**order(), "orderPayment": "99.701"}, shop_code="JD-1")
    assert caught.value.details["field"] == "orderPayment"


@pytest.mark.parametrize("status", ["paid", "shipped", "completed", "cancelled", "unpaid"])
def test_from_canonical_round_trips_through_to_canonical(status):
    canonical = ADAPTER.to_canonical(order(), shop_code="JD-1")
    canonical["status"] = status
    if status in ("unpaid", "cancelled"):
        canonical["paid_at"] = None
    rendered = ADAPTER.from_canonical(canonical, CREDS)
    assert rendered["venderId"] == "10012345"
    assert ADAPTER.to_canonical(json.loads(json.dumps(rendered)), shop_code="JD-1") == canonical


def test_refunded_renders_as_trade_canceled_and_comes_back_cancelled():
    canonical = {**ADAPTER.to_canonical(order(), shop_code="JD-1"), "status": "refunded"}
    rendered = ADAPTER.from_canonical(canonical, CREDS)
    assert rendered["orderState"] == "TRADE_CANCELED"
    assert ADAPTER.to_canonical(rendered, shop_code="JD-1")["status"] == "cancelled"


# envelope and answers

def test_envelope_and_read_response_round_trip_the_answer():
    call = ADAPTER.order_detail_call(CREDS, "301234567890")
    body = ADAPTER.envelope(call, {"orderDetailInfo": {"orderInfo": order(), "apiResult": {"success": True}}})
    assert list(json.loads(body)) == ["jingdong_pop_order_enGet_responce"]
    assert ADAPTER.parse_order_detail(ADAPTER.read_response(call, 200, body)) == order()
    stock = ADAPTER.stock_call(CREDS, platform_sku_id="100012345678", quantity=3)
    stock_body = ADAPTER.envelope(stock, {"success": True})
    assert list(json.loads(stock_body)) == ["jingdong_stock_write_updateSkuStock_response"]
    assert ADAPTER.read_response(stock, 200, stock_body)["success"] is True


@pytest.mark.parametrize(("message", "retryable"), [("系统繁忙，请稍后再试", True), ("调用次数超限", True),
                                                    ("Service unavailable", True), ("无效的参数", False)])
def test_errors_become_platform_errors_retryable_when_the_platform_is_busy(message, retryable):
    call = ADAPTER.order_detail_call(CREDS, "1")
    body = ADAPTER.envelope(call, None, error=("66", message))
    assert json.loads(body)["error_response"]["zh_desc"] == message
    with pytest.raises(PlatformError) as caught:
        ADAPTER.read_response(call, 200, body)
    assert (caught.value.platform_code, caught.value.retryable) == ("66", retryable)


def test_an_api_result_without_success_is_a_platform_error():
    call = ADAPTER.order_detail_call(CREDS, "1")
    body = ADAPTER.envelope(call, {"orderDetailInfo": {"apiResult": {
        "success": False, "numberCode": 10200001, "chineseErrCode": "订单不存在", "englishErrCode": "no order"}}})
    with pytest.raises(PlatformError) as caught:
        ADAPTER.read_response(call, 200, body)
    assert (caught.value.platform_code, caught.value.retryable) == ("10200001", False)


def test_a_gateway_failure_without_json_is_retryable():
    with pytest.raises(PlatformError) as caught:
        ADAPTER.read_response(Call("jingdong.pop.order.enGet", {}), 504, b"")
    assert caught.value.retryable


# calls

def test_order_list_call_asks_by_modified_time_for_every_state():
    call = ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page=2,
                                   page_size=100)
    assert call.method == "jingdong.pop.order.enSearch"
    assert (call.params["start_date"], call.params["end_date"]) == ("2026-11-25 19:15:05", "2026-11-25 20:15:05")
    assert call.params["dateType"] == 0
    assert set(call.params["order_state"].split(",")) == set(EXPECTED_STATUS) - {"NOT_PAY"}
    assert {"itemInfoList", "consigneeInfo", "modified"} <= set(call.params["optional_fields"].split(","))
    with pytest.raises(Invalid):
        ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(days=31), updated_to=NOW, page=1, page_size=100)


def test_ship_and_stock_calls_name_jds_ids_as_numbers():
    ship = ADAPTER.ship_call(CREDS, platform_order_id="301234567890", waybill_no="JDX1", carrier_code="2087",
                             lines=[])
    assert ship == Call("jingdong.pop.order.shipment", {"orderId": 301234567890, "logiCoprId": "2087",
                                                        "logiNo": "JDX1"})
    stock = ADAPTER.stock_call(CREDS, platform_sku_id="100012345678", quantity=3)
    assert stock == Call("jingdong.stock.write.updateSkuStock", {"skuId": 100012345678, "stockNum": 3})


# server side


@pytest.mark.parametrize("call, served", [
    _support.list_served(ADAPTER, CREDS, NOW, timedelta(days=2), page=3, page_size=20),
    _support.detail_served(ADAPTER, CREDS, "301234567890"),
    (ADAPTER.ship_call(CREDS, platform_order_id="301234567890", waybill_no="SF1", carrier_code="467", lines=[]),
     ServedCall("ship", platform_order_id="301234567890", waybill_no="SF1", carrier_code="467")),
    (ADAPTER.stock_call(CREDS, platform_sku_id="100012345678", quantity=12),
     ServedCall("stock", platform_sku_id="100012345678", quantity=12)),
    (Call("jingdong.jos.master.key.get", {}), ServedCall("other")),
])
def test_sign_check_request_and_read_call_give_back_what_was_asked(call, served):
    _support.assert_served(ADAPTER, CREDS, NOW, call, served)


def test_order_list_and_detail_data_read_back_as_the_same_orders():
    orders = load("order_list.json")["jingdong_pop_order_enSearch_responce"]["searchorderinfo_result"]["orderInfoList"]
    first = _support.list_round_trip(ADAPTER, CREDS, NOW, orders, page=1, page_size=2, total=3)
    assert (first.orders, first.has_more, first.total) == (orders, True, 3)
    last = _support.list_round_trip(ADAPTER, CREDS, NOW, orders[:1], page=2, page_size=2, total=3)
    assert (last.orders, last.has_more, last.total) == (orders[:1], False, 3)
    assert _support.detail_round_trip(ADAPTER, CREDS, "301234567890", order()) == order()


def test_stock_is_set_absolutely_so_nothing_reads_it():
    _support.assert_reads_no_stock(ADAPTER, CREDS)


# access token; no receiver decrypt

TOKEN_CREDS = Credentials(CREDS.app_key, CREDS.app_secret, shop_id=CREDS.shop_id, access_token=CREDS.access_token,
                          refresh_token="jd-refresh-token-0001")


def test_token_refresh_goes_to_jds_oauth_host_with_the_app_key_and_secret():
    request = _support.assert_token_refresh(ADAPTER, TOKEN_CREDS, NOW)
    assert (request.http_method, request.path) == ("GET", "/oauth2/refresh_token")
    assert request.query == {"app_key": CREDS.app_key, "app_secret": CREDS.app_secret,
                             "grant_type": "refresh_token", "refresh_token": TOKEN_CREDS.refresh_token}
    call = ADAPTER.token_refresh_call(TOKEN_CREDS)
    assert ADAPTER.sign(TOKEN_CREDS, call, base_url="https://api.jd.com", now=NOW).url == \
        "https://open-oauth.jd.com/oauth2/refresh_token"
    assert ADAPTER.sign(TOKEN_CREDS, call, base_url="http://sim.local/jd", now=NOW).url == \
        "http://sim.local/jd/oauth2/refresh_token"
    assert ADAPTER.token_refresh_call(CREDS) is None


def test_parse_token_reads_the_flat_oauth_answer_and_a_refusal():
    call = ADAPTER.token_refresh_call(TOKEN_CREDS)
    body = (b'{"access_token":"a","expires_in":31536000,"refresh_token":"r","scope":"snsapi_base","open_id":"o",'
            b'"uid":"u","time":1795608905000,"token_type":"bearer","code":0}')
    assert ADAPTER.parse_token(ADAPTER.read_response(call, 200, body), now=NOW) == \
        Token("a", NOW + timedelta(days=365), "r", None)
    with pytest.raises(PlatformError) as refused:
        ADAPTER.read_response(call, 200, ADAPTER.envelope(call, None, error=("2013", "refresh_token已失效")))
    assert refused.value.platform_code == "2013" and "refresh_token已失效" in refused.value.message


def test_check_request_refuses_an_oauth_call_with_another_secret():
    call = ADAPTER.token_refresh_call(TOKEN_CREDS)
    request = as_incoming(ADAPTER.sign(TOKEN_CREDS, call, base_url="http://sim.local", now=NOW))
    with pytest.raises(BadSignature):
        ADAPTER.check_request(Credentials(CREDS.app_key, "another-secret"), request, now=NOW)


def test_19_is_marked_for_a_refresh():
    _support.assert_token_expired_reads_back(ADAPTER, CREDS, ("19", "token已过期或者不存在，请重新授权访问"))


def test_jd_makes_no_decrypt_call_tde_is_not_built():
    assert ADAPTER.decrypt_batch_size == 0
    assert ADAPTER.decrypt_call(CREDS, [("301234567890", {"name": "TDE-cipher"})]) is None
    with pytest.raises(NotImplementedError, match="TDE"):
        ADAPTER.parse_decrypt({}, items=[])

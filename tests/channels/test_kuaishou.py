"""快手 adapter contract tests against fixtures in the documented shapes (tests/fixtures/kuaishou)."""

import copy
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

import pytest

from baodan.channels.base import (
    Call,
    Credentials,
    Incoming,
    MappingError,
    PlatformError,
    PushNotice,
    ServedCall,
    Token,
)
from baodan.channels.kuaishou import ADAPTER, mapping, signing
from baodan.core.clock import SHANGHAI
from baodan.core.errors import Invalid
from baodan.orders.schemas import CanonicalOrder
from tests.channels import _support
from tests.channels._support import as_incoming, assert_refused, assert_unmappable

MESSAGE_SECRET = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # Base64 of "0123456789abcdef" × 2 (AES-256)
CREDS = Credentials(app_key="ks699183844582124027", app_secret="kS3cr3tAppSecretValue0001", shop_id="1234567890",
                    access_token="ChFvYXV0aC5hY2Nlc3NUb2tlbhJg",
                    extra={"sign_secret": "9f2b6c1d4e8a7b3c5d0e1f2a3b4c5d6e", "message_secret": MESSAGE_SECRET})
NOW = datetime(2026, 11, 25, 20, 15, 3, tzinfo=SHANGHAI)  # unix 1795608903


def fixture(name: str) -> dict:
    return _support.fixture("kuaishou", name)


def detail_order() -> dict:
    return ADAPTER.parse_order_detail(fixture("order_detail.json")["data"])


def push_request(body_file: str = "push.txt") -> Incoming:
    return Incoming("POST", "/webhooks/kuaishou", {}, {"content-type": "text/plain"},
                    _support.fixture_bytes("kuaishou", body_file))


def test_adapter_has_every_member_of_the_contract_with_the_same_parameters():
    _support.assert_conforms(ADAPTER, "kuaishou")
    assert (ADAPTER.has_push, ADAPTER.stock_mode, ADAPTER.max_list_window) == (True, "delta", timedelta(days=7))


# signing


SYSTEM = dict(access_token=CREDS.access_token, app_key=CREDS.app_key, method="open.order.detail",
              param='{"oid":2412345678901234}', timestamp="1795608903000", version="1")


def test_request_sign_matches_hand_computed_values():
    # No SDK test vector exists. Computed outside Python with the recipe of the TypeScript and Go SDKs:
    #   M='access_token=ChFvYXV0aC5hY2Nlc3NUb2tlbhJg&appkey=ks699183844582124027&method=open.order.detail'\
    #     '&param={"oid":2412345678901234}&signMethod=HMAC_SHA256&timestamp=1795608903000&version=1'\
    #     '&signSecret=9f2b6c1d4e8a7b3c5d0e1f2a3b4c5d6e'
    #   printf '%s' "$M" | openssl dgst -sha256 -hmac 9f2b6c1d4e8a7b3c5d0e1f2a3b4c5d6e -binary | base64
    # and for MD5 (signMethod=MD5 in M): printf '%s' "$M" | md5sum, and the variant without "&signSecret=".
    secret = CREDS.extra["sign_secret"]
    assert signing.request_sign(sign_secret=secret, **SYSTEM) == "2gjVMFlWf9X5LemcgrVmU4YbBbOIxebG3akzTHPTmYQ="
    assert signing.request_sign(sign_secret=secret, sign_method="MD5", **SYSTEM) == "3ca83d30b73fca5c457dfa838d7e9652"
    assert signing.md5_sign_secret_appended(sign_secret=secret, **SYSTEM) == "02be1f59971dc74b865262c67f3966dd"


def test_param_string_sorts_top_level_keys_only():
    assert signing.param_string({"b": 1, "a": {"z": 1, "y": "中"}}) == '{"a":{"z":1,"y":"中"},"b":1}'


def test_sign_builds_a_get_for_reads_and_a_form_post_for_writes():
    request = ADAPTER.sign(CREDS, ADAPTER.order_detail_call(CREDS, "2412345678901234"),
                           base_url="https://openapi.kwaixiaodian.com", now=NOW)
    assert request.http_method == "GET" and request.url == "https://openapi.kwaixiaodian.com/open/order/detail"
    assert request.query == {"appkey": CREDS.app_key, "method": "open.order.detail",
                             "access_token": CREDS.access_token, "version": "1", "signMethod": "HMAC_SHA256",
                             "timestamp": "1795608903000", "param": '{"oid":2412345678901234}',
                             "sign": "2gjVMFlWf9X5LemcgrVmU4YbBbOIxebG3akzTHPTmYQ="}
    ship = ADAPTER.sign(CREDS, ADAPTER.ship_call(CREDS, platform_order_id="2412345678901234", waybill_no="SF1",
                                                 carrier_code="4", lines=[]), base_url="http://sim", now=NOW)
    assert ship.http_method == "POST" and ship.url == "http://sim/open/seller/order/goods/deliver" and not ship.query
    form = dict(parse_qsl(ship.body.decode()))
    assert json.loads(form["param"]) == {"expressCode": 4, "expressNo": "SF1", "orderId": 2412345678901234}


@pytest.mark.parametrize("call", [Call("open.order.detail", {"oid": 2412345678901234}),
                                  Call("open.seller.order.goods.deliver", {"orderId": 1, "expressNo": "中通 1+2",
                                                                           "expressCode": 4})])
def test_check_request_accepts_what_sign_produces(call):
    request = ADAPTER.sign(CREDS, call, base_url="http://sim", now=NOW)
    assert ADAPTER.check_request(CREDS, as_incoming(request), now=NOW + timedelta(seconds=5)) == call


def test_check_request_accepts_both_md5_readings():
    for sign in ("3ca83d30b73fca5c457dfa838d7e9652", "02be1f59971dc74b865262c67f3966dd"):
        query = {"appkey": CREDS.app_key, "method": "open.order.detail", "access_token": CREDS.access_token,
                 "version": "1", "signMethod": "MD5", "timestamp": "1795608903000",
                 "param": '{"oid":2412345678901234}', "sign": sign}
        call = ADAPTER.check_request(CREDS, Incoming("GET", "/open/order/detail", query, {}, b""), now=NOW)
        assert call == Call("open.order.detail", {"oid": 2412345678901234})


@pytest.mark.parametrize("tamper", ["param", "sign", "secret", "stale", "path", "token", "sign_method"])
def test_check_request_refuses_a_tampered_call(tamper):
    request = as_incoming(ADAPTER.sign(CREDS, ADAPTER.order_detail_call(CREDS, "2412345678901234"),
                                       base_url="http://sim", now=NOW))
    query, path, creds, now = dict(request.query), request.path, CREDS, NOW
    if tamper == "param":
        query["param"] = '{"oid":2412345678901235}'
    elif tamper == "sign":
        query["sign"] = "A" + query["sign"][1:] if query["sign"][0] != "A" else "B" + query["sign"][1:]
    elif tamper == "secret":
        creds = Credentials(CREDS.app_key, CREDS.app_secret, access_token=CREDS.access_token,
                            extra={"sign_secret": "another"})
    elif tamper == "stale":
        now = NOW - timedelta(minutes=11)
    elif tamper == "path":
        path = "/open/order/cursor/list"
    elif tamper == "token":
        query["access_token"] = "someone-elses-token"
    elif tamper == "sign_method":
        query["signMethod"] = "MD5"  # an HMAC sign presented as MD5
    with pytest.raises(_support.BadSignature):
        ADAPTER.check_request(creds, Incoming("GET", path, query, {}, b""), now=now)


# push


def test_open_push_decrypts_the_openssl_made_push_and_reads_its_notice():
    assert json.loads(_support.fixture_bytes("kuaishou", "push_plaintext.json"))["appKey"] == CREDS.app_key
    (notice,) = ADAPTER.open_push(CREDS, push_request(), now=NOW)
    assert (notice.platform_order_id, notice.kind, notice.platform_shop_id) == ("2412345678901234", "paid",
                                                                                "1234567890")
    assert notice.occurred_at == NOW and notice.raw["info"]["status"] == 30 and notice.order is None


@pytest.mark.parametrize("body_file", ["push_tampered.txt", "push_bad_signature.txt"])
def test_open_push_refuses_a_tampered_push_or_one_made_with_another_key(body_file):
    assert_refused(ADAPTER, CREDS, push_request(body_file), NOW)


def test_open_push_refuses_a_push_for_another_app():
    other = Credentials("ks000000000000000001", "x", extra={"message_secret": MESSAGE_SECRET})
    assert_refused(ADAPTER, other, push_request(), NOW)


def test_nothing_routes_a_push_before_decryption_and_there_is_no_url_check():
    assert ADAPTER.push_route(push_request()) == _support.base.PushRoute()
    assert ADAPTER.handshake(CREDS, push_request()) is None


@pytest.mark.parametrize("notice", [
    PushNotice("2412345678901300", "refund", "1234567890", NOW - timedelta(minutes=3)),
    PushNotice("2412345678901301", "paid", "1234567890", NOW),
    PushNotice("2412345678901302", "cancelled", "1234567890", NOW),
])
def test_sign_push_round_trips_through_open_push(notice):
    request = _support.push_round_trip(ADAPTER, CREDS, NOW, [notice])
    assert_refused(ADAPTER, CREDS, _support.changed(request, body=b"A" + request.body[1:]), NOW)


def test_heartbeats_give_no_notice_and_a_push_holds_one_message():
    heartbeat = PushNotice("2412345678901301", "paid", "1234567890", NOW, raw={"test": True})
    request = as_incoming(ADAPTER.sign_push(CREDS, [heartbeat], url="/hook", now=NOW))
    assert ADAPTER.open_push(CREDS, request, now=NOW) == []
    with pytest.raises(ValueError):
        ADAPTER.sign_push(CREDS, [heartbeat, heartbeat], url="/hook", now=NOW)


def test_push_answers():
    assert json.loads(ADAPTER.push_answer(True).body) == {"result": 1} and ADAPTER.push_answer(True).status == 200
    assert ADAPTER.push_answer(False).status != 200


# mapping


def test_detail_maps_to_the_canonical_order():
    order = ADAPTER.to_canonical(detail_order(), shop_code="KS-FLAGSHIP")
    CanonicalOrder.model_validate(order)
    assert order["status"] == "paid" and order["platform_order_id"] == "2412345678901234"
    assert order["created_at"] == datetime(2026, 11, 25, 20, 14, 51, tzinfo=SHANGHAI)
    assert order["updated_at"] == order["paid_at"] == NOW and order["paid_at"].utcoffset() == timedelta(hours=8)
    assert order["lines"] == [{"platform_line_id": "2412345678901234", "platform_sku_id": "31234567890",
                               "sku_code": "P001-0001", "title": "玻尿酸补水面膜 10片装", "quantity": 2,
                               "unit_price_fen": 4990, "discount_fen": 0, "amount_fen": 9980}]
    assert (order["goods_total_fen"], order["shipping_fee_fen"], order["discount_fen"], order["paid_total_fen"]) == (
        9980, 0, 500, 9480)
    address = detail_order()["orderAddress"]
    assert order["receiver"] == {"name": "张*", "phone": "138****8000", "province": "浙江省", "city": "杭州市",
                                 "district": "西湖区", "town": "文新街道", "address": "文三路****",
                                 "platform_cipher": {"name": address["encryptedConsignee"],
                                                     "phone": address["encryptedMobile"],
                                                     "address": address["encryptedAddress"]}}
    assert order["buyer_nick"] == "快手用户8812345" and order["buyer_message"] == "请尽快发货"


def test_list_page_items_map_and_the_cursor_continues():
    page = ADAPTER.parse_order_list(fixture("order_list.json")["data"], page=1, page_size=50)
    assert page.has_more and page.next_cursor.startswith("MTc5") and not page.ids_only
    unpaid, refunded = (ADAPTER.to_canonical(o, shop_code="KS-FLAGSHIP") for o in page.orders)
    for order in (unpaid, refunded):
        CanonicalOrder.model_validate(order)
    assert unpaid["status"] == "unpaid" and unpaid["paid_at"] is None and unpaid["receiver"]["town"] is None
    assert unpaid["lines"][0]["sku_code"] is None
    assert refunded["status"] == "refunded"  # 订单失败 after a successful refund of the goods
    last = ADAPTER.parse_order_list({"cursor": "nomore", "orderList": []}, page=2, page_size=50)
    assert not last.has_more and last.next_cursor is None


def test_a_partial_refund_leaves_the_order_cancelled():
    raw = fixture("order_list.json")["data"]["orderList"][1]
    raw["orderRefundList"][0]["refundFee"] = 1000
    assert ADAPTER.to_canonical(raw, shop_code="S")["status"] == "cancelled"


@pytest.mark.parametrize("platform_status, canonical", [
    (10, "unpaid"), (30, "paid"), (40, "shipped"), (50, "completed"), (70, "completed"), (80, "cancelled")])
def test_status_table(platform_status, canonical):
    raw = detail_order()
    raw["orderBaseInfo"]["status"] = platform_status
    assert ADAPTER.to_canonical(raw, shop_code="S")["status"] == canonical


def test_rendered_statuses_read_back_through_the_table():
    _support.assert_rendered_statuses_read_back(mapping, refunded_as="cancelled")


def test_unknown_status_is_a_mapping_error_naming_it():
    assert_unmappable(lambda: ADAPTER.to_canonical(fixture("order_unknown_status.json"), shop_code="S"),
                      "orderBaseInfo.status", "unknown kuaishou order status 0")


def test_missing_fields_fixture_names_the_missing_field():
    assert_unmappable(lambda: ADAPTER.to_canonical(fixture("order_missing_fields.json"), shop_code="S"),
                      "orderItemInfo.num")


@pytest.mark.parametrize("path", ["orderBaseInfo.oid", "orderBaseInfo.status", "orderBaseInfo.createTime",
                                  "orderBaseInfo.updateTime", "orderBaseInfo.totalFee", "orderItemInfo.num",
                                  "orderItemInfo.price", "orderItemInfo"])
def test_each_required_field_missing_is_named(path):
    _support.assert_missing_is_named(ADAPTER, detail_order(), path, under=True)


def test_float_and_yuan_amounts_are_refused():
    raw = detail_order()
    raw["orderBaseInfo"]["totalFee"] = 94.8
    with pytest.raises(MappingError, match="totalFee"):
        ADAPTER.to_canonical(raw, shop_code="S")
    raw["orderBaseInfo"]["totalFee"] = "94.80"
    with pytest.raises(MappingError, match="totalFee"):
        ADAPTER.to_canonical(raw, shop_code="S")


def test_from_canonical_round_trips_through_to_canonical():
    original = ADAPTER.to_canonical(detail_order(), shop_code="KS-FLAGSHIP")
    for status in ("unpaid", "paid", "shipped", "completed", "cancelled", "refunded"):
        order = copy.deepcopy(original) | {"status": status}
        order["receiver"]["platform_cipher"] = {"name": "enc-name", "phone": "enc-tel"}
        if status == "unpaid":
            order["paid_at"] = None
        rendered = ADAPTER.from_canonical(order, CREDS)
        assert rendered["orderBaseInfo"]["oid"] == 2412345678901234
        assert ADAPTER.to_canonical(rendered, shop_code="KS-FLAGSHIP") == order


def test_from_canonical_refuses_orders_of_several_lines():
    order = ADAPTER.to_canonical(detail_order(), shop_code="S")
    order["lines"] = order["lines"] * 2
    with pytest.raises(ValueError, match="one item"):
        ADAPTER.from_canonical(order, CREDS)


# calls and envelopes


def test_order_list_call_pages_by_cursor_over_update_time():
    call = ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page=1,
                                   page_size=100)
    assert call == Call("open.order.cursor.list", {"orderViewStatus": 1, "queryType": 2, "sort": 2, "pageSize": 50,
                                                   "beginTime": 1795605303000, "endTime": 1795608903000,
                                                   "cursor": ""})
    later = ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page=2,
                                    page_size=50, cursor="abc")
    assert later.params["cursor"] == "abc"
    with pytest.raises(ValueError, match="cursor"):
        ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page=2, page_size=50)
    with pytest.raises(Invalid, match="7 days"):
        ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(days=8), updated_to=NOW, page=1, page_size=50)


def test_stock_call_sends_the_difference_from_the_current_level():
    call = ADAPTER.stock_call(CREDS, platform_sku_id="31234567890", quantity=7, platform_product_id="21234567890",
                              current=10)
    assert call == Call("open.item.sku.stock.update", {"kwaiItemId": 21234567890, "skuId": 31234567890,
                                                       "skuChangeStock": 3, "changeType": 2})
    with pytest.raises(ValueError, match="delta"):
        ADAPTER.stock_call(CREDS, platform_sku_id="31234567890", quantity=7)


def test_stock_query_reads_the_current_level_of_the_sku_from_the_item():
    query = ADAPTER.stock_query_call(CREDS, platform_sku_id="31234567890", platform_product_id="21234567890")
    assert query == Call("open.item.get", {"kwaiItemId": 21234567890})
    data = {"kwaiItemId": 21234567890, "skuList": [{"kwaiSkuId": 31234567899, "skuStock": 1},
                                                   {"kwaiSkuId": 31234567890, "skuStock": 10}]}
    body = ADAPTER.envelope(query, data)
    assert ADAPTER.parse_stock_query(ADAPTER.read_response(query, 200, body), platform_sku_id="31234567890") == 10
    served = ADAPTER.stock_query_data(platform_sku_id="31234567890", quantity=4)
    assert ADAPTER.parse_stock_query(served, platform_sku_id="31234567890") == 4
    with pytest.raises(MappingError):
        ADAPTER.parse_stock_query(served, platform_sku_id="1")


# server side


@pytest.mark.parametrize("call, served", [
    (ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page_size=20),
     ServedCall("order_list", updated_from=NOW - timedelta(hours=1), updated_to=NOW, page_size=20)),
    (ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page=2, cursor="MTc5"),
     ServedCall("order_list", updated_from=NOW - timedelta(hours=1), updated_to=NOW, cursor="MTc5")),
    _support.detail_served(ADAPTER, CREDS, "2412345678901234"),
    (ADAPTER.ship_call(CREDS, platform_order_id="2412345678901234", waybill_no="SF1", carrier_code="4", lines=[]),
     ServedCall("ship", platform_order_id="2412345678901234", waybill_no="SF1", carrier_code="4")),
    (ADAPTER.stock_call(CREDS, platform_sku_id="31234567890", quantity=7, platform_product_id="21234567890",
                        current=10),
     ServedCall("stock", platform_sku_id="31234567890", platform_product_id="21234567890", quantity=-3)),
    (ADAPTER.stock_query_call(CREDS, platform_sku_id="31234567890", platform_product_id="21234567890"),
     ServedCall("stock_query", platform_product_id="21234567890")),
    (Call("open.order.decrypt.batch", {"batchDecryptList": [{"bizId": 2412345678901234, "encryptedData": "e"}]}),
     ServedCall("decrypt", decrypt_items=(("2412345678901234", "e"),))),
])
def test_sign_check_request_and_read_call_give_back_what_was_asked(call, served):
    _support.assert_served(ADAPTER, CREDS, NOW, call, served)


def test_order_list_and_detail_data_read_back_as_the_same_orders():
    orders = fixture("order_list.json")["data"]["orderList"]
    first = _support.list_round_trip(ADAPTER, CREDS, NOW, orders, page=1, page_size=2, total=3, next_cursor="c2")
    assert (first.orders, first.has_more, first.next_cursor) == (orders, True, "c2")
    last = _support.list_round_trip(ADAPTER, CREDS, NOW, orders[:1], page=2, page_size=2, total=3, cursor="c2")
    assert (last.orders, last.has_more, last.next_cursor) == (orders[:1], False, None)
    assert _support.detail_round_trip(ADAPTER, CREDS, "2412345678901234", detail_order()) == detail_order()


def test_envelope_and_read_response_round_trip():
    call = ADAPTER.order_detail_call(CREDS, "2412345678901234")
    data = fixture("order_detail.json")["data"]
    assert ADAPTER.read_response(call, 200, ADAPTER.envelope(call, data)) == data
    assert ADAPTER.read_response(call, 200, _support.fixture_bytes("kuaishou", "order_detail.json")) == data


@pytest.mark.parametrize("error, retryable", [(("isp.rate-limit", "调用频率超限，请稍后重试"), True),
                                              (("28", "access_token已过期"), False),
                                              (("isv.param-invalid", "参数错误"), False)])
def test_error_envelope_reads_back_as_platform_error(error, retryable):
    assert json.loads(ADAPTER.envelope(ADAPTER.order_detail_call(CREDS, "1"), None, error=error))["result"] != 1
    _support.assert_error_reads_back(ADAPTER, CREDS, error, retryable)


def test_http_errors_are_retryable():
    with pytest.raises(PlatformError) as caught:
        ADAPTER.read_response(Call("open.order.detail", {}), 502, b"bad gateway")
    assert caught.value.retryable


# access token and receiver decrypt

TOKEN_CREDS = Credentials(CREDS.app_key, CREDS.app_secret, shop_id=CREDS.shop_id, access_token=CREDS.access_token,
                          extra=CREDS.extra, refresh_token="ChJvYXV0aC5yZWZyZXNoVG9rZW4")


def test_token_refresh_posts_the_app_id_secret_and_refresh_token_as_a_form():
    request = _support.assert_token_refresh(ADAPTER, TOKEN_CREDS, NOW)
    assert request.http_method == "POST" and request.path == "/oauth2/refresh_token"
    assert dict(parse_qsl(request.body.decode())) == {
        "app_id": CREDS.app_key, "app_secret": CREDS.app_secret, "grant_type": "refresh_token",
        "refresh_token": TOKEN_CREDS.refresh_token}


def test_parse_token_reads_both_lifetimes_from_the_flat_answer():
    call = ADAPTER.token_refresh_call(TOKEN_CREDS)
    assert call is not None and ADAPTER.token_refresh_call(CREDS) is None
    body = (b'{"result":1,"access_token":"a","refresh_token":"r","expires_in":172800,'
            b'"refresh_token_expires_in":15552000,"open_id":"o","scopes":["merchant_order"]}')
    token = ADAPTER.parse_token(ADAPTER.read_response(call, 200, body), now=NOW)
    assert token == Token("a", NOW + timedelta(hours=48), "r", NOW + timedelta(days=180))
    with pytest.raises(PlatformError) as refused:
        ADAPTER.read_response(call, 200, b'{"result":0,"error":"invalid_grant","error_msg":"refresh_token expired"}')
    assert refused.value.platform_code == "invalid_grant" and not refused.value.token_expired


def test_token_expired_answers_are_marked_for_a_refresh():
    _support.assert_token_expired_reads_back(ADAPTER, CREDS, ("28", "access_token已过期"))


def test_batch_decrypt_reads_each_field_back_by_order_and_ciphertext():
    items = [("2412345678901234", {"name": "c-name", "phone": "c-phone", "address": "c-address"}),
             ("2412345678901235", {"phone": "c-phone-2"})]
    clear = {"2412345678901234": {"name": "李四", "phone": "13700137000", "address": "天河路 385 号 1201 室"},
             "2412345678901235": {"phone": "13600136000"}}
    call = ADAPTER.decrypt_call(CREDS, items)
    assert call is not None and call.params["batchDecryptList"][0] == {"bizId": 2412345678901234,
                                                                      "encryptedData": "c-name"}
    opened = _support.decrypt_round_trip(ADAPTER, CREDS, NOW, items, clear, refused="2412345678901235")
    assert opened["2412345678901234"] == clear["2412345678901234"] and "error" in opened["2412345678901235"]
    assert 3 * ADAPTER.decrypt_batch_size <= 100

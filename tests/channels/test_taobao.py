"""Contract tests of the 淘宝/天猫 (TOP) adapter against payloads in TOP's documented shapes."""

from __future__ import annotations

import hashlib
import hmac
import json
from copy import deepcopy
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

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
from baodan.channels.taobao import ADAPTER
from baodan.channels.taobao import mapping as tb_mapping
from baodan.channels.taobao.signing import sign_params
from baodan.core.clock import SHANGHAI
from baodan.core.errors import Invalid
from baodan.orders.schemas import CanonicalOrder
from tests.channels import _support
from tests.channels._support import as_incoming, assert_refused, assert_unmappable

CREDS = Credentials(app_key="23456789", app_secret="tb-test-secret", shop_id="2200123456789",
                    access_token="6100a1b2c3d4e5f6session")
NOW = datetime(2026, 11, 25, 20, 15, 5, tzinfo=SHANGHAI)
# sign of the relayed TMC message fixture, computed by hand from the recipe:
# MD5("tb-test-secret" + "app_key23456789" + "sign_methodmd5" + "timestamp2026-11-25 20:15:05" + <file bytes>
#     + "tb-test-secret"), upper-case hex
RELAY_QUERY = {"app_key": "23456789", "sign_method": "md5", "timestamp": "2026-11-25 20:15:05",
               "sign": "23F05F4F0E48B590741ACB6DD3B02CEB"}


def load(name: str) -> dict:
    return _support.fixture("taobao", name)


def trade(name: str = "order_detail.json") -> dict:
    return ADAPTER.parse_order_detail(load(name)["trade_fullinfo_get_response"])


def incoming(body: bytes, query: dict[str, str], content_type: str = "application/json") -> Incoming:
    return Incoming("POST", "/webhooks/taobao", query, {"content-type": content_type}, body)


def test_adapter_has_every_member_of_the_contract_with_the_same_parameters():
    _support.assert_conforms(ADAPTER, "taobao")
    assert (ADAPTER.has_push, ADAPTER.stock_mode, ADAPTER.max_list_window) == (True, "absolute", timedelta(days=1))


# signing

SDK_VECTOR = {
    "method": "taobao.item.seller.get", "app_key": "12345678", "session": "test",
    "timestamp": "2016-01-01 12:00:00", "format": "json", "v": "2.0", "sign_method": "md5",
    "fields": "num_iid,title,nick,price,num", "num_iid": "11223344",
}


def test_md5_sign_matches_the_vector_of_a_public_top_sdk_test():
    # secret "helloworld", expected value from a public Python TOP SDK's unit test (taobao.api TaoBao.comm.sign)
    assert sign_params(SDK_VECTOR, "helloworld", "md5") == "66987CB115214E59E6EC978214934FB8"


def test_hmac_signs_the_joined_parameters_without_wrapping_them_in_the_secret():
    # hand-computed: HMAC-MD5(key="helloworld", "app_key12345678fields...v2.0") with the standard library
    assert sign_params(SDK_VECTOR, "helloworld", "hmac") == "B4DDA503460D60A86B16E950E5D303E9"
    joined = "".join(k + SDK_VECTOR[k] for k in sorted(SDK_VECTOR)).encode()
    assert sign_params(SDK_VECTOR, "helloworld", "hmac-sha256") == \
        hmac.new(b"helloworld", joined, hashlib.sha256).hexdigest().upper()


def test_sign_leaves_out_empty_values_and_the_sign_itself():
    assert sign_params({**SDK_VECTOR, "buyer_nick": "", "sign": "X"}, "helloworld") == \
        "66987CB115214E59E6EC978214934FB8"


def test_sign_posts_system_params_in_the_query_and_business_params_in_the_form_body():
    call = ADAPTER.order_detail_call(CREDS, "3741029384756120011")
    request = ADAPTER.sign(CREDS, call, base_url="https://gw.api.taobao.com/", now=NOW)
    assert (request.http_method, request.url) == ("POST", "https://gw.api.taobao.com/router/rest")
    assert request.query["method"] == "taobao.trade.fullinfo.get"
    assert request.query["session"] == CREDS.access_token
    assert request.query["timestamp"] == "2026-11-25 20:15:05"
    body = dict(parse_qsl(request.body.decode()))
    assert body["tid"] == "3741029384756120011"
    unsigned = {k: v for k, v in {**request.query, **body}.items() if k != "sign"}
    joined = "".join(k + unsigned[k] for k in sorted(unsigned))
    assert request.query["sign"] == hashlib.md5(f"tb-test-secret{joined}tb-test-secret".encode()).hexdigest().upper()


def test_check_request_accepts_what_sign_produces_and_returns_the_call():
    call = Call("taobao.trades.sold.increment.get", {"fields": "tid,status", "page_no": 2, "use_has_next": True})
    request = ADAPTER.sign(CREDS, call, base_url="http://sim", now=NOW)
    checked = ADAPTER.check_request(CREDS, as_incoming(request), now=NOW + timedelta(minutes=3))
    assert checked == Call("taobao.trades.sold.increment.get",
                           {"fields": "tid,status", "page_no": "2", "use_has_next": "true"})


@pytest.mark.parametrize("sign_method", ["hmac", "hmac-sha256"])
def test_check_request_accepts_the_other_sign_methods(sign_method):
    creds = Credentials("23456789", "tb-test-secret", access_token="s", extra={"sign_method": sign_method})
    request = ADAPTER.sign(creds, Call("taobao.trade.fullinfo.get", {"tid": "1"}), base_url="http://sim", now=NOW)
    assert request.query["sign_method"] == sign_method
    assert ADAPTER.check_request(creds, as_incoming(request), now=NOW).params == {"tid": "1"}


def test_check_request_accepts_the_epoch_milliseconds_timestamp_of_the_python_sdk():
    params = {"method": "taobao.trade.fullinfo.get", "app_key": "23456789", "session": CREDS.access_token,
              "timestamp": str(int(NOW.timestamp() * 1000)), "v": "2.0", "format": "json", "tid": "1"}
    params["sign"] = sign_params(params, "tb-test-secret")
    assert ADAPTER.check_request(CREDS, incoming(b"", params), now=NOW).method == "taobao.trade.fullinfo.get"


def test_check_request_refuses_a_tampered_parameter():
    request = ADAPTER.sign(CREDS, Call("taobao.trade.fullinfo.get", {"tid": "1"}), base_url="http://sim", now=NOW)
    tampered = as_incoming(request)
    tampered = Incoming(tampered.http_method, tampered.path, tampered.query, tampered.headers, b"tid=2")
    with pytest.raises(BadSignature):
        ADAPTER.check_request(CREDS, tampered, now=NOW)


@pytest.mark.parametrize("now", [NOW + timedelta(minutes=11), NOW - timedelta(minutes=11)])
def test_check_request_refuses_a_timestamp_more_than_ten_minutes_off(now):
    request = ADAPTER.sign(CREDS, Call("taobao.trade.fullinfo.get", {"tid": "1"}), base_url="http://sim", now=NOW)
    with pytest.raises(BadSignature, match="10 minutes"):
        ADAPTER.check_request(CREDS, as_incoming(request), now=now)


def test_check_request_refuses_another_app_or_another_shops_session():
    request = ADAPTER.sign(CREDS, Call("taobao.trade.fullinfo.get", {"tid": "1"}), base_url="http://sim", now=NOW)
    with pytest.raises(BadSignature):
        ADAPTER.check_request(Credentials("99999999", "tb-test-secret", access_token=CREDS.access_token),
                              as_incoming(request), now=NOW)
    with pytest.raises(BadSignature):
        ADAPTER.check_request(Credentials("23456789", "tb-test-secret", access_token="other"),
                              as_incoming(request), now=NOW)


# push (the TMC relay)

def relayed(name: str = "tmc_trade_buyer_pay.json", query: dict[str, str] = RELAY_QUERY) -> Incoming:
    return incoming(_support.fixture_bytes("taobao", name), query)


def test_open_push_verifies_the_relayed_message_and_reads_the_order_it_names():
    [notice] = ADAPTER.open_push(CREDS, relayed(), now=NOW)
    assert notice.platform_order_id == "3741029384756120011"
    assert notice.kind == "paid"
    assert notice.platform_shop_id == "2200123456789"
    assert notice.occurred_at == datetime(2026, 11, 25, 20, 15, 4, tzinfo=SHANGHAI)
    assert notice.raw["content"]["status"] == "WAIT_SELLER_SEND_GOODS" and notice.order is None
    assert ADAPTER.push_route(relayed()) == PushRoute(app_key="23456789", platform_shop_id="2200123456789")
    assert ADAPTER.handshake(CREDS, relayed()) is None


def test_open_push_refuses_a_tampered_message_another_app_no_sign_or_a_stale_relay():
    assert_refused(ADAPTER, CREDS, relayed("tmc_bad_signature.json"), NOW)
    assert_refused(ADAPTER, CREDS, relayed(query={**RELAY_QUERY, "app_key": "99999999"}), NOW)
    assert_refused(ADAPTER, CREDS, relayed(query={k: v for k, v in RELAY_QUERY.items() if k != "sign"}), NOW)
    assert_refused(ADAPTER, CREDS, relayed(), NOW + timedelta(minutes=11))


def test_sign_push_round_trips_through_open_push_and_skips_other_topics():
    notices = [PushNotice("3741029384756120011", "refund", "2200123456789", NOW - timedelta(minutes=1)),
               PushNotice("3741029384756120012", "shipped", "2200123456789", NOW)]
    request = _support.push_round_trip(ADAPTER, CREDS, NOW, notices)
    assert ADAPTER.push_route(request) == PushRoute(app_key="23456789", platform_shop_id="2200123456789")
    assert_refused(ADAPTER, CREDS, _support.changed(request, body=request.body.replace(b"0011", b"0013")), NOW)
    assert_refused(ADAPTER, CREDS, request, NOW + timedelta(minutes=11))
    item = PushNotice("1", "other", raw={"topic": "taobao_item_ItemUpdate"})
    single = as_incoming(ADAPTER.sign_push(CREDS, [item], url="/hook", now=NOW))
    assert ADAPTER.open_push(CREDS, single, now=NOW) == []


def test_push_answer_is_2xx_only_when_the_message_was_kept():
    assert ADAPTER.push_answer(True).status == 200
    assert ADAPTER.push_answer(False).status >= 500


# mapping

def test_detail_maps_to_a_valid_canonical_order_in_fen():
    order = ADAPTER.to_canonical(trade(), shop_code="TB-FLAGSHIP")
    CanonicalOrder.model_validate(order)
    assert order["platform_order_id"] == "3741029384756120011"
    assert order["status"] == "paid"
    assert order["updated_at"] == datetime(2026, 11, 25, 20, 15, 3, tzinfo=SHANGHAI)
    assert order["updated_at"].utcoffset() == timedelta(hours=8)
    first, second = order["lines"]
    assert first == {"platform_line_id": "3741029384757120011", "platform_sku_id": "5012345678901",
                     "sku_code": "P001-0001", "title": "玻尿酸补水面膜 10片装", "quantity": 2,
                     "unit_price_fen": 4990, "discount_fen": 500, "amount_fen": 9480}
    assert (second["platform_sku_id"], second["sku_code"], second["amount_fen"]) == ("680012349999", "P004-0004", 8900)
    assert (order["goods_total_fen"], order["shipping_fee_fen"], order["discount_fen"], order["paid_total_fen"]) == \
        (18380, 0, 1000, 17380)
    assert order["receiver"] == {"name": "张**", "phone": "*******8000", "province": "浙江省", "city": "杭州市",
                                 "district": "西湖区", "town": "文新街道", "address": "文三路**号**幢***室",
                                 "platform_cipher": {"oaid": trade()["oaid"]}}
    assert order["buyer_message"] == "请尽快发货"


def test_list_page_maps_every_trade():
    page = ADAPTER.parse_order_list(load("order_list.json")["trades_sold_increment_get_response"], page=1,
                                    page_size=40)
    assert (len(page.orders), page.has_more, page.total) == (2, False, 2)
    orders = [ADAPTER.to_canonical(t, shop_code="TB-FLAGSHIP") for t in page.orders]
    for order in orders:
        CanonicalOrder.model_validate(order)
    assert [o["status"] for o in orders] == ["paid", "completed"]
    assert orders[1]["paid_total_fen"] == 1230
    assert orders[0]["receiver"] is None  # the list trade is partial
    assert orders[0]["buyer_nick"] == "AAHk5d-EAAeGwJedwSHRpNZR"


EXPECTED_STATUS = {
    "WAIT_BUYER_PAY": "unpaid", "TRADE_NO_CREATE_PAY": "unpaid", "PAY_PENDING": "unpaid",
    "WAIT_PRE_AUTH_CONFIRM": "unpaid", "WAIT_SELLER_SEND_GOODS": "paid", "SELLER_CONSIGNED_PART": "paid",
    "WAIT_BUYER_CONFIRM_GOODS": "shipped", "TRADE_BUYER_SIGNED": "completed", "TRADE_FINISHED": "completed",
    "TRADE_CLOSED": "refunded", "TRADE_CLOSED_BY_TAOBAO": "cancelled",
}


@pytest.mark.parametrize(("platform_status", "canonical"), EXPECTED_STATUS.items())
def test_each_trade_status_maps_to_its_canonical_status(platform_status, canonical):
    order = ADAPTER.to_canonical({**trade(), "status": platform_status}, shop_code="TB")
    assert order["status"] == canonical
    CanonicalOrder.model_validate(order)


def test_the_status_table_covers_exactly_the_documented_statuses():
    assert tb_mapping.STATUS == EXPECTED_STATUS


def test_unknown_status_is_a_mapping_error_naming_it():
    assert_unmappable(lambda: ADAPTER.to_canonical(trade("unknown_status.json"), shop_code="TB"), "status",
                      "TRADE_WAIT_SOMETHING_NEW")


def test_missing_sub_order_quantity_is_a_mapping_error_naming_the_field():
    assert_unmappable(lambda: ADAPTER.to_canonical(trade("missing_fields.json"), shop_code="TB"),
                      "orders.order.0.num")


@pytest.mark.parametrize("field", ["tid", "status", "created", "modified", "payment", "pay_time", "orders"])
def test_missing_trade_field_is_a_mapping_error_naming_it(field):
    _support.assert_missing_is_named(ADAPTER, trade(), field, shop_code="TB", under=True)


def test_unpaid_trade_needs_no_pay_time():
    broken = {**trade(), "status": "WAIT_BUYER_PAY"}
    del broken["pay_time"]
    assert ADAPTER.to_canonical(broken, shop_code="TB")["paid_at"] is None


def test_yuan_strings_become_exact_fen_and_sub_fen_amounts_are_refused():
    sub = {"oid": 1, "sku_id": "1", "price": "0.10", "num": 3, "payment": "0.30"}
    order = ADAPTER.to_canonical({**trade(), "orders": {"order": [sub]}, "payment": "0.30"}, shop_code="TB")
    assert order["lines"][0]["amount_fen"] == 30  # float arithmetic would give 0.30000000000000004
    assert order["paid_total_fen"] == 30
    for bad in ("19.999", 19.99):
        with pytest.raises(MappingError) as caught:
            ADAPTER.to_canonical({**trade(), "payment": bad}, shop_code="TB")
        assert caught.value.details["field"] == "payment"


@pytest.mark.parametrize("status", ["paid", "refunded", "unpaid", "shipped"])
def test_from_canonical_round_trips_through_to_canonical(status):
    canonical = ADAPTER.to_canonical(trade(), shop_code="TB-FLAGSHIP")
    canonical["status"] = status
    if status == "unpaid":
        canonical["paid_at"] = None
    rendered = ADAPTER.from_canonical(canonical, CREDS)
    assert isinstance(rendered["tid"], int)
    assert rendered["payment"] == "173.80"
    assert ADAPTER.to_canonical(json.loads(json.dumps(rendered)), shop_code="TB-FLAGSHIP") == canonical


def test_from_canonical_reads_canonical_times_given_as_text():
    canonical = ADAPTER.to_canonical(trade(), shop_code="TB")
    canonical.update(created_at="2026-11-25T12:14:51+00:00", updated_at="2026-11-25T20:15:03", paid_at=None,
                     status="unpaid")
    rendered = ADAPTER.from_canonical(canonical, CREDS)
    assert (rendered["created"], rendered["modified"]) == ("2026-11-25 20:14:51", "2026-11-25 20:15:03")


# envelope and answers

def test_envelope_and_read_response_round_trip_the_answer():
    call = ADAPTER.order_detail_call(CREDS, "3741029384756120011")
    body = ADAPTER.envelope(call, {"trade": trade()})
    assert list(json.loads(body)) == ["trade_fullinfo_get_response"]
    assert ADAPTER.parse_order_detail(ADAPTER.read_response(call, 200, body)) == trade()


@pytest.mark.parametrize(("code", "retryable"), [("7", True), ("10", True), ("isp.remote-service-timeout", True),
                                                 ("isv.invalid-parameter", False), ("27", False)])
def test_errors_become_platform_errors_retryable_when_the_platform_is_busy(code, retryable):
    call = ADAPTER.order_detail_call(CREDS, "1")
    body = ADAPTER.envelope(call, None, error=(code, "message"))
    assert "error_response" in json.loads(body)
    with pytest.raises(PlatformError) as caught:
        ADAPTER.read_response(call, 200, body)
    assert caught.value.platform_code == code
    assert caught.value.retryable is retryable


def test_a_gateway_failure_without_json_is_retryable():
    with pytest.raises(PlatformError) as caught:
        ADAPTER.read_response(Call("taobao.trade.fullinfo.get", {}), 502, b"<html>Bad Gateway</html>")
    assert caught.value.retryable


def test_answer_for_another_method_is_refused():
    body = ADAPTER.envelope(Call("taobao.trade.fullinfo.get", {}), {"trade": {}})
    with pytest.raises(PlatformError):
        ADAPTER.read_response(Call("taobao.trades.sold.increment.get", {}), 200, body)


# calls

def test_order_list_call_asks_by_update_time_within_one_day():
    call = ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(minutes=30), updated_to=NOW, page=1,
                                   page_size=100)
    assert call.method == "taobao.trades.sold.increment.get"
    assert call.params["start_modified"] == "2026-11-25 19:45:05"
    assert call.params["end_modified"] == "2026-11-25 20:15:05"
    assert "orders" in call.params["fields"].split(",")
    with pytest.raises(Invalid):
        ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(days=2), updated_to=NOW, page=1, page_size=40)
    with pytest.raises(Invalid):
        ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page=1, page_size=101)


def test_ship_call_splits_by_sub_order_only_when_lines_are_named():
    whole = ADAPTER.ship_call(CREDS, platform_order_id="1", waybill_no="SF100", carrier_code="SF", lines=[])
    assert whole == Call("taobao.logistics.offline.send", {"tid": "1", "out_sid": "SF100", "company_code": "SF"})
    split = ADAPTER.ship_call(CREDS, platform_order_id="1", waybill_no="SF100", carrier_code="SF",
                              lines=[{"platform_line_id": "11"}, {"platform_line_id": "12"}])
    assert (split.params["sub_tid"], split.params["is_split"]) == ("11,12", 1)


def test_stock_call_is_a_full_update_of_the_sku_and_needs_the_item_id():
    call = ADAPTER.stock_call(CREDS, platform_sku_id="5012345678901", quantity=7, platform_product_id="680012345678")
    assert call == Call("taobao.item.quantity.update",
                        {"num_iid": "680012345678", "sku_id": "5012345678901", "quantity": 7, "type": 1})
    with pytest.raises(Invalid):
        ADAPTER.stock_call(CREDS, platform_sku_id="5012345678901", quantity=7)


def test_round_trip_keeps_the_fixture_unchanged_where_taobao_has_the_field():
    original = deepcopy(trade())
    rendered = ADAPTER.from_canonical(ADAPTER.to_canonical(original, shop_code="TB"), CREDS)
    for key in ("tid", "status", "created", "modified", "pay_time", "payment", "post_fee", "receiver_name",
                "receiver_address", "buyer_message"):
        assert rendered[key] == original[key], key


# server side


@pytest.mark.parametrize("call, served", [
    _support.list_served(ADAPTER, CREDS, NOW, timedelta(hours=1), page=3, page_size=20),
    _support.detail_served(ADAPTER, CREDS, "3741029384756120011"),
    (ADAPTER.ship_call(CREDS, platform_order_id="3741029384756120011", waybill_no="SF1", carrier_code="SF",
                       lines=[{"platform_line_id": "3741029384757120011"}]),
     ServedCall("ship", platform_order_id="3741029384756120011", waybill_no="SF1", carrier_code="SF",
                lines=("3741029384757120011",))),
    (ADAPTER.stock_call(CREDS, platform_sku_id="5012345678901", quantity=12, platform_product_id="680012345678"),
     ServedCall("stock", platform_sku_id="5012345678901", platform_product_id="680012345678", quantity=12)),
    (Call("taobao.top.oaid.decrypt", {"query_list": [{"oaid": "x", "tid": "1"}]}),
     ServedCall("decrypt", decrypt_items=(("1", "x"),))),
    (Call("taobao.top.auth.token.create", {"code": "c"}), ServedCall("token")),
])
def test_sign_check_request_and_read_call_give_back_what_was_asked(call, served):
    _support.assert_served(ADAPTER, CREDS, NOW, call, served)


def test_order_list_and_detail_data_read_back_as_the_same_orders():
    orders = load("order_list.json")["trades_sold_increment_get_response"]["trades"]["trade"]
    first = _support.list_round_trip(ADAPTER, CREDS, NOW, orders, page=1, page_size=2, total=3)
    assert (first.orders, first.has_more, first.total) == (orders, True, 3)
    last = _support.list_round_trip(ADAPTER, CREDS, NOW, orders[:1], page=2, page_size=2, total=3)
    assert (last.orders, last.has_more, last.total) == (orders[:1], False, 3)
    assert _support.detail_round_trip(ADAPTER, CREDS, "3741029384756120011", trade()) == trade()


def test_stock_is_set_absolutely_so_nothing_reads_it():
    _support.assert_reads_no_stock(ADAPTER, CREDS)


# access token and receiver decrypt

TOKEN_CREDS = Credentials(CREDS.app_key, CREDS.app_secret, shop_id=CREDS.shop_id, access_token=CREDS.access_token,
                          refresh_token="6201d2e3f4refresh")


def test_token_refresh_is_signed_without_the_session():
    request = _support.assert_token_refresh(ADAPTER, TOKEN_CREDS, NOW)
    assert request.query["method"] == "taobao.top.auth.token.refresh" and "session" not in request.query
    assert dict(parse_qsl(request.body.decode())) == {"refresh_token": TOKEN_CREDS.refresh_token}
    assert ADAPTER.token_refresh_call(CREDS) is None


def test_parse_token_reads_the_token_result_json_text():
    result = {"access_token": "a", "token_type": "Bearer", "expires_in": 86400, "refresh_token": "r",
              "re_expires_in": 2592000, "taobao_user_nick": "店"}
    body = json.dumps({"top_auth_token_refresh_response": {"token_result": json.dumps(result)}}).encode()
    call = ADAPTER.token_refresh_call(TOKEN_CREDS)
    token = ADAPTER.parse_token(ADAPTER.read_response(call, 200, body), now=NOW)
    assert token == Token("a", NOW + timedelta(days=1), "r", NOW + timedelta(days=30))
    with pytest.raises(PlatformError):
        ADAPTER.parse_token({"token_result": "not json"}, now=NOW)


@pytest.mark.parametrize("error", [("27", "Invalid session"), ("invalid-sessionkey", "SessionKey非法"),
                                   ("isv.invalid-sessionkey", "SessionKey非法")])
def test_an_invalid_session_is_marked_for_a_refresh(error):
    _support.assert_token_expired_reads_back(ADAPTER, CREDS, error)


def test_oaid_decrypt_sends_oaid_and_tid_and_reads_whole_receivers():
    items = [("3741029384756120011", {"oaid": "1bhibPTekQ9Vico6BC"}), ("3741029384756120012", {"oaid": "2xyz"}),
             ("3741029384756120013", {"name": "not an oaid"})]
    call = ADAPTER.decrypt_call(CREDS, items)
    assert call is not None and call.params["query_list"] == [
        {"oaid": "1bhibPTekQ9Vico6BC", "tid": 3741029384756120011, "scene": "1006"},
        {"oaid": "2xyz", "tid": 3741029384756120012, "scene": "1006"}]
    clear = {"3741029384756120011": {"name": "赵六", "phone": "13400134000", "address": "中山北路 30 号 8 栋 601",
                                     "province": "江苏省", "city": "南京市", "district": "鼓楼区"},
             "3741029384756120012": {"name": "钱七"}}
    opened = _support.decrypt_round_trip(ADAPTER, CREDS, NOW, items, clear, refused="3741029384756120012")
    assert opened["3741029384756120011"] == clear["3741029384756120011"]
    assert "error" in opened["3741029384756120012"] and "3741029384756120013" not in opened
    with pytest.raises(ValueError):
        ADAPTER.decrypt_call(CREDS, [(str(i), {"oaid": "o"}) for i in range(21)])


def test_a_sub_order_refunded_before_shipping_reads_as_a_refunded_line():
    canonical = ADAPTER.to_canonical(trade(), shop_code="TB-FLAGSHIP") | {"status": "paid"}
    canonical["lines"][0]["refunded"] = True
    rendered = ADAPTER.from_canonical(canonical, CREDS)
    assert rendered["orders"]["order"][0]["refund_status"] == "SUCCESS"
    assert ADAPTER.to_canonical(json.loads(json.dumps(rendered)), shop_code="TB-FLAGSHIP") == canonical

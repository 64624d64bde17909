"""微信小店 adapter contract tests against fixtures in the documented shapes (tests/fixtures/wechat)."""

import copy
import json
from datetime import datetime, timedelta

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
from baodan.channels.wechat import ADAPTER, mapping, signing
from baodan.core.clock import SHANGHAI
from baodan.core.errors import Invalid
from baodan.orders.schemas import CanonicalOrder
from tests.channels import _support
from tests.channels._support import as_incoming, assert_refused, assert_unmappable, changed

CREDS = Credentials(app_key="wxa1b2c3d4e5f60718", app_secret="3c5e7a9b1d2f4a6c8e0b1d3f5a7c9e1b",
                    access_token="79_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8",
                    extra={"token": "baodanPushToken2026",
                           "encoding_aes_key": "Zk3Q9mP2xV7bN4cR8tY1uW6sA5dF0gH3jK9lL2eD7qB",
                           "original_id": "gh_1a2b3c4d5e6f"})
NOW = datetime(2026, 11, 25, 20, 15, 3, tzinfo=SHANGHAI)  # unix 1795608903


def fixture(name: str) -> dict:
    return _support.fixture("wechat", name)


def detail_order() -> dict:
    return ADAPTER.parse_order_detail(ADAPTER.read_response(Call("/channels/ec/order/get", {}), 200,
                                                            _support.fixture_bytes("wechat", "order_detail.json")))


def push_request(body_file: str = "push.json", query_file: str = "push_query.json") -> Incoming:
    return Incoming("POST", "/webhooks/wechat", fixture(query_file), {"content-type": "application/json"},
                    _support.fixture_bytes("wechat", body_file))


def test_adapter_has_every_member_of_the_contract_with_the_same_parameters():
    _support.assert_conforms(ADAPTER, "wechat")
    assert (ADAPTER.has_push, ADAPTER.stock_mode, ADAPTER.max_list_window) == (True, "absolute", timedelta(days=7))


# signing: the official WeChat sample (WXBizMsgCrypt Sample, reproduced in e.g. fotock/WXbizMsgCrypt-Node)

SAMPLE_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2Ld"
    "JF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5"
    "VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXg"
    "CSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9G"
    "hglF2PE=")


def test_msg_signature_and_decryption_match_the_official_sample_vector():
    assert signing.signature("spamtest", "1409735669", "1320562132", SAMPLE_ENCRYPT) == (
        "5d197aaffba7e9b25a30732f161a50dee96bd5fa")
    message, appid = signing.decrypt(SAMPLE_ENCRYPT, SAMPLE_AES_KEY)
    assert appid == "wx2c2769f8efd9abc2"
    assert message.startswith(b"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>")
    assert b"<Content><![CDATA[abcdteT]]></Content>" in message and message.endswith(b"</xml>")


def test_encrypt_is_what_decrypt_opens():
    encrypted = signing.encrypt("订单 ok".encode(), SAMPLE_AES_KEY, "wx2c2769f8efd9abc2", b"0123456789abcdef")
    assert signing.decrypt(encrypted, SAMPLE_AES_KEY) == ("订单 ok".encode(), "wx2c2769f8efd9abc2")


def test_sign_posts_json_with_the_access_token():
    request = ADAPTER.sign(CREDS, ADAPTER.order_detail_call(CREDS, "3705115058471208928"),
                           base_url="https://api.weixin.qq.com/", now=NOW)
    assert (request.http_method, request.url) == ("POST", "https://api.weixin.qq.com/channels/ec/order/get")
    assert request.query == {"access_token": CREDS.access_token}
    assert request.body == b'{"order_id":"3705115058471208928"}'


def test_check_request_accepts_what_sign_produces_and_refuses_another_token():
    call = ADAPTER.stock_call(CREDS, platform_sku_id="1751234567", quantity=12, platform_product_id="10000029995861")
    request = as_incoming(ADAPTER.sign(CREDS, call, base_url="http://sim", now=NOW))
    assert ADAPTER.check_request(CREDS, request, now=NOW) == call
    for query in ({"access_token": "79_someone_else"}, {}):
        with pytest.raises(BadSignature):
            ADAPTER.check_request(CREDS, Incoming("POST", request.path, query, {}, request.body), now=NOW)


# push


def test_open_push_verifies_decrypts_and_reads_the_openssl_made_push():
    (notice,) = ADAPTER.open_push(CREDS, push_request(), now=NOW)
    assert (notice.platform_order_id, notice.kind, notice.occurred_at) == ("3705115058471208928", "paid", NOW)
    assert notice.platform_shop_id == "gh_1a2b3c4d5e6f" and notice.order is None
    assert notice.raw == fixture("push_plaintext.json")


@pytest.mark.parametrize("body_file, query_file", [("push_tampered.json", "push_query.json"),
                                                   ("push.json", "push_bad_signature_query.json")])
def test_open_push_refuses_a_tampered_body_or_a_bad_signature(body_file, query_file):
    assert_refused(ADAPTER, CREDS, push_request(body_file, query_file), NOW)


def test_open_push_refuses_a_push_encrypted_for_another_appid_or_signed_too_long_ago():
    other = Credentials("wx0000000000000000", "x", extra=CREDS.extra)
    with pytest.raises(BadSignature, match="another appid"):
        ADAPTER.open_push(other, push_request(), now=NOW)
    assert_refused(ADAPTER, CREDS, push_request(), NOW + timedelta(minutes=11))


def test_push_route_reads_the_shop_in_clear():
    assert ADAPTER.push_route(push_request()) == PushRoute(platform_shop_id="gh_1a2b3c4d5e6f")
    assert ADAPTER.push_route(Incoming("GET", "/", {}, {}, b"")) == PushRoute()


def test_url_check_is_verified_and_echoed_by_handshake():
    query = fixture("push_query.json")
    check = Incoming("GET", "/webhooks/wechat", {k: query[k] for k in ("signature", "timestamp", "nonce")}
                     | {"echostr": "7301234567"}, {}, b"")
    answer = ADAPTER.handshake(CREDS, check)
    assert (answer.status, answer.body) == (200, b"7301234567")
    assert ADAPTER.open_push(CREDS, check, now=NOW) == []
    with pytest.raises(BadSignature):
        ADAPTER.handshake(CREDS, changed(check, query=check.query | {"nonce": "1"}))
    assert ADAPTER.handshake(CREDS, push_request()) is None


@pytest.mark.parametrize("encrypted", [True, False])
@pytest.mark.parametrize("notice", [PushNotice("3705115058471209001", "refund", "gh_1a2b3c4d5e6f", NOW),
                                    PushNotice("3705115058471209002", "shipped", "gh_1a2b3c4d5e6f",
                                               NOW - timedelta(hours=1))])
def test_sign_push_round_trips_in_both_modes(encrypted, notice):
    creds = CREDS if encrypted else Credentials(CREDS.app_key, CREDS.app_secret, extra={"token": "t"})
    request = _support.push_round_trip(ADAPTER, creds, NOW, [notice])
    assert ("Encrypt" in json.loads(request.body)) is encrypted
    assert ADAPTER.push_route(request).platform_shop_id == "gh_1a2b3c4d5e6f"
    assert_refused(ADAPTER, creds, changed(request, query=request.query | {"nonce": "1"}), NOW)
    if encrypted:  # in plaintext mode WeChat signs no body: only 安全模式 protects it
        envelope = json.loads(request.body)
        tampered = json.dumps(envelope | {"Encrypt": _support.flip(envelope["Encrypt"][:-2]) + "=="}).encode()
        assert_refused(ADAPTER, creds, changed(request, body=tampered), NOW)
    assert_refused(ADAPTER, creds, request, NOW + timedelta(minutes=11))
    with pytest.raises(ValueError):
        ADAPTER.sign_push(creds, [notice, notice], url="/hook", now=NOW)


def test_push_answers():
    assert ADAPTER.push_answer(True).body == b"success" and ADAPTER.push_answer(True).status == 200
    assert ADAPTER.push_answer(False).status != 200


# mapping


def test_detail_maps_to_the_canonical_order():
    order = ADAPTER.to_canonical(detail_order(), shop_code="WX-FLAGSHIP")
    CanonicalOrder.model_validate(order)
    assert order["status"] == "paid" and order["platform_order_id"] == "3705115058471208928"
    assert order["created_at"] == datetime(2026, 11, 25, 20, 14, 51, tzinfo=SHANGHAI)
    assert order["updated_at"] == order["paid_at"] == NOW and order["paid_at"].utcoffset() == timedelta(hours=8)
    assert order["lines"] == [
        {"platform_line_id": None, "platform_sku_id": "1751234567", "sku_code": "P001-0001",
         "title": "玻尿酸补水面膜 10片装", "quantity": 2, "unit_price_fen": 4990, "discount_fen": 0,
         "amount_fen": 9980},
        {"platform_line_id": None, "platform_sku_id": "1751234570", "sku_code": "P004-0004",
         "title": "防晒喷雾 SPF50 150ml", "quantity": 1, "unit_price_fen": 8900, "discount_fen": 900,
         "amount_fen": 8000},
    ]
    assert (order["goods_total_fen"], order["shipping_fee_fen"], order["discount_fen"], order["paid_total_fen"]) == (
        17980, 0, 500, 17480)
    assert order["receiver"] == {"name": "张**", "phone": "138****8000", "province": "浙江省", "city": "杭州市",
                                 "district": "西湖区", "town": None, "address": "文三路****"}
    assert order["live_room_id"].startswith("export/") and order["buyer_message"] == "请尽快发货"
    assert order["seller_memo"] is None


def test_list_page_gives_id_stubs_and_the_next_key():
    page = ADAPTER.parse_order_list(ADAPTER.read_response(Call("/channels/ec/order/list/get", {}), 200,
                                                          _support.fixture_bytes("wechat", "order_list.json")),
                                    page=1, page_size=50)
    assert page.has_more and page.next_cursor == "CMjPp7sGEOCdrNMK" and page.ids_only
    assert page.orders[0] == {"order_id": "3705115058471208928"} and len(page.orders) == 3
    with pytest.raises(MappingError, match="status"):
        ADAPTER.to_canonical(page.orders[0], shop_code="S")  # a stub needs its detail
    assert ADAPTER.order_detail_call(CREDS, page.orders[0]["order_id"]).params == {"order_id": "3705115058471208928"}


@pytest.mark.parametrize("platform_status, canonical", [
    (10, "unpaid"), (12, "paid"), (13, "paid"), (20, "paid"), (21, "paid"), (30, "shipped"), (100, "completed"),
    (190, "cancelled"), (200, "refunded"), (250, "cancelled")])
def test_status_table(platform_status, canonical):
    assert ADAPTER.to_canonical(detail_order() | {"status": platform_status}, shop_code="S")["status"] == canonical


def test_rendered_statuses_read_back_through_the_table():
    _support.assert_rendered_statuses_read_back(mapping)


def test_unknown_status_is_a_mapping_error_naming_it():
    assert_unmappable(lambda: ADAPTER.to_canonical(fixture("order_unknown_status.json"), shop_code="S"), "status",
                      "unknown wechat order status 11")


def test_missing_fields_fixture_names_the_missing_field():
    assert_unmappable(lambda: ADAPTER.to_canonical(fixture("order_missing_fields.json"), shop_code="S"),
                      "order_detail.product_infos.0.sku_cnt")
    raw = fixture("order_missing_fields.json")
    raw["order_detail"]["product_infos"][0]["sku_cnt"] = 2
    with pytest.raises(MappingError, match="order_price"):
        ADAPTER.to_canonical(raw, shop_code="S")


@pytest.mark.parametrize("path", ["order_id", "status", "create_time", "update_time", "order_detail",
                                  "order_detail.product_infos", "order_detail.price_info.order_price",
                                  "order_detail.product_infos.1.sale_price"])
def test_each_required_field_missing_is_named(path):
    _support.assert_missing_is_named(ADAPTER, detail_order(), path, under=True)


def test_float_amounts_are_refused():
    raw = detail_order()
    raw["order_detail"]["price_info"]["order_price"] = 174.8
    with pytest.raises(MappingError, match="order_price"):
        ADAPTER.to_canonical(raw, shop_code="S")


def test_from_canonical_round_trips_through_to_canonical():
    original = ADAPTER.to_canonical(detail_order(), shop_code="WX-FLAGSHIP")
    for status in ("unpaid", "paid", "shipped", "completed", "cancelled", "refunded"):
        order = copy.deepcopy(original) | {"status": status, "seller_memo": "加急", "live_room_id": None}
        if status == "unpaid":
            order["paid_at"] = None
        rendered = ADAPTER.from_canonical(order, CREDS)
        assert ADAPTER.to_canonical(rendered, shop_code="WX-FLAGSHIP") == order
    assert ADAPTER.to_canonical(ADAPTER.from_canonical(original, CREDS), shop_code="WX-FLAGSHIP") == original


# calls and envelopes


def test_calls_name_the_documented_paths_and_parameters():
    call = ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page=1,
                                   page_size=100)
    assert call == Call("/channels/ec/order/list/get", {
        "update_time_range": {"start_time": 1795605303, "end_time": 1795608903}, "page_size": 50})
    later = ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page=2,
                                    page_size=50, cursor="CMjPp7sGEOCdrNMK")
    assert later.params["next_key"] == "CMjPp7sGEOCdrNMK"
    with pytest.raises(ValueError, match="next_key"):
        ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page=2, page_size=50)
    ship = ADAPTER.ship_call(CREDS, platform_order_id="3705115058471208928", waybill_no="SF1234567890",
                             carrier_code="SF", lines=[{"platform_product_id": "10000029995861",
                                                        "platform_sku_id": "1751234567", "quantity": 2}])
    assert ship.params == {"order_id": "3705115058471208928", "delivery_list": [{
        "delivery_id": "SF", "waybill_id": "SF1234567890", "deliver_type": 1,
        "product_infos": [{"product_id": "10000029995861", "sku_id": "1751234567", "product_cnt": 2}]}]}
    with pytest.raises(ValueError):
        ADAPTER.stock_call(CREDS, platform_sku_id="1751234567", quantity=1)
    with pytest.raises(Invalid):
        ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(days=8), updated_to=NOW)
    assert ADAPTER.stock_query_call(CREDS, platform_sku_id="1751234567", platform_product_id="1") is None
    with pytest.raises(NotImplementedError):
        ADAPTER.parse_stock_query({}, platform_sku_id="1751234567")


# server side


@pytest.mark.parametrize("call, served", [
    (ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page_size=20),
     ServedCall("order_list", updated_from=NOW - timedelta(hours=1), updated_to=NOW, page_size=20)),
    (ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(hours=1), updated_to=NOW, page=2, cursor="CMj"),
     ServedCall("order_list", updated_from=NOW - timedelta(hours=1), updated_to=NOW, cursor="CMj")),
    _support.detail_served(ADAPTER, CREDS, "3705115058471208928"),
    (ADAPTER.ship_call(CREDS, platform_order_id="3705115058471208928", waybill_no="SF1", carrier_code="SF",
                       lines=[]),
     ServedCall("ship", platform_order_id="3705115058471208928", waybill_no="SF1", carrier_code="SF")),
    (ADAPTER.stock_call(CREDS, platform_sku_id="1751234567", quantity=12, platform_product_id="10000029995861"),
     ServedCall("stock", platform_sku_id="1751234567", platform_product_id="10000029995861", quantity=12)),
    (Call("/channels/ec/order/sensitiveinfo/decode", {"order_id": "1"}),
     ServedCall("decrypt", decrypt_items=(("1", None),))),
    (Call("/cgi-bin/token", {"grant_type": "client_credential", "appid": CREDS.app_key}), ServedCall("token_refresh")),
])
def test_sign_check_request_and_read_call_give_back_what_was_asked(call, served):
    _support.assert_served(ADAPTER, CREDS, NOW, call, served)


def test_order_list_and_detail_data_read_back_as_the_same_orders():
    orders = [detail_order(), ADAPTER.from_canonical(ADAPTER.to_canonical(detail_order(), shop_code="S"), CREDS)
              | {"order_id": "3705115058471208929"}]
    stubs = [{"order_id": "3705115058471208928"}, {"order_id": "3705115058471208929"}]
    first = _support.list_round_trip(ADAPTER, CREDS, NOW, orders, page=1, page_size=2, total=3, next_cursor="k2")
    assert (first.orders, first.has_more, first.next_cursor, first.ids_only) == (stubs, True, "k2", True)
    last = _support.list_round_trip(ADAPTER, CREDS, NOW, orders[:1], page=2, page_size=2, total=3, cursor="k2")
    assert (last.orders, last.has_more, last.next_cursor) == (stubs[:1], False, None)
    assert _support.detail_round_trip(ADAPTER, CREDS, "3705115058471208928", detail_order()) == detail_order()


def test_envelope_and_read_response_round_trip():
    call = ADAPTER.order_detail_call(CREDS, "3705115058471208928")
    data = {"order": detail_order()}
    assert ADAPTER.read_response(call, 200, ADAPTER.envelope(call, data)) == data


@pytest.mark.parametrize("error, retryable", [(("-1", "system error"), True),
                                              (("45011", "api minute-quota reach limit"), True),
                                              (("100002", "order not found"), False),
                                              (("40001", "invalid credential"), False)])
def test_error_envelope_reads_back_as_platform_error(error, retryable):
    _support.assert_error_reads_back(ADAPTER, CREDS, error, retryable)


# access token and receiver decrypt


def test_a_new_token_is_minted_from_the_app_id_and_secret_without_the_old_one():
    request = _support.assert_token_refresh(ADAPTER, CREDS, NOW)
    assert (request.http_method, request.path) == ("GET", "/cgi-bin/token")
    assert request.query == {"grant_type": "client_credential", "appid": CREDS.app_key, "secret": CREDS.app_secret}
    data = ADAPTER.read_response(Call("/cgi-bin/token", {}), 200, b'{"access_token":"79_new","expires_in":7200}')
    assert ADAPTER.parse_token(data, now=NOW) == Token("79_new", NOW + timedelta(seconds=7200))


@pytest.mark.parametrize("error", [("42001", "access_token expired"), ("40001", "invalid credential"),
                                   ("40014", "invalid access_token")])
def test_token_expired_answers_are_marked_for_a_refresh(error):
    _support.assert_token_expired_reads_back(ADAPTER, CREDS, error)


def test_a_call_without_an_access_token_is_refused_even_when_the_server_checks_tokens_itself():
    call = ADAPTER.order_detail_call(CREDS, "1")
    request = as_incoming(ADAPTER.sign(CREDS, call, base_url="http://sim", now=NOW))
    unchecked = Credentials(CREDS.app_key, CREDS.app_secret, extra=CREDS.extra)
    assert ADAPTER.check_request(unchecked, request, now=NOW).access_token == CREDS.access_token
    with pytest.raises(BadSignature) as caught:
        ADAPTER.check_request(unchecked, changed(request, query={}), now=NOW)
    assert caught.value.details == {"errcode": 41001}


def test_decode_opens_one_order_by_its_id_and_reads_the_whole_receiver():
    assert ADAPTER.decrypt_batch_size == 1
    call = ADAPTER.decrypt_call(CREDS, [("3705115058471208928", {})])
    assert call == Call("/channels/ec/order/sensitiveinfo/decode", {"order_id": "3705115058471208928"})
    clear = {"3705115058471208928": {"name": "王五", "phone": "13500135000", "address": "锦绣路 1001 弄 5 号 402 室",
                                     "province": "上海市", "city": "上海市", "district": "浦东新区"}}
    opened = _support.decrypt_round_trip(ADAPTER, CREDS, NOW, [("3705115058471208928", {})], clear)
    assert opened == clear
    with pytest.raises(ValueError):
        ADAPTER.decrypt_call(CREDS, [("1", {}), ("2", {})])


def test_decode_reads_the_house_number_and_a_virtual_number_when_no_phone_is_given():
    data = {"address_info": {"user_name": "王五", "tel_number": "", "virtual_order_tel_number": "17012345678-1234",
                             "detail_info": "锦绣路 1001 弄", "house_number": "5 号 402 室", "province_name": "上海市"}}
    assert ADAPTER.parse_decrypt(data, items=[("1", {})]) == {"1": {
        "name": "王五", "phone": "17012345678-1234", "address": "锦绣路 1001 弄 5 号 402 室", "province": "上海市"}}
    with pytest.raises(PlatformError):
        ADAPTER.read_response(call := Call("/channels/ec/order/sensitiveinfo/decode", {}), 200,
                              ADAPTER.envelope(call, None, error=("100002", "order not found")))

"""Contract tests of the 拼多多 adapter against payloads in PDD's documented shapes."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, quote, urlencode

import pytest

from baodan.channels.base import (
    BadSignature,
    Call,
    Credentials,
    Decrypted,
    Incoming,
    MappingError,
    PlatformError,
    PushNotice,
    PushRoute,
    ServedCall,
    Token,
)
from baodan.channels.pdd import ADAPTER
from baodan.channels.pdd import mapping as pdd_mapping
from baodan.channels.pdd.signing import message_sign, sign_params
from baodan.core.clock import SHANGHAI
from baodan.core.errors import Invalid
from baodan.orders.schemas import CanonicalOrder
from tests.channels import _support
from tests.channels._support import as_incoming, assert_refused, assert_unmappable

CREDS = Credentials(app_key="pdd-test-client", app_secret="pdd-test-secret", shop_id="100123",
                    access_token="b7e0c1a2d3f4token")
NOW = datetime(2026, 11, 25, 20, 15, 5, tzinfo=SHANGHAI)
# sign of the relayed frame fixture, computed by hand from the recipe:
# base64(md5_hex("pdd-test-client" + "1795608904323" + <file bytes> + "pdd-test-secret"))
RELAY_QUERY = {"client_id": "pdd-test-client", "timestamp": "1795608904323",
               "sign": "OWU4MGI1OTQ1OWUzMDM5OTYyOTI5NWNmOWE3N2NiNjA="}


def load(name: str) -> dict:
    return _support.fixture("pdd", name)


def order(name: str = "order_detail.json") -> dict:
    return ADAPTER.parse_order_detail(load(name)["order_info_get_response"])


def incoming(body: bytes, query: dict[str, str], content_type: str = "application/json") -> Incoming:
    return Incoming("POST", "/webhooks/pdd", query, {"content-type": content_type}, body)


def form(body: bytes) -> Incoming:
    return incoming(body, {}, "application/x-www-form-urlencoded")


def test_adapter_has_every_member_of_the_contract_with_the_same_parameters():
    _support.assert_conforms(ADAPTER, "pdd")
    assert (ADAPTER.has_push, ADAPTER.stock_mode, ADAPTER.max_list_window) == (True, "absolute", timedelta(minutes=30))


# signing

def test_sign_matches_the_vector_of_a_public_pdd_sdk_test():
    # whalesky-labs/pdd-sdk-php tests/Unit/Md5SignerTest.php
    params = {"client_id": "test-client", "data_type": "JSON", "logistics_id": "9", "order_sn": "240101-1",
              "order_state": "1", "timestamp": "1720000000", "type": "pdd.erp.order.sync", "version": "V1",
              "waybill_no": "SF123"}
    assert sign_params(params, "test-secret") == "CC0F30530BBAC3FD67608391D61E370C"


def test_message_sign_matches_the_pmc_connection_path_of_a_public_sdk_test():
    # whalesky-labs/pdd-sdk-php tests/Unit/MessageClientTest.php: /message/app/1700000000000/<sign, urlencoded>
    assert quote(message_sign("app", "1700000000000", "secret"), safe="") == \
        "OTgxODMwNDI2NWZiN2NiNzA2NzIxOTI0ZjJlMDMxMjE%3D"


def test_sign_posts_every_parameter_in_the_form_body_json_encoding_objects():
    call = Call("pdd.open.decrypt.batch", {"data_list": [{"data_tag": "261125-1", "encrypted_data": "~x~"}]})
    request = ADAPTER.sign(CREDS, call, base_url="https://gw-api.pinduoduo.com", now=NOW)
    assert (request.http_method, request.url) == ("POST", "https://gw-api.pinduoduo.com/api/router")
    form = dict(parse_qsl(request.body.decode()))
    assert form["type"] == "pdd.open.decrypt.batch"
    assert form["timestamp"] == str(int(NOW.timestamp()))
    assert (form["data_type"], form["version"], form["access_token"]) == ("JSON", "V1", CREDS.access_token)
    assert form["data_list"] == '[{"data_tag":"261125-1","encrypted_data":"~x~"}]'
    unsigned = {k: v for k, v in form.items() if k != "sign"}
    joined = "".join(k + unsigned[k] for k in sorted(unsigned))
    assert form["sign"] == hashlib.md5(f"pdd-test-secret{joined}pdd-test-secret".encode()).hexdigest().upper()


def test_check_request_accepts_what_sign_produces_and_returns_the_call():
    call = Call("pdd.open.decrypt.batch", {"data_list": [{"data_tag": "261125-1"}], "page": 2, "flag": True})
    request = ADAPTER.sign(CREDS, call, base_url="http://sim", now=NOW)
    checked = ADAPTER.check_request(CREDS, as_incoming(request), now=NOW + timedelta(minutes=9))
    assert checked == Call("pdd.open.decrypt.batch", {"data_list": [{"data_tag": "261125-1"}], "page": "2",
                                                      "flag": "true"})


def test_check_request_accepts_empty_values_signed_or_left_out_of_the_sign():
    params = {"type": "pdd.order.information.get", "client_id": CREDS.app_key, "access_token": CREDS.access_token,
              "timestamp": str(int(NOW.timestamp())), "order_sn": "1", "remark": ""}
    for sign in (sign_params(params, CREDS.app_secret), sign_params(params, CREDS.app_secret, keep_empty=False)):
        body = urlencode({**params, "sign": sign}).encode()
        assert ADAPTER.check_request(CREDS, form(body), now=NOW).params == {"order_sn": "1", "remark": ""}


def test_check_request_refuses_a_tampered_parameter():
    request = ADAPTER.sign(CREDS, Call("pdd.order.information.get", {"order_sn": "1"}), base_url="http://s", now=NOW)
    body = request.body.replace(b"order_sn=1", b"order_sn=2")
    with pytest.raises(BadSignature):
        ADAPTER.check_request(CREDS, form(body), now=NOW)


@pytest.mark.parametrize("now", [NOW + timedelta(minutes=11), NOW - timedelta(minutes=11)])
def test_check_request_refuses_a_timestamp_more_than_ten_minutes_off(now):
    request = ADAPTER.sign(CREDS, Call("pdd.order.information.get", {"order_sn": "1"}), base_url="http://s", now=NOW)
    with pytest.raises(BadSignature, match="10 minutes"):
        ADAPTER.check_request(CREDS, as_incoming(request), now=now)


def test_check_request_refuses_another_client_or_another_shops_token():
    request = ADAPTER.sign(CREDS, Call("pdd.order.information.get", {"order_sn": "1"}), base_url="http://s", now=NOW)
    with pytest.raises(BadSignature):
        ADAPTER.check_request(Credentials("other", CREDS.app_secret, access_token=CREDS.access_token),
                              as_incoming(request), now=NOW)
    with pytest.raises(BadSignature):
        ADAPTER.check_request(Credentials(CREDS.app_key, CREDS.app_secret, access_token="other"),
                              as_incoming(request), now=NOW)


# push (the PMC relay)

def relayed(name: str = "pmc_trade_confirmed.json", query: dict[str, str] = RELAY_QUERY) -> Incoming:
    return incoming(_support.fixture_bytes("pdd", name), query)


def test_open_push_verifies_the_relayed_frame_and_reads_the_order_it_names():
    [notice] = ADAPTER.open_push(CREDS, relayed(), now=NOW)
    assert (notice.platform_order_id, notice.kind, notice.platform_shop_id) == \
        ("261125-339507978993455", "paid", "100123")
    assert notice.occurred_at == datetime(2026, 11, 25, 20, 15, 4, 123000, tzinfo=SHANGHAI)
    assert notice.raw["id"] == 9007199254740993 and notice.order is None
    assert ADAPTER.push_route(relayed()) == PushRoute(app_key="pdd-test-client", platform_shop_id="100123")
    assert ADAPTER.handshake(CREDS, relayed()) is None


def test_open_push_refuses_a_tampered_frame_another_client_or_a_stale_relay():
    assert_refused(ADAPTER, CREDS, relayed("pmc_bad_signature.json"), NOW)
    assert_refused(ADAPTER, CREDS, relayed(query={**RELAY_QUERY, "client_id": "other"}), NOW)
    assert_refused(ADAPTER, CREDS, relayed(query={**RELAY_QUERY, "timestamp": "1795608904324"}), NOW)
    assert_refused(ADAPTER, CREDS, relayed(), NOW + timedelta(minutes=11))


def test_open_push_skips_control_frames_and_refuses_a_mall_mismatch():
    def signed(body: bytes) -> Incoming:
        query = {"client_id": CREDS.app_key, "timestamp": "1795608905000"}
        return incoming(body, query | {"sign": message_sign(CREDS.app_key, query["timestamp"],
                                                                     CREDS.app_secret, body=body)})

    frames = [{"commandType": "HeartBeat"}, {"commandType": "Ack", "id": 1}]
    assert ADAPTER.open_push(CREDS, signed(json.dumps(frames).encode()), now=NOW) == []
    frame = _support.fixture("pdd", "pmc_trade_confirmed.json")
    frame["message"]["mallID"] = 999
    with pytest.raises(MappingError):
        ADAPTER.open_push(CREDS, signed(json.dumps(frame).encode()), now=NOW)


def test_sign_push_round_trips_through_open_push():
    notices = [PushNotice("210707-339507978993455", "refund", "171504183", NOW - timedelta(minutes=1)),
               PushNotice("210707-339507978993456", "shipped", "171504183", NOW)]
    request = _support.push_round_trip(ADAPTER, CREDS, NOW, notices)
    assert ADAPTER.push_route(request) == PushRoute(app_key="pdd-test-client", platform_shop_id="171504183")
    assert_refused(ADAPTER, CREDS, _support.changed(request, body=request.body.replace(b"455", b"457")), NOW)
    assert_refused(ADAPTER, CREDS, request, NOW + timedelta(minutes=11))
    with pytest.raises(ValueError, match="created"):
        ADAPTER.sign_push(CREDS, [PushNotice("1", "created")], url="/hook", now=NOW)


def test_push_answer_is_2xx_only_when_the_frame_was_kept():
    assert ADAPTER.push_answer(True).status == 200
    assert ADAPTER.push_answer(False).status >= 500


# mapping

def test_detail_maps_to_a_valid_canonical_order_in_fen():
    canonical = ADAPTER.to_canonical(order(), shop_code="PDD-1")
    CanonicalOrder.model_validate(canonical)
    assert (canonical["platform_order_id"], canonical["status"]) == ("261125-339507978993455", "paid")
    assert canonical["paid_at"] == datetime(2026, 11, 25, 20, 15, 3, tzinfo=SHANGHAI)
    item, gift = canonical["lines"]
    assert item == {"platform_line_id": None, "platform_sku_id": "1198765432101", "sku_code": "P001-0001",
                    "title": "玻尿酸补水面膜 10片装", "quantity": 2, "unit_price_fen": 4990, "discount_fen": 0,
                    "amount_fen": 9980}
    assert (gift["sku_code"], gift["unit_price_fen"], gift["amount_fen"]) == ("GIFT-01", 0, 0)
    assert (canonical["goods_total_fen"], canonical["discount_fen"], canonical["paid_total_fen"]) == (9980, 500, 9480)
    # masked values in the fields, the ciphertexts kept as given in platform_cipher; the district is `town`
    assert (canonical["receiver"]["name"], canonical["receiver"]["phone"]) == ("张*", "138****8000")
    assert canonical["receiver"]["platform_cipher"] == {"name": order()["receiver_name"],
                                                        "phone": order()["receiver_phone"],
                                                        "address": order()["receiver_address"]}
    assert canonical["receiver"]["platform_cipher"]["address"].startswith("~AgAAAA")
    assert canonical["receiver"]["district"] == "西湖区"
    assert canonical["buyer_message"] == "请尽快发货"


def test_list_page_maps_every_order_and_falls_back_to_masked_receiver():
    page = ADAPTER.parse_order_list(load("order_list.json")["order_sn_increment_get_response"], page=1,
                                    page_size=100)
    assert (len(page.orders), page.has_more, page.total) == (2, False, 2)
    orders = [ADAPTER.to_canonical(o, shop_code="PDD-1") for o in page.orders]
    for canonical in orders:
        CanonicalOrder.model_validate(canonical)
    assert [o["status"] for o in orders] == ["paid", "refunded"]
    assert orders[1]["receiver"]["name"] == "张*"
    assert orders[1]["receiver"]["phone"] == "138****8000"


EXPECTED_STATUS = {
    (1, 1, 1): "paid", (1, 1, 2): "paid", (1, 1, 3): "paid", (1, 1, 4): "refunded",
    (1, 2, 1): "shipped", (1, 2, 3): "shipped", (1, 2, 4): "refunded",
    (1, 3, 1): "completed", (1, 3, 2): "completed", (1, 3, 4): "refunded",
    (0, 1, 1): "unpaid", (2, 1, 1): "cancelled",
}


@pytest.mark.parametrize(("statuses", "canonical"), EXPECTED_STATUS.items())
def test_confirm_order_and_refund_status_map_to_the_canonical_status(statuses, canonical):
    confirm, shipping, refund = statuses
    mapped = ADAPTER.to_canonical({**order(), "confirm_status": confirm, "order_status": shipping,
                                   "refund_status": refund}, shop_code="PDD-1")
    assert mapped["status"] == canonical
    CanonicalOrder.model_validate(mapped)


def test_the_status_table_has_one_entry_per_documented_combination():
    assert len(pdd_mapping.STATUS) == 3 * 4 + 2


def test_unknown_status_is_a_mapping_error_naming_it():
    assert_unmappable(lambda: ADAPTER.to_canonical(order("unknown_status.json"), shop_code="PDD-1"),
                      "order_status/refund_status", "7/1")


def test_missing_item_price_is_a_mapping_error_naming_the_field():
    assert_unmappable(lambda: ADAPTER.to_canonical(order("missing_fields.json"), shop_code="PDD-1"),
                      "item_list.0.goods_price")


@pytest.mark.parametrize("field", ["order_sn", "order_status", "refund_status", "created_time", "updated_at",
                                   "pay_amount", "item_list"])
def test_missing_order_field_is_a_mapping_error_naming_it(field):
    _support.assert_missing_is_named(ADAPTER, order(), field, shop_code="PDD-1")


def test_paid_order_without_pay_or_confirm_time_is_a_mapping_error():
    broken = {**order(), "pay_time": "", "confirm_time": ""}
    with pytest.raises(MappingError) as caught:
        ADAPTER.to_canonical(broken, shop_code="PDD-1")
    assert caught.value.details["field"] == "pay_time"


def test_yuan_strings_become_exact_fen_and_sub_fen_amounts_are_refused():
    item = {"sku_id": 1, "goods_count": 3, "goods_price": "0.10"}
    mapped = ADAPTER.to_canonical({**order(), "item_list": [item], "gift_list": [], "pay_amount": "0.30"},
                                  shop_code="PDD-1")
    assert (mapped["lines"][0]["amount_fen"], mapped["paid_total_fen"]) == (30, 30)
    with pytest.raises(MappingError) as caught:
        ADAPTER.to_canonical({**order(), "pay_amount": "94.805"}, shop_code="PDD-1")
    assert caught.value.details["field"] == "pay_amount"


@pytest.mark.parametrize("status", ["paid", "shipped", "completed", "refunded", "unpaid", "cancelled"])
def test_from_canonical_round_trips_through_to_canonical(status):
    canonical = ADAPTER.to_canonical(order(), shop_code="PDD-1")
    canonical["status"] = status
    if status in ("unpaid", "cancelled"):
        canonical["paid_at"] = None
    rendered = ADAPTER.from_canonical(canonical, CREDS)
    assert rendered["pay_amount"] == "94.80"
    assert ADAPTER.to_canonical(json.loads(json.dumps(rendered)), shop_code="PDD-1") == canonical


def test_line_discounts_fold_into_the_order_discount_on_the_way_through_pdd():
    canonical = ADAPTER.to_canonical(order(), shop_code="PDD-1")
    canonical["lines"][0].update(discount_fen=300, amount_fen=9680)
    canonical.update(goods_total_fen=9680, discount_fen=200)
    back = ADAPTER.to_canonical(ADAPTER.from_canonical(canonical, CREDS), shop_code="PDD-1")
    assert (back["lines"][0]["amount_fen"], back["discount_fen"], back["paid_total_fen"]) == (9980, 500, 9480)


# envelope and answers

def test_envelope_and_read_response_round_trip_the_answer():
    call = ADAPTER.order_detail_call(CREDS, "261125-339507978993455")
    body = ADAPTER.envelope(call, {"order_info": order()})
    assert list(json.loads(body)) == ["order_info_get_response"]
    assert ADAPTER.parse_order_detail(ADAPTER.read_response(call, 200, body)) == order()
    list_call = ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(minutes=30), updated_to=NOW, page=1,
                                        page_size=100)
    assert list(json.loads(ADAPTER.envelope(list_call, {}))) == ["order_sn_increment_get_response"]


@pytest.mark.parametrize(("code", "retryable"), [("52101", True), ("52102", True), ("52103", True),
                                                 ("70031", True), ("10019", False), ("50000", False)])
def test_errors_become_platform_errors_retryable_when_the_platform_is_busy(code, retryable):
    call = ADAPTER.order_detail_call(CREDS, "1")
    body = ADAPTER.envelope(call, None, error=(code, "message"))
    assert json.loads(body)["error_response"]["error_code"] == int(code)
    with pytest.raises(PlatformError) as caught:
        ADAPTER.read_response(call, 200, body)
    assert (caught.value.platform_code, caught.value.retryable) == (code, retryable)


def test_a_gateway_failure_without_json_is_retryable():
    with pytest.raises(PlatformError) as caught:
        ADAPTER.read_response(Call("pdd.order.information.get", {}), 503, b"busy")
    assert caught.value.retryable


# calls

def test_order_list_call_asks_by_update_time_within_thirty_minutes():
    call = ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(minutes=30), updated_to=NOW, page=3,
                                   page_size=100)
    assert call == Call("pdd.order.number.list.increment.get", {
        "start_updated_at": int(NOW.timestamp()) - 1800, "end_updated_at": int(NOW.timestamp()),
        "order_status": 5, "refund_status": 5, "page": 3, "page_size": 100})
    with pytest.raises(Invalid):
        ADAPTER.order_list_call(CREDS, updated_from=NOW - timedelta(minutes=31), updated_to=NOW, page=1,
                                page_size=100)


def test_ship_call_needs_pdds_numeric_carrier_id():
    call = ADAPTER.ship_call(CREDS, platform_order_id="261125-1", waybill_no="YT1", carrier_code="115", lines=[])
    assert call == Call("pdd.logistics.online.send", {"order_sn": "261125-1", "logistics_id": 115,
                                                      "tracking_number": "YT1"})
    with pytest.raises(Invalid):
        ADAPTER.ship_call(CREDS, platform_order_id="261125-1", waybill_no="YT1", carrier_code="YTO", lines=[])


def test_stock_call_is_a_full_update_and_needs_the_goods_id():
    call = ADAPTER.stock_call(CREDS, platform_sku_id="1198765432101", quantity=5, platform_product_id="401234567890")
    assert call.params == {"goods_id": "401234567890", "sku_id": "1198765432101", "quantity": 5, "update_type": 1}
    with pytest.raises(Invalid):
        ADAPTER.stock_call(CREDS, platform_sku_id="1198765432101", quantity=5)


# server side


@pytest.mark.parametrize("call, served", [
    _support.list_served(ADAPTER, CREDS, NOW, timedelta(minutes=30), page=3, page_size=20),
    _support.detail_served(ADAPTER, CREDS, "261125-339507978993455"),
    (ADAPTER.ship_call(CREDS, platform_order_id="261125-339507978993455", waybill_no="SF1", carrier_code="44",
                       lines=[]),
     ServedCall("ship", platform_order_id="261125-339507978993455", waybill_no="SF1", carrier_code="44")),
    (ADAPTER.stock_call(CREDS, platform_sku_id="1198765432101", quantity=12, platform_product_id="3298765432"),
     ServedCall("stock", platform_sku_id="1198765432101", platform_product_id="3298765432", quantity=12)),
    (Call("pdd.open.decrypt.batch", {"data_list": [{"data_tag": "1", "encrypted_data": "~x~"}]}),
     ServedCall("decrypt", decrypt_items=(("1", "~x~"),))),
    (Call("pdd.pop.auth.token.create", {"code": "c"}), ServedCall("token")),
])
def test_sign_check_request_and_read_call_give_back_what_was_asked(call, served):
    _support.assert_served(ADAPTER, CREDS, NOW, call, served)


def test_order_list_and_detail_data_read_back_as_the_same_orders():
    orders = load("order_list.json")["order_sn_increment_get_response"]["order_sn_list"]
    first = _support.list_round_trip(ADAPTER, CREDS, NOW, orders, page=1, page_size=2, total=3)
    assert (first.orders, first.has_more, first.total) == (orders, True, 3)
    last = _support.list_round_trip(ADAPTER, CREDS, NOW, orders[:1], page=2, page_size=2, total=3)
    assert (last.orders, last.has_more, last.total) == (orders[:1], False, 3)
    assert _support.detail_round_trip(ADAPTER, CREDS, "261125-339507978993455", order()) == order()


def test_stock_is_set_absolutely_so_nothing_reads_it():
    _support.assert_reads_no_stock(ADAPTER, CREDS)


def test_an_absurd_timestamp_is_a_bad_signature_not_a_crash():
    from datetime import UTC, datetime

    from baodan.channels.base import BadSignature
    from baodan.channels.pdd.adapter import _check_timestamp

    for value in ("9" * 20, "0", "abc", ""):
        with pytest.raises(BadSignature):
            _check_timestamp(value, datetime.now(UTC))


# access token and receiver decrypt

TOKEN_CREDS = Credentials(CREDS.app_key, CREDS.app_secret, shop_id=CREDS.shop_id, access_token=CREDS.access_token,
                          refresh_token="c8f1d2e3refresh")


def test_token_refresh_goes_through_the_router_without_the_access_token():
    request = _support.assert_token_refresh(ADAPTER, TOKEN_CREDS, NOW)
    form = dict(parse_qsl(request.body.decode()))
    assert form["type"] == "pdd.pop.auth.token.refresh" and form["refresh_token"] == TOKEN_CREDS.refresh_token
    assert "access_token" not in form and form["sign"] == sign_params(form, CREDS.app_secret)
    assert ADAPTER.token_refresh_call(CREDS) is None


def test_parse_token_reads_the_pop_auth_answer():
    body = json.dumps({"pop_auth_token_refresh_response": {
        "access_token": "a", "expires_at": 1795695305, "expires_in": 86400, "refresh_token": "r",
        "refresh_token_expires_at": 1798200905, "refresh_token_expires_in": 2592000, "owner_id": "100123",
        "owner_name": "店", "scope": ["pdd.order.information.get"]}}).encode()
    token = ADAPTER.parse_token(ADAPTER.read_response(ADAPTER.token_refresh_call(TOKEN_CREDS), 200, body), now=NOW)
    assert token == Token("a", NOW + timedelta(days=1), "r", NOW + timedelta(days=30))


def test_10019_is_marked_for_a_refresh():
    _support.assert_token_expired_reads_back(ADAPTER, CREDS, ("10019", "access_token已过期"))


def test_batch_decrypt_reads_each_field_back_and_is_held_to_one_call_in_ten_seconds():
    items = [("261125-339507978993455", {"name": "~n1~", "phone": "$p1$", "address": "~a1~"}),
             ("261125-339507978993456", {"name": "~n2~"})]
    clear = {"261125-339507978993455": {"name": "孙八", "phone": "13300133000", "address": "玉林南路 12 号 2 单元 302"},
             "261125-339507978993456": {"name": "周九"}}
    call = ADAPTER.decrypt_call(CREDS, items)
    assert call is not None and call.params["data_list"][1] == {"data_tag": "261125-339507978993455",
                                                               "encrypted_data": "$p1$"}
    opened = _support.decrypt_round_trip(ADAPTER, CREDS, NOW, items, clear, refused="261125-339507978993456")
    assert opened["261125-339507978993455"] == clear["261125-339507978993455"]
    assert "密文与订单不匹配" in opened["261125-339507978993456"]["error"]
    assert ADAPTER.call_rates == {"pdd.open.decrypt.batch": 0.1}


def test_decrypted_data_types_follow_the_field():
    data = ADAPTER.decrypt_data([Decrypted("1", "~n~", {"name": "孙八"}), Decrypted("1", "$p$", {"phone": "1"}),
                                 Decrypted("1", "~a~", {"address": "玉林南路"})])
    assert [d["data_type"] for d in data["data_decrypt_list"]] == [5, 6, 8]

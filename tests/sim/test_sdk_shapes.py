"""Requests shaped byte for byte as public platform SDKs send them (no SDK is imported: each request is rebuilt
here, and each test names the PyPI package and version whose source it follows; docs/sdk-compat.md has the
runs against the SDKs themselves). They pin what the simulator must take from an unchanged SDK: its sign-in
call, its order list and detail calls, and nothing it should refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import httpx

from baodan.core.clock import SHANGHAI
from baodan.sim import Simulator

# -- 京东: jd-sdk 1.1.1 (jd/api/base.py RestApi.getResponse)


def _jd_sdk_call(sim: Simulator, method: str, business: dict[str, object], *, utc_offset_hours: int = 8,
                 token: str | None = None) -> dict[str, object]:
    """jd-sdk 1.1.1: every parameter in the URL of a body-less POST to /routerjson; the timestamp is
    time.strftime("%Y-%m-%d %H:%M:%S.000%z", time.localtime()); sign = upper MD5(secret + k1v1k2v2… + secret)
    over the sorted parameters including 360buy_param_json (json.dumps, ensure_ascii=False)."""
    creds = sim.credentials("jd")
    local = datetime.now(SHANGHAI).astimezone(_tz(utc_offset_hours))
    params = {"app_key": creds.app_key, "v": "2.0", "method": method,
              "timestamp": local.strftime("%Y-%m-%d %H:%M:%S.000%z"),
              "access_token": token if token is not None else creds.access_token,
              "360buy_param_json": json.dumps(business, ensure_ascii=False)}
    joined = "".join(f"{k}{params[k]}" for k in sorted(params))
    params["sign"] = hashlib.md5(f"{creds.app_secret}{joined}{creds.app_secret}".encode("latin1")).hexdigest().upper()
    answer = httpx.post(sim.base_url("jd") + "/routerjson?" + urlencode(params),
                        headers={"Content-type": "application/x-www-form-urlencoded"})
    return answer.json()


def _tz(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


def test_jd_sdk_timestamp_with_milliseconds_and_offset_is_accepted(simulator: Simulator) -> None:
    [order] = simulator.add_orders("jd", 1)
    now = datetime.now(SHANGHAI)
    business = {"start_date": (now - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S"),
                "end_date": (now + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S"),
                "order_state": "WAIT_SELLER_STOCK_OUT", "optional_fields": "orderId,orderState",
                "page": "1", "page_size": "10", "dateType": 0}
    for offset in (8, 0):  # a machine on Beijing time, and one on UTC: the offset says which
        answer = _jd_sdk_call(simulator, "jingdong.pop.order.enSearch", business, utc_offset_hours=offset)
        found = answer["jingdong_pop_order_enSearch_responce"]["searchorderinfo_result"]["orderInfoList"]
        assert [o["orderId"] for o in found] == [order["platform_order_id"]]

    detail = _jd_sdk_call(simulator, "jingdong.pop.order.enGet",
                          {"order_id": order["platform_order_id"], "optional_fields": "orderId"})
    assert detail["jingdong_pop_order_enGet_responce"]["orderDetailInfo"]["orderInfo"]["orderId"] == \
        order["platform_order_id"]


def test_jd_call_without_the_shops_access_token_is_refused(simulator: Simulator) -> None:
    answer = _jd_sdk_call(simulator, "jingdong.pop.order.enGet", {"order_id": "1"}, token="")
    assert answer["error_response"]["code"] == "19"


# -- 微信小店: wechatpy 1.8.18 (client/__init__.py WeChatClient.fetch_access_token, client/base.py)


def test_wechat_token_call_as_wechatpy_fetches_it(simulator: Simulator) -> None:
    creds = simulator.credentials("wechat")
    base = simulator.base_url("wechat")
    answer = httpx.get(base + "/cgi-bin/token", params={"grant_type": "client_credential", "appid": creds.app_key,
                                                        "secret": creds.app_secret})
    # /cgi-bin/token mints a new token each time; stable_token gives the current one while it works
    assert set(answer.json()) == {"access_token", "expires_in"} and answer.json()["expires_in"] == 7200
    assert answer.json()["access_token"] != creds.access_token

    stable = httpx.post(base + "/cgi-bin/stable_token", json={"grant_type": "client_credential",
                                                              "appid": creds.app_key, "secret": creds.app_secret})
    assert stable.json()["access_token"] == answer.json()["access_token"]

    wrong = httpx.get(base + "/cgi-bin/token", params={"grant_type": "client_credential", "appid": creds.app_key,
                                                       "secret": "0" * 32})
    assert wrong.json()["errcode"] == 40125 and "access_token" not in wrong.json()
    other_app = httpx.get(base + "/cgi-bin/token", params={"grant_type": "client_credential", "appid": "wx0",
                                                           "secret": creds.app_secret})
    assert other_app.json()["errcode"] == 40013

    # wechatpy's post(): ?access_token= and a JSON body, on the token it was given
    simulator.add_orders("wechat", 1)
    now = int(time.time())
    listed = httpx.post(base + "/channels/ec/order/list/get", params={"access_token": answer.json()["access_token"]},
                        content=json.dumps({"update_time_range": {"start_time": now - 600, "end_time": now + 60},
                                            "page_size": 5}))
    assert listed.json()["errcode"] == 0 and len(listed.json()["order_id_list"]) == 1


# -- 快手: the spec's OAuth (crywolfx/go-kwai); kwaixiaodian 1.0.3 (auth/oauth.py) for the refused variant


def test_kuaishou_oauth_token_calls_are_served_flat(simulator: Simulator) -> None:
    creds = simulator.credentials("kuaishou")
    base = simulator.base_url("kuaishou")
    got = httpx.get(base + "/oauth2/access_token", params={"app_id": creds.app_key, "app_secret": creds.app_secret,
                                                           "code": "abc", "grant_type": "code"}).json()
    assert got["result"] == 1 and got["access_token"] == creds.access_token
    assert 172800 - 60 < got["expires_in"] <= 172800  # what is left of the token issued at start-up
    refreshed = httpx.post(base + "/oauth2/refresh_token", data={
        "app_id": creds.app_key, "app_secret": creds.app_secret, "grant_type": "refresh_token",
        "refresh_token": got["refresh_token"]}).json()
    assert refreshed["result"] == 1 and refreshed["refresh_token_expires_in"] == 15552000

    # kwaixiaodian 1.0.3 posts OAuth's client_id/client_secret: not the names 快手 reads
    sdk = httpx.post(base + "/oauth2/refresh_token", data={
        "grant_type": "refresh_token", "client_id": creds.app_key, "client_secret": creds.app_secret,
        "refresh_token": got["refresh_token"]}).json()
    assert sdk["result"] != 1 and sdk["error"] and "access_token" not in sdk
    wrong = httpx.get(base + "/oauth2/access_token", params={"app_id": creds.app_key, "app_secret": "x",
                                                             "code": "abc", "grant_type": "code"}).json()
    assert wrong["result"] == 0


def test_kuaishou_call_signed_over_the_params_unsorted_json_is_served(simulator: Simulator) -> None:
    """kwaixiaodian 1.0.3 (auth/signature.py): param = orjson.dumps(business) in the caller's key order, the
    sorted k=v pairs joined by & plus &signSecret=, Base64 HMAC-SHA256; GET with everything in the query."""
    creds = simulator.credentials("kuaishou")
    [order] = simulator.add_orders("kuaishou", 1)
    now_ms = int(time.time() * 1000)
    business = {"pageSize": 5, "beginTime": now_ms - 600_000, "endTime": now_ms + 60_000}
    params = {"method": "open.order.cursor.list", "appkey": creds.app_key, "access_token": creds.access_token,
              "version": "1", "timestamp": str(now_ms), "signMethod": "HMAC_SHA256",
              "param": json.dumps(business, separators=(",", ":"))}
    text = "&".join(f"{k}={v}" for k, v in sorted(params.items())) + f"&signSecret={creds.extra['sign_secret']}"
    params["sign"] = base64.b64encode(hmac.new(creds.extra["sign_secret"].encode(), text.encode(),
                                               hashlib.sha256).digest()).decode()
    answer = httpx.get(simulator.base_url("kuaishou") + "/open/order/cursor/list", params=params).json()
    assert answer["result"] == 1
    assert [str(o["orderBaseInfo"]["oid"]) for o in answer["data"]["orderList"]] == [order["platform_order_id"]]


# -- 拼多多: pdd-sdk 1.0.8 (pdd_sdk/api/base.py RestApi.getResponse)


def _pdd_sdk_call(sim: Simulator, api: str, business: dict[str, object], *, token_as: str) -> dict[str, object]:
    """pdd-sdk 1.0.8: system parameters (data_type=JSON, client_id, version=V1, timestamp in seconds, type,
    and the token under `session`) in the query, business parameters form-encoded in the body; sign = upper
    MD5(secret + k1v1… + secret) over both, sorted."""
    creds = sim.credentials("pdd")
    system = {"data_type": "JSON", "client_id": creds.app_key, "version": "V1", "timestamp": str(int(time.time())),
              "type": api, token_as: creds.access_token}
    signed = system | {k: str(v) for k, v in business.items()}
    joined = "".join(f"{k}{signed[k]}" for k in sorted(signed))
    system["sign"] = hashlib.md5(f"{creds.app_secret}{joined}{creds.app_secret}".encode()).hexdigest().upper()
    answer = httpx.post(sim.base_url("pdd") + "/api/router?" + urlencode(system), content=urlencode(business),
                        headers={"Content-type": "application/x-www-form-urlencoded;charset=UTF-8"})
    return answer.json()


def test_pdd_order_call_needs_the_access_token_not_tops_session(simulator: Simulator) -> None:
    [order] = simulator.add_orders("pdd", 1)
    business = {"order_sn": order["platform_order_id"]}
    as_sdk = _pdd_sdk_call(simulator, "pdd.order.information.get", business, token_as="session")
    assert "order_info_get_response" not in as_sdk
    assert as_sdk["error_response"]["error_code"] == 10016

    as_pdd = _pdd_sdk_call(simulator, "pdd.order.information.get", business, token_as="access_token")
    assert as_pdd["order_info_get_response"]["order_info"]["order_sn"] == order["platform_order_id"]


# -- 淘宝: taobao-sdk 0.0.5 (taobao/comm/common.py Common.post), a method the simulator does not play


def test_a_method_the_simulator_does_not_play_is_an_error_not_a_token(simulator: Simulator) -> None:
    """taobao-sdk 0.0.5's trade_sold_get (taobao.trades.sold.get, by creation time) used to be answered with
    the sign-in token under trades_sold_get_response."""
    creds = simulator.credentials("taobao")
    now = datetime.now(SHANGHAI)
    data = {"fields": "tid,status", "start_created": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
            "method": "taobao.trades.sold.get", "app_key": creds.app_key, "session": creds.access_token,
            "timestamp": now.strftime("%Y-%m-%d %H:%M:%S"), "format": "json", "v": "2.0", "sign_method": "md5"}
    joined = "".join(f"{k}{data[k]}" for k in sorted(data))
    data["sign"] = hashlib.md5(f"{creds.app_secret}{joined}{creds.app_secret}".encode()).hexdigest().upper()
    answer = httpx.post(simulator.base_url("taobao") + "/router/rest", data=data).json()
    assert "trades_sold_get_response" not in answer
    assert "taobao.trades.sold.get" in json.dumps(answer["error_response"], ensure_ascii=False)


# -- 抖店: doudian 0.6 (doudian/core.py DouDian.init_token / _request), guarding what already works


def test_douyin_self_app_sign_in_as_doudian_06_sends_it(simulator: Simulator) -> None:
    """doudian 0.6: POST /token/create with param_json both in the (unencoded) URL and as the body, the
    timestamp as local "%Y-%m-%d %H:%M:%S" (Beijing on a merchant's machine), HMAC-SHA256 over
    secret + app_key…method…param_json…timestamp…v2 + secret; it reads err_no 0 and data.expires_in."""
    creds = simulator.credentials("douyin")
    param_json = json.dumps({"code": "", "grant_type": "authorization_self", "shop_id": creds.shop_id},
                            sort_keys=True, separators=(",", ":"))
    timestamp = datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    pattern = f"app_key{creds.app_key}methodtoken.createparam_json{param_json}timestamp{timestamp}v2"
    sign = hmac.new(creds.app_secret.encode(), f"{creds.app_secret}{pattern}{creds.app_secret}".encode(),
                    hashlib.sha256).hexdigest()
    url = (simulator.base_url("douyin") + f"/token/create?app_key={creds.app_key}&method=token.create"
           f"&param_json={param_json}&timestamp={timestamp}&v=2&sign_method=hmac-sha256&sign={sign}")
    answer = httpx.post(url, content=param_json, headers={"Content-Type": "application/json"}).json()
    assert answer["err_no"] == 0 and answer["data"]["access_token"] == creds.access_token
    assert isinstance(answer["data"]["expires_in"], int)

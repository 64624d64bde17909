"""抖店电子面单 (抖音电商电子面单): `/logistics/newCreateOrder` (取号) and `/logistics/cancelOrder` through 抖店's
open-platform gateway: signed, enveloped and verified exactly as the 抖店 adapter does it (baodan.channels.douyin:
the v2 HMAC-SHA256 sign, `param_json` as the body, the `{code: 10000, data}` envelope), with the access token
of the shop that subscribed the courier's e-waybill service. It is the service that opens 抖店's own
ciphertexts: a 抖店 order's receiver goes as the order gave it, never decrypted.

Readings where the spec (shared/specs/bills_waybills_addresses.md §D) is uncertain — the one place to correct
against 抖店's sandbox:

- Request shape: the spec lists the fields flat; the SDK it cites (zsmhub/doudian-sdk) nests them, and that
  is what is sent: `{logistics_code, sender_info{address, contact}, order_infos[{order_id, pack_id,
  receiver_info{address, contact}, items[{item_name, item_count}], pay_method?, product_type?, net_info?}],
  user_id?}`; an address is `{country_code CHN, province_name, city_name, district_name, street_name,
  detail_address}`, a contact `{name, mobile}`.
- Batch: none is documented; 10 order_infos a call (the 云打印 services' limit) [inf].
- `order_id` is the 抖店 order id (店铺单号); `pack_id` is BaoDan's application id with `-` written `_` (the SDK:
  digits, letters and underscores only). The same order_id and pack_id applied for again gets the same number
  back [inf: what a pack id is for]; the simulator plays it so, and BaoDan relies on it after a lost answer.
- Receiver: a 抖店 order's receiver BaoDan holds only masked goes by the order's three ciphertexts
  (`platform_cipher` name, phone, address → contact.name, contact.mobile, address.detail_address: "支持密文"
  in the SDK), the region (province, city, district; the town as street_name) in clear as the order gives it;
  one held in clear goes in clear. Refused before any call (ValueError): a masked 抖店 receiver without the
  three ciphertexts, and any other platform's order — 抖店 takes those only with an `order_channel` code from
  a table the specs do not give, and opens no other platform's ciphertexts.
- Couriers: `logistics_code` is 抖店's company code; 抖店 writes them in pinyin (zhongtong, yuantong, …:
  `courier_codes`) [inf: the spec gives none and says to discover them with /logistics/listShopNetsite]; an
  account whose courier is written otherwise sets its `platform_code`.
- Account settings (`extra`): `shop_id` (the 抖店 shop id, sent as `user_id`: the shop that uses a shared
  e-waybill account), `net_code` (加盟网点, which 加盟 couriers require; sent as net_info with `net_category`
  where given), `pay_method` (1 寄付月结, 2 寄付现结; left out: the outlet's agreement), `product_type`. An
  account with `shop_id` (a 抖店 shop connected in BaoDan) calls with that shop's current access token,
  renewed with the shop's connection (channels.tokens); without it, the token saved in its secrets (as for
  拼多多 accounts, which may name a 拼多多 shop the same way).
- Weight: not sent (the SDK takes it per item, or per parcel for 顺丰 and 丹鸟 only).
- Answers: `ebill_infos[]` {order_id, pack_id, track_no, sort_code (三段码), short_address_code/name (大头笔),
  package_center_code/name (集包地), sub_waybill_codes}: the label's 大头笔 is short_address_name, else
  sort_code, else short_address_code. No print data comes with a number (抖店's print data is another call,
  not in the spec): the label is BaoDan's, with the receiver masked. `err_infos[]` {order_id, pack_id,
  err_code, err_msg} are the parcels refused: an answer with no number is an error naming them (retryable when
  one reads as busy or limited); one with some numbers gives those, and the desk asks for the others one
  parcel a call, so that each gets its own message.
- Cancel: `{logistics_code, track_no}` (+ user_id), answered `cancel_result{success}` (the SDK's shape);
  success false is a refusal.
- Gateway errors are the 抖店 adapter's (retryable: code 20000, isp.* sub codes, HTTP 5xx/429; the token:
  30001/30002). Limits: none published; 5 calls/s, as the 抖店 adapter.
- Server side (the simulator): a value in 抖店's cipher marks (`#…#` name, `$…$` phone, `~…~` address, as
  the simulated 抖店 writes them) is read as a ciphertext; the parcels the simulator refuses are named in the
  served call's `details["refused"]` (object_id → code, message) and answered in err_infos.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from baodan.channels import _common
from baodan.channels.base import Call, Credentials, Incoming, PlatformError, SignedRequest
from baodan.channels.douyin.adapter import DouyinAdapter
from baodan.waybills.base import (
    Address,
    CarrierAccount,
    Contact,
    IssuedWaybill,
    Parcel,
    ServedWaybillCall,
    courier_code,
    hidden,
)

APPLY_METHOD = "logistics.newCreateOrder"
CANCEL_METHOD = "logistics.cancelOrder"
MAX_PARCELS = 10
CIPHERS = ("name", "phone", "address")
CIPHER_MARKS = {"name": "#", "phone": "$", "address": "~"}
COUNTRY = "CHN"


class DouyinWaybillAdapter:
    adapter = "douyin"
    calls_per_second = 5.0
    call_rates: Mapping[str, float] = MappingProxyType({})
    max_per_call = MAX_PARCELS
    default_base_url = "https://openapi-fxg.jinritemai.com"
    courier_codes: Mapping[str, str] = MappingProxyType({
        "ZTO": "zhongtong", "YTO": "yuantong", "STO": "shentong", "YUNDA": "yunda", "SF": "shunfeng",
        "JTSD": "jtexpress", "EMS": "ems", "POSTB": "youzhengguonei", "JD": "jd", "DBKD": "debangkuaidi",
        "HTKY": "huitongkuaidi", "ZJS": "zhaijisong"})

    def __init__(self) -> None:
        self.gateway = DouyinAdapter()

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        return self.gateway.sign(creds, call, base_url=base_url, now=now)

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        return self.gateway.read_response(call, status, body)

    def apply_call(self, account: CarrierAccount, parcels: Sequence[Parcel]) -> Call:
        if not 1 <= len(parcels) <= MAX_PARCELS:
            raise ValueError(f"douyin applies for 1 to {MAX_PARCELS} parcels a call, not {len(parcels)}")
        extra = account.creds.extra
        infos = []
        for parcel in parcels:
            info: dict[str, Any] = {
                "order_id": parcel.platform_order_id, "pack_id": pack_id(parcel.object_id),
                "receiver_info": _receiver(parcel),
                "items": [{"item_name": name, "item_count": n} for name, n in parcel.items]}
            if extra.get("pay_method"):
                info["pay_method"] = int(extra["pay_method"])
            if extra.get("product_type"):
                info["product_type"] = extra["product_type"]
            if extra.get("net_code"):
                info["net_info"] = {"net_code": extra["net_code"],
                                    **({"category": extra["net_category"]} if extra.get("net_category") else {})}
            infos.append(info)
        params: dict[str, Any] = {"logistics_code": courier_code(self, account),
                                  "sender_info": _person(account.sender), "order_infos": infos}
        return Call(APPLY_METHOD, params | _user_id(account))

    def parse_apply(self, data: dict[str, Any]) -> list[IssuedWaybill]:
        infos, errors = data.get("ebill_infos") or [], data.get("err_infos") or []
        if not isinstance(infos, list) or not isinstance(errors, list):
            raise PlatformError("douyin answer: ebill_infos and err_infos must be lists", code="waybills.bad_answer")
        issued = []
        for info in infos:
            if not isinstance(info, dict) or not info.get("track_no") or not (info.get("pack_id") or
                                                                               info.get("order_id")):
                raise PlatformError("douyin ebill_info without track_no or pack_id", code="waybills.bad_answer",
                                    details={"ebill_info": str(info)[:200]})
            issued.append(IssuedWaybill(
                object_id=object_id(info), waybill_no=str(info["track_no"]),
                sort_code=info.get("short_address_name") or info.get("sort_code") or info.get("short_address_code")
                or None,
                package_center_code=info.get("package_center_code") or None,
                package_center_name=info.get("package_center_name") or None))
        if issued or not errors:
            return issued
        refusals = [(str(e.get("err_code") or ""), str(e.get("err_msg") or ""), object_id(e))
                    for e in errors if isinstance(e, dict)]
        code, message = refusals[0][0], "; ".join(f"{oid}: {msg} ({code})" for code, msg, oid in refusals)
        raise PlatformError(f"douyin {APPLY_METHOD}: {message}"[:500], platform_code=code or None,
                            retryable=any(_common.sounds_retryable(c, m) for c, m, _ in refusals),
                            code="waybills.carrier_error", details={"refused": len(refusals)})

    def cancel_call(self, account: CarrierAccount, *, waybill_no: str, object_id: str) -> Call:
        return Call(CANCEL_METHOD, {"logistics_code": courier_code(self, account), "track_no": waybill_no}
                    | _user_id(account))

    def parse_cancel(self, data: dict[str, Any]) -> None:
        result = data.get("cancel_result")
        if not isinstance(result, dict) or result.get("success") not in (True, "true"):
            raise PlatformError("douyin did not cancel the number (cancel_result.success false)",
                                platform_code="cancel_result_false", code="waybills.cancel_refused")

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        return self.gateway.check_request(creds, request, now=now)

    def read_call(self, call: Call) -> ServedWaybillCall:
        p = call.params
        if call.method == CANCEL_METHOD:
            return ServedWaybillCall("cancel", courier=str(p["logistics_code"]), waybill_no=str(p["track_no"]))
        if call.method != APPLY_METHOD:
            return ServedWaybillCall("other")
        infos = p["order_infos"]
        if not isinstance(infos, list) or not 1 <= len(infos) <= MAX_PARCELS:
            raise ValueError(f"order_infos: 1 to {MAX_PARCELS} items")
        parcels = tuple(Parcel(
            object_id=object_id(info), platform_order_id=str(info["order_id"]),
            channel="custom" if p.get("order_channel") else "douyin", receiver=_contact(info["receiver_info"]),
            items=tuple((str(i["item_name"]), int(i["item_count"])) for i in info["items"])) for info in infos)
        if any(not parcel.items for parcel in parcels):
            raise ValueError("items: at least one item")
        return ServedWaybillCall("apply", courier=str(p["logistics_code"]), parcels=parcels,
                                 sender=_contact(p["sender_info"]),
                                 details={"user_id": p.get("user_id")} if p.get("user_id") else {})

    def apply_data(self, served: ServedWaybillCall, issued: Sequence[IssuedWaybill], *,
                   repeated: bool = False) -> dict[str, Any]:
        """ebill_infos of the issued numbers (a repeated application answers the same), err_infos of the parcels
        the simulator refused (`details["refused"]`)."""
        orders = {parcel.object_id: parcel.platform_order_id for parcel in served.parcels}
        infos = [{"order_id": orders.get(w.object_id, ""), "pack_id": pack_id(w.object_id), "track_no": w.waybill_no,
                  "company": served.courier, "sort_code": "", "short_address_code": "",
                  "short_address_name": w.sort_code or "",
                  "package_center_code": w.package_center_code or "",
                  "package_center_name": w.package_center_name or "", "sub_waybill_codes": "", "hint_msg": ""}
                 for w in issued]
        refused: Mapping[str, tuple[str, str]] = served.details.get("refused") or {}
        errors = [{"order_id": orders.get(oid, ""), "pack_id": pack_id(oid), "err_code": code, "err_msg": message}
                  for oid, (code, message) in refused.items()]
        return {"ebill_infos": infos, "err_infos": errors}

    def cancel_data(self) -> dict[str, Any]:
        return {"cancel_result": {"success": True}}

    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes:
        return self.gateway.envelope(call, data, error=error)


def pack_id(object_id: str) -> str:
    """BaoDan's application id as a 抖店 pack id (digits, letters and underscores): BD123-1 → BD123_1."""
    return object_id.replace("-", "_")


def object_id(info: Mapping[str, Any]) -> str:
    """The application an ebill_info or err_info answers: its pack id read back (BD123_1 → BD123-1); an answer
    without one names the order's only parcel by the order id."""
    return str(info.get("pack_id") or info.get("order_id") or "").replace("_", "-")


def is_cipher(field: str, value: str | None) -> bool:
    """Whether a name, phone or address is written as a 抖店 ciphertext (#…#, $…$, ~…~)."""
    mark = CIPHER_MARKS[field]
    return value is not None and len(value) > 2 and value[0] == mark and value[-1] == mark


def _receiver(parcel: Parcel) -> dict[str, Any]:
    receiver = parcel.receiver
    if parcel.channel != "douyin":
        raise ValueError(f"order {parcel.platform_order_id} is a {parcel.channel} order: 抖店电子面单 numbers 抖店 "
                         "orders only here (use another carrier account for it)")
    if not hidden(receiver):
        return _person(receiver)
    cipher = receiver.cipher
    if not all(cipher.get(key) for key in CIPHERS):
        raise ValueError(f"order {parcel.platform_order_id}: the receiver is masked and carries no 抖店 ciphertexts "
                         "(name, phone and address), which is all 抖店电子面单 can open")
    return _person(Contact(cipher["name"], cipher["phone"], Address(
        receiver.address.province, receiver.address.city, receiver.address.district, cipher["address"],
        receiver.address.town)))


def _person(contact: Contact) -> dict[str, Any]:
    a = contact.address
    return {"address": {"country_code": COUNTRY, "province_name": a.province, "city_name": a.city,
                        "district_name": a.district, "street_name": a.town, "detail_address": a.address},
            "contact": {"name": contact.name, "mobile": contact.phone}}


def _contact(given: Mapping[str, Any]) -> Contact:
    a, who = given["address"], given["contact"]
    found = Contact(name=str(who["name"]), phone=str(who.get("mobile") or who.get("phone") or ""),
                    address=Address(province=str(a["province_name"]), city=str(a["city_name"]),
                                    district=str(a.get("district_name") or ""), address=str(a["detail_address"]),
                                    town=str(a.get("street_name") or "")))
    values = {"name": found.name, "phone": found.phone, "address": found.address.address}
    cipher = {key: value for key, value in values.items() if is_cipher(key, value)}
    return Contact(found.name, found.phone, found.address, cipher=cipher)


def _user_id(account: CarrierAccount) -> dict[str, Any]:
    shop_id = account.creds.extra.get("shop_id") or account.creds.shop_id
    return {"user_id": _common.id_value(shop_id)} if shop_id else {}


ADAPTER = DouyinWaybillAdapter()

"""菜鸟电子面单 through TOP: `cainiao.waybill.ii.get` (云打印取号) and `cainiao.waybill.ii.cancel`. Both are TOP
calls: signed, enveloped and verified exactly as the 淘宝 adapter does it (baodan.channels.taobao), with the
session of the seller who subscribed the courier's e-waybill service.

Readings where the spec (shared/specs/bills_waybills_addresses.md §D) and the public SDKs are silent — the one
place to correct against a sandbox:

- Request: the one business parameter `param_waybill_cloud_print_apply_new_request`, JSON text: `cp_code`,
  `sender` (UserInfoDTO: name, mobile, address{province, city, district, town, detail}),
  `trade_order_info_dtos` (at most 10, BaoDan's `max_per_call`), `need_encrypt`. Each dto: `object_id` (BaoDan's
  application id), `order_info` {order_channels_type (TB, PDD, DY, KS, JD, OTHERS by the order's platform),
  trade_order_list [the platform's trade id]}, `package_info` {id = the object_id, items [{name, count}],
  weight in g when known}, `recipient`, `template_url` (the account's `extra["template_url"]`, else a standard
  template URL of the TOP doc's form [inf]) and `user_id` (the account's `extra["user_id"]`: the seller id,
  required by the API).
- Recipient: in clear (name, mobile, address{…, detail}) when BaoDan holds it so; a 淘宝 receiver BaoDan holds
  only masked goes by its `oaid` with `tid` (the trade id), beside the masked values [inf: which fields the
  service still wants next to the oaid]. A masked receiver without an oaid (another platform's encrypted
  order) is refused before any call (ValueError): 菜鸟 cannot open it, and sending the platform's decrypted
  receiver to another service is what the platforms forbid; such orders take the platform's own e-waybill.
- `need_encrypt` is true when a parcel goes by oaid (or the account's `extra["need_encrypt"]` says "true");
  the print data then comes back encrypted for the print component and BaoDan reads no routing from it.
- Answer: `cainiao_waybill_ii_get_response.modules` — TOP's list wrapping `{"waybill_cloud_print_response":
  [...]}` or a plain list — each `{object_id, waybill_code, print_data, parent_waybill_code}`. 大头笔 and
  集包地 are read from clear print data: `data.routingInfo.sortation.name` and `.consolidation{code, name}`
  (the shape public print demos show).
- The same application (object_id and trade) applied for again gets the same number back [inf: what the TOP
  doc's request-id wording suggests]; the simulator plays it so, and BaoDan relies on it after a lost answer.
- Cancel: `cainiao.waybill.ii.cancel` {cp_code, waybill_code}, answered `{cancel_result: true}`; false is a
  refusal. An unknown number is a TOP error whose sub_code the simulator makes up (`isv.WAYBILL_NOT_EXIST`).
- Limits: TOP publishes no per-app rate in the sources; 10 calls/s, as for 淘宝.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from baodan.channels._common import compact_json, id_value
from baodan.channels.base import Call, Credentials, Incoming, PlatformError, SignedRequest
from baodan.channels.taobao.adapter import TaobaoAdapter
from baodan.waybills.base import (
    Address,
    CarrierAccount,
    Contact,
    IssuedWaybill,
    Parcel,
    ServedWaybillCall,
    courier_code,
    masked,
)

APPLY_METHOD = "cainiao.waybill.ii.get"
CANCEL_METHOD = "cainiao.waybill.ii.cancel"
REQUEST_PARAM = "param_waybill_cloud_print_apply_new_request"
MAX_PARCELS = 10
DEFAULT_TEMPLATE_URL = "http://cloudprint.cainiao.com/template/standard/101/123"
# the order's platform → order_channels_type (the spec's enum); anything else is OTHERS
ORDER_CHANNELS = {"taobao": "TB", "pdd": "PDD", "douyin": "DY", "kuaishou": "KS", "jd": "JD"}
CHANNELS_BY_TYPE = {v: k for k, v in ORDER_CHANNELS.items()} | {"TM": "taobao"}


class CainiaoAdapter:
    adapter = "cainiao"
    calls_per_second = 10.0
    call_rates: Mapping[str, float] = MappingProxyType({})
    max_per_call = MAX_PARCELS
    default_base_url = "https://eco.taobao.com"
    # BaoDan's courier codes are 菜鸟's own (channels.carriers.LETTER_CODES); 极兔 is HTKY or JTSD depending
    # on the source (the spec flags it): an account sets its platform_code rather than trust a default
    courier_codes: Mapping[str, str] = MappingProxyType({})

    def __init__(self) -> None:
        self._top = TaobaoAdapter()

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        return self._top.sign(creds, call, base_url=base_url, now=now)

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        return self._top.read_response(call, status, body)

    def apply_call(self, account: CarrierAccount, parcels: Sequence[Parcel]) -> Call:
        if not 1 <= len(parcels) <= MAX_PARCELS:
            raise ValueError(f"cainiao applies for 1 to {MAX_PARCELS} parcels a call, not {len(parcels)}")
        extra = account.creds.extra
        user_id = extra.get("user_id")
        if not user_id:
            raise ValueError("cainiao accounts need extra user_id (the seller id that subscribed the service)")
        dtos = [{
            "object_id": p.object_id,
            "order_info": {"order_channels_type": ORDER_CHANNELS.get(p.channel, "OTHERS"),
                           "trade_order_list": [p.platform_order_id]},
            "package_info": {"id": p.object_id, "items": [{"name": name, "count": n} for name, n in p.items],
                             **({"weight": p.weight_g} if p.weight_g else {})},
            "recipient": _recipient(p),
            "template_url": extra.get("template_url") or DEFAULT_TEMPLATE_URL,
            "user_id": id_value(user_id),
        } for p in parcels]
        request = {"cp_code": courier_code(self, account), "sender": _user(account.sender),
                   "trade_order_info_dtos": dtos,
                   "need_encrypt": extra.get("need_encrypt") == "true" or any(p.receiver.oaid for p in parcels)}
        return Call(APPLY_METHOD, {REQUEST_PARAM: request})

    def parse_apply(self, data: dict[str, Any]) -> list[IssuedWaybill]:
        modules = data.get("modules")
        if isinstance(modules, dict):
            modules = modules.get("waybill_cloud_print_response")
        if not isinstance(modules, list):
            raise PlatformError("cainiao answer carries no modules", code="waybills.bad_answer")
        issued = []
        for module in modules:
            if not isinstance(module, dict) or not module.get("waybill_code") or not module.get("object_id"):
                raise PlatformError("cainiao module without waybill_code or object_id", code="waybills.bad_answer",
                                    details={"module": str(module)[:200]})
            print_data = module.get("print_data") or None
            sortation, consolidation = _routing(print_data)
            issued.append(IssuedWaybill(
                object_id=str(module["object_id"]), waybill_no=str(module["waybill_code"]),
                sort_code=sortation.get("name") or None, package_center_code=consolidation.get("code") or None,
                package_center_name=consolidation.get("name") or None, print_data=print_data,
                parent_waybill_no=module.get("parent_waybill_code") or None))
        return issued

    def cancel_call(self, account: CarrierAccount, *, waybill_no: str, object_id: str) -> Call:
        return Call(CANCEL_METHOD, {"cp_code": courier_code(self, account), "waybill_code": waybill_no})

    def parse_cancel(self, data: dict[str, Any]) -> None:
        if data.get("cancel_result") not in (True, "true"):
            raise PlatformError("cainiao did not cancel the number (cancel_result false)",
                                platform_code="cancel_result_false", code="waybills.cancel_refused")

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        return self._top.check_request(creds, request, now=now)

    def read_call(self, call: Call) -> ServedWaybillCall:
        p = call.params
        if call.method == CANCEL_METHOD:
            return ServedWaybillCall("cancel", courier=str(p["cp_code"]), waybill_no=str(p["waybill_code"]))
        if call.method != APPLY_METHOD:
            return ServedWaybillCall("other")
        request = json.loads(p[REQUEST_PARAM]) if isinstance(p[REQUEST_PARAM], str) else p[REQUEST_PARAM]
        dtos = request["trade_order_info_dtos"]
        if not isinstance(dtos, list) or not 1 <= len(dtos) <= MAX_PARCELS:
            raise ValueError(f"trade_order_info_dtos: 1 to {MAX_PARCELS} items")
        parcels = tuple(Parcel(
            object_id=str(dto["object_id"]),
            platform_order_id=str(dto["order_info"]["trade_order_list"][0]),
            channel=CHANNELS_BY_TYPE.get(dto["order_info"].get("order_channels_type"), "custom"),
            receiver=_contact(dto["recipient"]),
            items=tuple((str(i["name"]), int(i["count"])) for i in dto["package_info"]["items"]),
            weight_g=dto["package_info"].get("weight")) for dto in dtos)
        if any(not p.items for p in parcels):
            raise ValueError("package_info.items: at least one item")
        return ServedWaybillCall("apply", courier=str(request["cp_code"]), parcels=parcels,
                                 sender=_contact(request["sender"]),
                                 details={"need_encrypt": bool(request.get("need_encrypt")),
                                          "template_url": dtos[0].get("template_url") or DEFAULT_TEMPLATE_URL})

    def apply_data(self, served: ServedWaybillCall, issued: Sequence[IssuedWaybill], *,
                   repeated: bool = False) -> dict[str, Any]:
        """The modules of the issued numbers (a repeated application answers the same); print data as the
        print component takes it: encrypted when the call asked so, else in clear with the routing."""
        parcels = {p.object_id: p for p in served.parcels}
        modules = []
        for w in issued:
            module: dict[str, Any] = {"object_id": w.object_id, "waybill_code": w.waybill_no,
                                      "print_data": w.print_data or _print_data(served, w, parcels.get(w.object_id))}
            if w.parent_waybill_no:
                module["parent_waybill_code"] = w.parent_waybill_no
            modules.append(module)
        return {"modules": {"waybill_cloud_print_response": modules}}

    def cancel_data(self) -> dict[str, Any]:
        return {"cancel_result": True}

    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes:
        return self._top.envelope(call, data, error=error)


def _recipient(parcel: Parcel) -> dict[str, Any]:
    receiver = parcel.receiver
    hidden = masked(receiver.name) or masked(receiver.phone) or masked(receiver.address.address)
    if hidden and not receiver.oaid:
        raise ValueError(f"order {parcel.platform_order_id}: the receiver is masked and carries no oaid, which is "
                         "all 菜鸟 can open; use the platform's own e-waybill for it")
    user = _user(receiver)
    return user | {"oaid": receiver.oaid, "tid": parcel.platform_order_id} if receiver.oaid else user


def _user(contact: Contact) -> dict[str, Any]:
    a = contact.address
    return {"name": contact.name, "mobile": contact.phone,
            "address": {"province": a.province, "city": a.city, "district": a.district, "town": a.town,
                        "detail": a.address}}


def _contact(user: Mapping[str, Any]) -> Contact:
    a = user["address"]
    return Contact(name=str(user.get("name") or ""), phone=str(user.get("mobile") or user.get("phone") or ""),
                   address=Address(province=str(a["province"]), city=str(a["city"]),
                                   district=str(a.get("district") or ""), address=str(a["detail"]),
                                   town=str(a.get("town") or "")),
                   oaid=user.get("oaid") or None)


def _routing(print_data: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(sortation, consolidation) of clear print data; empty for encrypted or unreadable print data."""
    try:
        doc = json.loads(print_data) if print_data else {}
    except ValueError:
        return {}, {}
    routing = doc.get("data", {}).get("routingInfo") if isinstance(doc, dict) and isinstance(doc.get("data"),
                                                                                          dict) else None
    if not isinstance(routing, dict):
        return {}, {}
    sortation, consolidation = routing.get("sortation"), routing.get("consolidation")
    return (sortation if isinstance(sortation, dict) else {}), (consolidation if isinstance(consolidation, dict)
                                                                else {})


def _print_data(served: ServedWaybillCall, waybill: IssuedWaybill, parcel: Parcel | None) -> str:
    template_url = served.details.get("template_url") or DEFAULT_TEMPLATE_URL
    if served.details.get("need_encrypt"):
        sealed = f"{waybill.waybill_no}:{waybill.object_id}".encode().hex()
        return compact_json({"encryptedData": sealed, "signature": "sim", "templateURL": template_url,
                             "ver": "waybill_print_secret_version_1"})
    data: dict[str, Any] = {
        "waybillCode": waybill.waybill_no, "cpCode": served.courier,
        "routingInfo": {"sortation": {"name": waybill.sort_code or ""},
                        "consolidation": {"code": waybill.package_center_code or "",
                                          "name": waybill.package_center_name or ""}}}
    if parcel is not None:
        data["recipient"] = _user(parcel.receiver)
    if served.sender is not None:
        data["sender"] = _user(served.sender)
    return compact_json({"data": data, "signature": "sim", "templateURL": template_url})


ADAPTER = CainiaoAdapter()

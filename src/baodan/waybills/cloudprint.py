"""The 云打印 取号 shape 菜鸟 (`cainiao.waybill.ii.get`) and 拼多多 (`pdd.waybill.get`) share: one business
parameter `param_waybill_cloud_print_apply_new_request` (JSON text) with the courier's code, the sender, up to
10 `trade_order_info_dtos` and `need_encrypt`; answers `modules[{object_id, waybill_code, print_data,
parent_waybill_code}]`; a cancel `{courier, waybill_code}` answered `{cancel_result}`. Each service is a
platform router (TOP, PDD's): its calls are signed, enveloped and verified by that platform's channel adapter
(`gateway`); a subclass names the methods, the courier field and how a receiver held masked is sent.

Readings shared by both (each adapter's module docstring has its own):

- Each dto: `object_id` (BaoDan's application id), `order_info` {order_channels_type (TB, PDD, DY, KS, JD,
  OTHERS by the order's platform), trade_order_list [the platform's trade id]}, `package_info` {id = the
  object_id, items [{name, count}], weight in g when known}, `recipient` {name, mobile, address{province,
  city, district, town, detail}}, `template_url` (the account's `extra["template_url"]`, else a standard
  template URL of the doc's form [inf]) and `user_id` (the account's `extra["user_id"]`: the seller id).
- Answers: `modules` as a list, or TOP's list wrapping `{"waybill_cloud_print_response": [...]}`. 大头笔 and
  集包地 are read from clear print data: `data.routingInfo.sortation.name` and `.consolidation{code, name}`
  (the shape public print demos show); encrypted print data (need_encrypt) carries none BaoDan can read.
- The same application (object_id and trade) applied for again gets the same number back [inf: what the
  docs' request-id wording suggests]; the simulator plays it so, and BaoDan relies on it after a lost answer.
- Limits: none published; 10 calls/s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from baodan.channels._common import compact_json
from baodan.channels.base import Call, Credentials, Incoming, PlatformError, SignedRequest
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

REQUEST_PARAM = "param_waybill_cloud_print_apply_new_request"
MAX_PARCELS = 10
DEFAULT_TEMPLATE_URL = "http://cloudprint.cainiao.com/template/standard/101/123"
# the order's platform → order_channels_type (the spec's enum); anything else is OTHERS
ORDER_CHANNELS = {"taobao": "TB", "pdd": "PDD", "douyin": "DY", "kuaishou": "KS", "jd": "JD"}
CHANNELS_BY_TYPE = {v: k for k, v in ORDER_CHANNELS.items()} | {"TM": "taobao"}


class CloudPrintAdapter:
    adapter: str
    apply_method: str
    cancel_method: str
    courier_field: str  # cp_code (菜鸟), wp_code (拼多多)
    gateway: Any  # the platform's channel adapter: sign, read_response, check_request, envelope
    calls_per_second = 10.0
    call_rates: Mapping[str, float] = MappingProxyType({})
    max_per_call = MAX_PARCELS
    default_base_url: str
    courier_codes: Mapping[str, str] = MappingProxyType({})

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        return self.gateway.sign(creds, call, base_url=base_url, now=now)

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        return self.gateway.read_response(call, status, body)

    def apply_call(self, account: CarrierAccount, parcels: Sequence[Parcel]) -> Call:
        if not 1 <= len(parcels) <= MAX_PARCELS:
            raise ValueError(f"{self.adapter} applies for 1 to {MAX_PARCELS} parcels a call, not {len(parcels)}")
        extra = account.creds.extra
        user_id = extra.get("user_id")
        if not user_id:
            raise ValueError(f"{self.adapter} accounts need extra user_id (the seller id that subscribed the service)")
        dtos = [{
            "object_id": p.object_id,
            "order_info": {"order_channels_type": ORDER_CHANNELS.get(p.channel, "OTHERS"),
                           "trade_order_list": [p.platform_order_id]},
            "package_info": {"id": p.object_id, "items": [{"name": name, "count": n} for name, n in p.items],
                             **({"weight": p.weight_g} if p.weight_g else {})},
            "recipient": self.recipient(p),
            "template_url": extra.get("template_url") or DEFAULT_TEMPLATE_URL,
            "user_id": self.user_id(user_id),
        } for p in parcels]
        request = {self.courier_field: courier_code(self, account), "sender": user(account.sender),
                   "trade_order_info_dtos": dtos,
                   "need_encrypt": extra.get("need_encrypt") == "true" or any(hidden(p.receiver) for p in parcels)}
        return Call(self.apply_method, {REQUEST_PARAM: request})

    def recipient(self, parcel: Parcel) -> dict[str, Any]:
        """The dto's recipient; a receiver held masked is sent the way the service opens it, else refused
        (ValueError)."""
        raise NotImplementedError

    def user_id(self, value: str) -> Any:
        return value

    def parse_apply(self, data: dict[str, Any]) -> list[IssuedWaybill]:
        modules = data.get("modules")
        if isinstance(modules, dict):
            modules = modules.get("waybill_cloud_print_response")
        if not isinstance(modules, list):
            raise PlatformError(f"{self.adapter} answer carries no modules", code="waybills.bad_answer")
        issued = []
        for module in modules:
            if not isinstance(module, dict) or not module.get("waybill_code") or not module.get("object_id"):
                raise PlatformError(f"{self.adapter} module without waybill_code or object_id",
                                    code="waybills.bad_answer", details={"module": str(module)[:200]})
            print_data = module.get("print_data") or None
            sortation, consolidation = _routing(print_data)
            issued.append(IssuedWaybill(
                object_id=str(module["object_id"]), waybill_no=str(module["waybill_code"]),
                sort_code=sortation.get("name") or None, package_center_code=consolidation.get("code") or None,
                package_center_name=consolidation.get("name") or None, print_data=print_data,
                parent_waybill_no=module.get("parent_waybill_code") or None))
        return issued

    def cancel_call(self, account: CarrierAccount, *, waybill_no: str, object_id: str) -> Call:
        return Call(self.cancel_method, {self.courier_field: courier_code(self, account), "waybill_code": waybill_no})

    def parse_cancel(self, data: dict[str, Any]) -> None:
        if data.get("cancel_result") not in (True, "true"):
            raise PlatformError(f"{self.adapter} did not cancel the number (cancel_result false)",
                                platform_code="cancel_result_false", code="waybills.cancel_refused")

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        return self.gateway.check_request(creds, request, now=now)

    def read_call(self, call: Call) -> ServedWaybillCall:
        p = call.params
        if call.method == self.cancel_method:
            return ServedWaybillCall("cancel", courier=str(p[self.courier_field]), waybill_no=str(p["waybill_code"]))
        if call.method != self.apply_method:
            return ServedWaybillCall("other")
        request = json.loads(p[REQUEST_PARAM]) if isinstance(p[REQUEST_PARAM], str) else p[REQUEST_PARAM]
        dtos = request["trade_order_info_dtos"]
        if not isinstance(dtos, list) or not 1 <= len(dtos) <= MAX_PARCELS:
            raise ValueError(f"trade_order_info_dtos: 1 to {MAX_PARCELS} items")
        parcels = tuple(Parcel(
            object_id=str(dto["object_id"]),
            platform_order_id=str(dto["order_info"]["trade_order_list"][0]),
            channel=CHANNELS_BY_TYPE.get(dto["order_info"].get("order_channels_type"), "custom"),
            receiver=contact(dto["recipient"]),
            items=tuple((str(i["name"]), int(i["count"])) for i in dto["package_info"]["items"]),
            weight_g=dto["package_info"].get("weight")) for dto in dtos)
        if any(not p.items for p in parcels):
            raise ValueError("package_info.items: at least one item")
        return ServedWaybillCall("apply", courier=str(request[self.courier_field]), parcels=parcels,
                                 sender=contact(request["sender"]),
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
        return self.gateway.envelope(call, data, error=error)


def user(contact: Contact) -> dict[str, Any]:
    a = contact.address
    return {"name": contact.name, "mobile": contact.phone,
            "address": {"province": a.province, "city": a.city, "district": a.district, "town": a.town,
                        "detail": a.address}}


def contact(given: Mapping[str, Any]) -> Contact:
    a = given["address"]
    cipher = {"oaid": given["oaid"]} if given.get("oaid") else {}
    return Contact(name=str(given.get("name") or ""), phone=str(given.get("mobile") or given.get("phone") or ""),
                   address=Address(province=str(a["province"]), city=str(a["city"]),
                                   district=str(a.get("district") or ""), address=str(a["detail"]),
                                   town=str(a.get("town") or "")), cipher=cipher)


def _routing(print_data: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(sortation, consolidation) of clear print data; empty for encrypted or unreadable print data."""
    try:
        doc = json.loads(print_data) if print_data else {}
    except ValueError:
        return {}, {}
    data = doc.get("data") if isinstance(doc, dict) else None
    routing = data.get("routingInfo") if isinstance(data, dict) else None
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
        data["recipient"] = user(parcel.receiver)
    if served.sender is not None:
        data["sender"] = user(served.sender)
    return compact_json({"data": data, "signature": "sim", "templateURL": template_url})

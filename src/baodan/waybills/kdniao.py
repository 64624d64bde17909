"""快递鸟 (kdniao) EOrderService: RequestType 1007 (电子面单下单, one number a call) and 1147 (取消电子面单).

The recipe, as the official .NET demo (KdApiEOrderDemo) and the SDKs built on it do it: POST form-encoded
`RequestData` (the business JSON as text), `EBusinessID` (the merchant id), `RequestType`, `DataSign` and
`DataType=2` (JSON), where DataSign = base64(lower-case hex MD5(RequestData + AppKey)), the base64 taken of
the 32 hex characters (not of the 16 digest bytes), and RequestData and DataSign are each URL-encoded once in
the form. Nothing carries a time, so a signed call has no freshness window to check.

Readings where the spec (shared/specs/bills_waybills_addresses.md §D) is silent — the one place to correct
against the sandbox:

- Both request types go to `<base_url>/api/EOrderService` (the demo's path for 1007; 1147 taken to share it).
- 1007 RequestData: OrderCode (BaoDan's application id, unique per number), ShipperCode (快递鸟's code: YD for
  韵达, YZPY for 邮政快递包裹, DBL for 德邦 [spec "DBL?"]; the others as BaoDan writes them), PayType
  (`extra["pay_type"]`, default 1 现付), ExpType 1, the courier account's own parameters where the account
  gives them (`extra`: CustomerName, CustomerPwd, MonthCode, SendSite), Quantity 1 (one parcel, no 子母件),
  IsReturnPrintTemplate 0 (BaoDan keeps no HTML template; the label prints from the returned routing),
  Receiver and Sender {Name, Mobile, ProvinceName, CityName, ExpAreaName, Address}, Commodity [{GoodsName,
  Goodsquantity}], Weight in kg when known. A masked receiver is refused before any call (ValueError): 快递鸟
  takes receivers in clear only.
- Answers: `{EBusinessID, Success, ResultCode, Reason, UniquerRequestNumber, Order{OrderCode, ShipperCode,
  LogisticCode, MarkDestination (大头笔), SortingCode, PackageCode, PackageName (集包地), …}}`. ResultCode 100 is
  success; 106 (该订单号已下单成功) answers an OrderCode applied for before, with its number: success too, so a
  lost answer is recovered by applying again. Other codes (101 缺少必要参数, 102 校验问题, 103 格式问题, 104
  用户问题, 105 其他错误 — the list public code carries) are refusals, retryable only when the Reason reads
  like a rate limit or a busy service. `sort_code` is MarkDestination, else SortingCode.
- 1147 RequestData: ShipperCode, OrderCode, ExpNo, and CustomerName/CustomerPwd where the account has them;
  answered `{Success, ResultCode, Reason}`.
- Limits: none published; 10 calls/s.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode

from baodan.channels import _common
from baodan.channels._common import compact_json
from baodan.channels.base import BadSignature, Call, Credentials, Incoming, PlatformError, SignedRequest
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

PATH = "/api/EOrderService"
APPLY = "1007"
CANCEL = "1147"
FORM = "application/x-www-form-urlencoded;charset=utf-8"
OK_CODES = frozenset({"100", "106"})
REPEATED = ("106", "该订单号已下单成功")
ACCOUNT_FIELDS = ("CustomerName", "CustomerPwd", "MonthCode", "SendSite")


def data_sign(request_data: str, app_key: str) -> str:
    """base64 of the lower-case hex MD5 of RequestData + AppKey (the official demo's `encrypt`)."""
    digest = hashlib.md5((request_data + app_key).encode("utf-8")).hexdigest()
    return base64.b64encode(digest.encode("ascii")).decode("ascii")


class KdniaoAdapter:
    adapter = "kdniao"
    calls_per_second = 10.0
    call_rates: Mapping[str, float] = MappingProxyType({})
    max_per_call = 1
    default_base_url = "https://api.kdniao.com"
    courier_codes: Mapping[str, str] = MappingProxyType({"YUNDA": "YD", "POSTB": "YZPY", "DBKD": "DBL"})

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        text = compact_json(call.params["RequestData"])
        form = {"RequestData": text, "EBusinessID": creds.app_key, "RequestType": call.method,
                "DataSign": data_sign(text, creds.app_secret), "DataType": "2"}
        return SignedRequest("POST", base_url.rstrip("/") + PATH, headers={"content-type": FORM},
                             body=urlencode(form).encode())

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        doc = _common.answer_object("kdniao", call, status, body)
        code = str(doc.get("ResultCode") or "")
        if doc.get("Success") is True or code in OK_CODES:
            return doc
        reason = str(doc.get("Reason") or "")
        raise PlatformError(f"kdniao {call.method}: {code} {reason}".strip(), platform_code=code or None,
                            retryable=_common.sounds_retryable(code, reason), code="waybills.carrier_error",
                            details={"code": code, "reason": reason[:200]})

    def apply_call(self, account: CarrierAccount, parcels: Sequence[Parcel]) -> Call:
        if len(parcels) != 1:
            raise ValueError(f"kdniao applies for one parcel a call, not {len(parcels)}")
        parcel = parcels[0]
        if hidden(parcel.receiver):
            raise ValueError(f"order {parcel.platform_order_id}: the receiver is masked; 快递鸟 takes receivers in "
                             "clear only (use the platform's own e-waybill for it)")
        extra = account.creds.extra
        data: dict[str, Any] = {"OrderCode": parcel.object_id, "ShipperCode": courier_code(self, account),
                                **{k: extra[k] for k in ACCOUNT_FIELDS if extra.get(k)},
                                "PayType": int(extra.get("pay_type") or 1), "ExpType": 1,
                                "Receiver": _person(parcel.receiver), "Sender": _person(account.sender),
                                "Commodity": [{"GoodsName": name, "Goodsquantity": n} for name, n in parcel.items],
                                "Quantity": 1, "IsReturnPrintTemplate": 0}
        if parcel.weight_g:
            data["Weight"] = float(Decimal(parcel.weight_g) / 1000)
        return Call(APPLY, {"RequestData": data})

    def parse_apply(self, data: dict[str, Any]) -> list[IssuedWaybill]:
        order = data.get("Order")
        if not isinstance(order, dict) or not order.get("LogisticCode") or not order.get("OrderCode"):
            raise PlatformError("kdniao answer carries no Order with LogisticCode and OrderCode",
                                code="waybills.bad_answer")
        return [IssuedWaybill(object_id=str(order["OrderCode"]), waybill_no=str(order["LogisticCode"]),
                              sort_code=order.get("MarkDestination") or order.get("SortingCode") or None,
                              package_center_code=order.get("PackageCode") or None,
                              package_center_name=order.get("PackageName") or None,
                              print_data=data.get("PrintTemplate") or None)]

    def cancel_call(self, account: CarrierAccount, *, waybill_no: str, object_id: str) -> Call:
        extra = account.creds.extra
        return Call(CANCEL, {"RequestData": {"ShipperCode": courier_code(self, account), "OrderCode": object_id,
                                             "ExpNo": waybill_no,
                                             **{k: extra[k] for k in ACCOUNT_FIELDS[:2] if extra.get(k)}}})

    def parse_cancel(self, data: dict[str, Any]) -> None:
        return None  # read_response already refused an answer that is not a success

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        params = _common.request_params(request)
        if params.get("EBusinessID") != creds.app_key:
            raise BadSignature("unknown EBusinessID", details={"EBusinessID": params.get("EBusinessID")})
        text = params.get("RequestData")
        if not text or not params.get("RequestType"):
            raise BadSignature("RequestData and RequestType are required")
        if not _common.sign_matches(params.get("DataSign"), data_sign(text, creds.app_secret), hex_digest=False):
            raise BadSignature("DataSign does not match")
        return Call(params["RequestType"], {"RequestData": text, "EBusinessID": params["EBusinessID"]})

    def read_call(self, call: Call) -> ServedWaybillCall:
        data = json.loads(call.params["RequestData"])
        if call.method == CANCEL:
            return ServedWaybillCall("cancel", courier=str(data["ShipperCode"]), waybill_no=str(data["ExpNo"]),
                                     object_id=str(data["OrderCode"]))
        if call.method != APPLY:
            return ServedWaybillCall("other")
        items = tuple((str(c["GoodsName"]), int(c.get("Goodsquantity") or 1)) for c in data["Commodity"])
        if not items:
            raise ValueError("Commodity: at least one item")
        weight = data.get("Weight")
        parcel = Parcel(object_id=str(data["OrderCode"]), platform_order_id=str(data["OrderCode"]), channel="custom",
                        receiver=_contact(data["Receiver"]), items=items,
                        weight_g=int(Decimal(str(weight)) * 1000) if weight else None)
        return ServedWaybillCall("apply", courier=str(data["ShipperCode"]), parcels=(parcel,),
                                 sender=_contact(data["Sender"]))

    def apply_data(self, served: ServedWaybillCall, issued: Sequence[IssuedWaybill], *,
                   repeated: bool = False) -> dict[str, Any]:
        (waybill,) = issued
        order = {"OrderCode": waybill.object_id, "ShipperCode": served.courier, "LogisticCode": waybill.waybill_no,
                 "MarkDestination": waybill.sort_code or "", "PackageCode": waybill.package_center_code or "",
                 "PackageName": waybill.package_center_name or ""}
        data: dict[str, Any] = {"Order": order}
        if repeated:
            data["ResultCode"], data["Reason"] = REPEATED
        return data

    def cancel_data(self) -> dict[str, Any]:
        return {}

    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes:
        head = {"EBusinessID": call.params.get("EBusinessID", ""), "UniquerRequestNumber": str(uuid.uuid4())}
        if error is not None:
            return compact_json({**head, "Success": False, "ResultCode": error[0], "Reason": error[1]}).encode()
        return compact_json({**head, "Success": True, "ResultCode": "100", "Reason": "成功", **(data or {})}).encode()


def _person(contact: Contact) -> dict[str, str]:
    a = contact.address
    return {"Name": contact.name, "Mobile": contact.phone, "ProvinceName": a.province, "CityName": a.city,
            "ExpAreaName": a.district, "Address": f"{a.town}{a.address}" if a.town else a.address}


def _contact(person: Mapping[str, Any]) -> Contact:
    return Contact(name=str(person["Name"]), phone=str(person.get("Mobile") or person.get("Tel") or ""),
                   address=Address(province=str(person["ProvinceName"]), city=str(person["CityName"]),
                                   district=str(person.get("ExpAreaName") or ""), address=str(person["Address"])))


ADAPTER = KdniaoAdapter()

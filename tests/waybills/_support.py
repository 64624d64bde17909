"""What the e-waybill contract tests share: fixtures, accounts and parcels, the contract conformance check and
the server-side round trips (sign → check_request → read_call; apply_data → envelope → read_response →
parse_apply)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from baodan.channels.base import Call, Credentials
from baodan.core.clock import SHANGHAI
from baodan.waybills import base
from baodan.waybills.base import Address, CarrierAccount, Contact, IssuedWaybill, Parcel, ServedWaybillCall
from tests.channels._support import as_incoming

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "waybills"
NOW = datetime(2026, 12, 3, 20, 15, 5, tzinfo=SHANGHAI)
SENDER = Contact("杭州仓", "13900000000", Address("浙江省", "杭州市", "余杭区", "仓前街道 1 号"))


def fixture(adapter: str, name: str) -> Any:
    return json.loads((FIXTURES / adapter / name).read_text(encoding="utf-8"))


def fixture_bytes(adapter: str, name: str) -> bytes:
    return (FIXTURES / adapter / name).read_bytes()


def account(adapter: str, creds: Credentials, *, carrier_code: str = "ZTO",
            platform_code: str | None = None) -> CarrierAccount:
    return CarrierAccount(id=7, name=f"{carrier_code}-{adapter}", adapter=adapter, carrier_code=carrier_code,
                          creds=creds, base_url="http://sim.local", sender=SENDER, platform_code=platform_code)


def parcel(object_id: str = "BD1001", *, cipher: dict[str, str] | None = None, masked_receiver: bool = False,
           channel: str = "douyin", trade: str = "6900000000000001") -> Parcel:
    name, phone, detail = ("张*", "138****8000", "文三路****") if masked_receiver else ("张三", "13800138000",
                                                                                         "文三路 1 号")
    return Parcel(object_id=object_id, platform_order_id=trade, channel=channel,
                  receiver=Contact(name, phone, Address("浙江省", "杭州市", "西湖区", detail), cipher=cipher or {}),
                  items=(("保温杯 500ml", 2), ("杯刷", 1)))


def assert_conforms(adapter: Any, name: str) -> None:
    """Every member of base.WaybillAdapter, with the same parameter names and kinds."""
    members = [n for n in vars(base.WaybillAdapter) if not n.startswith("_")] + list(
        base.WaybillAdapter.__annotations__)
    for member in members:
        assert hasattr(adapter, member), member
        contract = getattr(base.WaybillAdapter, member, None)
        if callable(contract):
            expected = [(p.name, p.kind) for p in inspect.signature(contract).parameters.values()][1:]
            actual = [(p.name, p.kind) for p in inspect.signature(getattr(adapter, member)).parameters.values()]
            assert actual == expected, member
    assert adapter.adapter == name and adapter.calls_per_second > 0 and adapter.max_per_call >= 1
    assert isinstance(adapter.courier_codes, Mapping)


def served(adapter: Any, creds: Credentials, call: Call) -> ServedWaybillCall:
    """sign() → check_request() → read_call(): what the service reads of a call BaoDan makes."""
    request = as_incoming(adapter.sign(creds, call, base_url="http://sim.local", now=NOW))
    return adapter.read_call(adapter.check_request(creds, request, now=NOW))


def answered(adapter: Any, call: Call, served_call: ServedWaybillCall, issued: list[IssuedWaybill], *,
             repeated: bool = False) -> list[IssuedWaybill]:
    """apply_data() → envelope() → read_response() → parse_apply(): what BaoDan reads of the service's answer."""
    body = adapter.envelope(call, adapter.apply_data(served_call, issued, repeated=repeated))
    return adapter.parse_apply(adapter.read_response(call, 200, body))

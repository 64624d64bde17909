"""The one narrow contract every e-waybill (电子面单) adapter fulfils, in both directions, like the platform
adapters' (baodan.channels.base). An adapter is pure: it builds and checks bytes, never opens a socket or
touches the database; the transport (retries, rate limits, the masked call log: channels.transport), the
refill loop and the simulator are generic code around it.

- **client side** (BaoDan calling the carrier's e-waybill service): `sign()` turns a call into a signed HTTP
  request; `read_response()` unwraps the service's envelope or raises `PlatformError`; `apply_call()` asks
  for one number per parcel (up to `max_per_call` parcels a call, where the API takes several) and
  `parse_apply()` reads the numbers issued; `cancel_call()` gives a number back and `parse_cancel()` reads
  whether the service took it back.
- **server side** (what the simulator needs to play the service with the same recipe): `check_request()`
  verifies a signed call (raises `BadSignature`) and returns it; `read_call()` says what it asks for;
  `apply_data()` and `cancel_data()` shape answers; `envelope()` wraps them (or an error) as the service does.

Courier codes differ per service (韵达 is YUNDA at 菜鸟, YD at 快递鸟): BaoDan names couriers by the common
codes and each adapter maps them (`courier_codes`); an account may override the mapping (a courier whose
code the spec marks as conflicting, e.g. 极兔). Readings where the spec is silent are in each adapter's
module docstring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from baodan.channels.base import Call, Credentials, Incoming, SignedRequest


@dataclass(frozen=True)
class Address:
    """A sender's or receiver's address, the region as the platforms write it."""

    province: str
    city: str
    district: str
    address: str  # the rest: street, building, room
    town: str = ""


@dataclass(frozen=True)
class Contact:
    """Who sends or receives a parcel. `cipher`: for a receiver BaoDan holds only masked (name, phone and
    address are then masked values), the platform's ciphertexts of it as the order gave them (淘宝: `oaid`;
    拼多多, 抖店: name, phone, address), for a service that opens them for the label."""

    name: str
    phone: str
    address: Address
    cipher: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Parcel:
    """One parcel to get a number for. `object_id` names the application and is unique per number BaoDan
    asks for (a re-application with the same id gets the same number back: a lost answer costs nothing)."""

    object_id: str
    platform_order_id: str  # the platform's trade id (淘宝 tid), printed and used to open a ciphertext
    channel: str  # the platform the order came from (baodan.channels names; custom for own channels)
    receiver: Contact
    items: tuple[tuple[str, int], ...]  # (name, count)
    weight_g: int | None = None


@dataclass(frozen=True)
class CarrierAccount:
    """A merchant's account with an e-waybill service for one courier, as the adapters need it."""

    id: int
    name: str
    adapter: str  # cainiao, kdniao, pdd, douyin
    carrier_code: str  # BaoDan's courier code: ZTO, YTO, SF, …
    creds: Credentials  # app key and secret; `access_token` the seller's session where the service needs one
    base_url: str
    sender: Contact
    platform_code: str | None = None  # the courier's code at this service when not the adapter's default


@dataclass(frozen=True)
class IssuedWaybill:
    """A number the service issued: for the parcel `object_id` names, with the routing the label prints
    (大头笔 `sort_code`, 集包地 `package_center_*`) where the answer carries it in clear, the service's print
    data (for its print component; None where not asked for) and, for a child parcel (子母件), its parent."""

    object_id: str
    waybill_no: str
    sort_code: str | None = None
    package_center_code: str | None = None
    package_center_name: str | None = None
    print_data: str | None = None
    parent_waybill_no: str | None = None


@dataclass(frozen=True)
class ServedWaybillCall:
    """A verified incoming call as the simulator serves it (`read_call`). `kind`: apply (the `parcels`, for
    `courier`, the service's courier code), cancel (`waybill_no`, and the application's `object_id` where the
    service names one) or other (anything else)."""

    kind: str
    courier: str | None = None
    parcels: tuple[Parcel, ...] = ()
    waybill_no: str | None = None
    object_id: str | None = None
    sender: Contact | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


class WaybillAdapter(Protocol):
    adapter: str  # cainiao, kdniao, pdd, douyin
    calls_per_second: float  # the service's per-app limit BaoDan keeps under
    call_rates: Mapping[str, float]  # method → calls a second, for methods limited below the rest
    max_per_call: int  # parcels one apply_call may carry
    default_base_url: str
    courier_codes: Mapping[str, str]  # BaoDan courier code → the service's

    # client side
    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest: ...
    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]: ...
    def apply_call(self, account: CarrierAccount, parcels: Sequence[Parcel]) -> Call:
        """Numbers for 1..max_per_call parcels; ValueError when a parcel lacks what the service needs (a
        masked receiver without the token this service opens)."""
        ...

    def parse_apply(self, data: dict[str, Any]) -> list[IssuedWaybill]: ...
    def cancel_call(self, account: CarrierAccount, *, waybill_no: str, object_id: str) -> Call: ...
    def parse_cancel(self, data: dict[str, Any]) -> None:
        """Returns when the service took the number back; raises PlatformError when it says it did not."""
        ...

    # server side (the simulator)
    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call: ...
    def read_call(self, call: Call) -> ServedWaybillCall: ...
    def apply_data(self, served: ServedWaybillCall, issued: Sequence[IssuedWaybill], *,
                   repeated: bool = False) -> dict[str, Any]:
        """The answer to the apply call `served`; `repeated`: the numbers were issued before for the same
        applications. Print data the service renders itself is made here (where `issued` carries none)."""
        ...

    def cancel_data(self) -> dict[str, Any]: ...
    def envelope(self, call: Call, data: dict[str, Any] | None, *,
                 error: tuple[str, str] | None = None) -> bytes: ...


def courier_code(adapter: WaybillAdapter, account: CarrierAccount) -> str:
    """The courier's code at the account's service: the account's override, else the adapter's mapping,
    else BaoDan's code as it is (services that use the common codes)."""
    return account.platform_code or adapter.courier_codes.get(account.carrier_code, account.carrier_code)


def masked(value: str | None) -> bool:
    """Whether a name, phone or address is a masked value (as platforms show them: a `*` in it)."""
    return "*" in (value or "")


def hidden(contact: Contact) -> bool:
    """Whether BaoDan holds the contact only masked."""
    return masked(contact.name) or masked(contact.phone) or masked(contact.address.address)

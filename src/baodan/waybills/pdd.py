"""拼多多电子面单: `pdd.waybill.get` (云打印取号) and `pdd.waybill.cancel`, in the 云打印 shape 菜鸟 shares
(waybills.cloudprint, with the readings both share). Both go through PDD's router: signed, enveloped and
verified exactly as the 拼多多 adapter does it (baodan.channels.pdd), with the access token of the shop that
subscribed the courier's e-waybill service. The answers are keyed `pdd_waybill_get_response` /
`pdd_waybill_cancel_response` (the node SDK's names).

Readings where the spec (shared/specs/bills_waybills_addresses.md §D) and the SDK are silent — the one place
to correct against a sandbox:

- The courier is `wp_code` (PDD's own courier codes; BaoDan's common letter codes are taken as they are,
  an account sets its `platform_code` where PDD's differs); `user_id` is sent as text (the SDK's string).
- Recipient: in clear when BaoDan holds it so; a 拼多多 order's receiver BaoDan holds only masked goes by the
  order's ciphertexts, as the order gave them (`platform_cipher` name, phone, address) in the recipient's
  name, mobile and address.detail [inf: the 隐私面单 practice of passing 密文 to PDD's own 取号], with
  `need_encrypt` true. A masked receiver of another platform, or one without the three ciphertexts, is
  refused before any call (ValueError): PDD opens only its own orders' ciphertexts.
- Errors are PDD's `error_response` (retryable: 52101, 52102, 52103, 70031, HTTP 5xx/429; 10019: the token).
"""

from __future__ import annotations

from typing import Any

from baodan.channels.pdd.adapter import PddAdapter
from baodan.waybills.base import Parcel, hidden
from baodan.waybills.cloudprint import CloudPrintAdapter, user

APPLY_METHOD = "pdd.waybill.get"
CANCEL_METHOD = "pdd.waybill.cancel"
CIPHERS = ("name", "phone", "address")


class PddWaybillAdapter(CloudPrintAdapter):
    adapter = "pdd"
    apply_method = APPLY_METHOD
    cancel_method = CANCEL_METHOD
    courier_field = "wp_code"
    default_base_url = "https://gw-api.pinduoduo.com"

    def __init__(self) -> None:
        self.gateway = PddAdapter()

    def recipient(self, parcel: Parcel) -> dict[str, Any]:
        receiver = parcel.receiver
        if not hidden(receiver):
            return user(receiver)
        cipher = receiver.cipher
        if parcel.channel != "pdd" or not all(cipher.get(key) for key in CIPHERS):
            raise ValueError(f"order {parcel.platform_order_id}: the receiver is masked and 拼多多 opens only its own "
                             "orders' ciphertexts (name, phone and address)")
        found = user(receiver)
        found["address"]["detail"] = cipher["address"]
        return found | {"name": cipher["name"], "mobile": cipher["phone"]}


ADAPTER = PddWaybillAdapter()

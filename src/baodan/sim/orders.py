"""The simulated platforms' orders as canonical dicts (docs/canonical-order.md): how a buyer's order is
drawn, and how it changes (paid, cancelled, refunded, address edited, shipped by the seller). Pure: the
random source and the time are passed in."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from baodan.sim.config import PlatformConfig, SimSku
from baodan.sim.store import whole_seconds

# The platforms whose order lists show orders before payment (拼多多 and 京东 show only paid ones).
SHOWS_UNPAID = frozenset({"douyin", "kuaishou", "wechat", "taobao"})
ONE_LINE_ONLY = frozenset({"kuaishou"})  # 快手: one item per order
LINE_IDS = {"douyin": "suffix", "taobao": "suffix", "kuaishou": "order"}  # platforms with line (sub-order) ids

_ID_FORMATS = {"douyin": "69{:017d}", "kuaishou": "2{:017d}", "wechat": "37{:017d}", "taobao": "2{:018d}",
               "jd": "3{:017d}"}
_ADDRESSES = [
    ("浙江省", "杭州市", "西湖区", "文新街道", "文三路 90 号 3 幢 502 室"),
    ("广东省", "广州市", "天河区", "石牌街道", "天河路 385 号 1201 室"),
    ("江苏省", "南京市", "鼓楼区", "湖南路街道", "中山北路 30 号 8 栋 601"),
    ("四川省", "成都市", "武侯区", "玉林街道", "玉林南路 12 号 2 单元 302"),
    ("北京市", "北京市", "朝阳区", "建外街道", "建国路 88 号 SOHO 现代城 2 号楼 1505"),
    ("上海市", "上海市", "浦东新区", "花木街道", "锦绣路 1001 弄 5 号 402 室"),
    ("湖北省", "武汉市", "洪山区", "珞南街道", "珞喻路 129 号 6 栋 203"),
    ("山东省", "青岛市", "市南区", "八大关街道", "香港中路 76 号 1703 室"),
    ("福建省", "厦门市", "思明区", "鹭江街道", "中山路 168 号 3 楼"),
    ("河南省", "郑州市", "金水区", "花园路街道", "花园路 39 号 11 层"),
]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英",
          "霞", "平"]
_MESSAGES = [None, None, None, None, "请尽快发货", "送人的，不要放发票", "周末送货"]


def order_id(channel: str, number: int, *, now: datetime) -> str:
    """A platform order number in the platform's usual shape (拼多多: YYMMDD-digits)."""
    if channel == "pdd":
        return f"{whole_seconds(now):%y%m%d}-{number:016d}"
    return _ID_FORMATS.get(channel, "{:018d}").format(number)


def pick_sku(rng: random.Random, skus: tuple[SimSku, ...], *, hot_skus: int, hot_share: float) -> SimSku:
    """Most orders (`hot_share`) on the first `hot_skus` SKUs, the rest spread over the others."""
    hot = skus[:hot_skus]
    if hot and (rng.random() < hot_share or len(hot) == len(skus)):
        return rng.choice(hot)
    return rng.choice(skus[len(hot):] or skus)


def new_order(rng: random.Random, platform: PlatformConfig, *, platform_order_id: str, now: datetime,
              paid: bool, hot_skus: int, hot_share: float) -> dict[str, Any]:
    """A buyer's new order, paid or not yet, drawn from `rng` (the same draws give the same order)."""
    now = whole_seconds(now)
    first = pick_sku(rng, platform.skus, hot_skus=hot_skus, hot_share=hot_share)
    chosen = [first]
    if platform.channel not in ONE_LINE_ONLY and len(platform.skus) > 1 and rng.random() < 0.15:
        second = rng.choice(platform.skus)
        if second.platform_sku_id != first.platform_sku_id:
            chosen.append(second)
    lines = []
    for i, sku in enumerate(chosen, start=1):
        quantity = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
        line: dict[str, Any] = {"platform_line_id": _line_id(platform.channel, platform_order_id, i),
                                "platform_sku_id": sku.platform_sku_id, "sku_code": sku.sku_code,
                                "title": sku.title, "quantity": quantity, "unit_price_fen": sku.price_fen,
                                "discount_fen": 0, "amount_fen": quantity * sku.price_fen}
        lines.append({k: v for k, v in line.items() if v is not None})
    goods_total = sum(line["amount_fen"] for line in lines)
    discount = 500 if goods_total >= 10_000 and rng.random() < 0.3 else 0
    created_at = now - timedelta(seconds=rng.randint(2, 30))
    return {
        "channel": platform.channel,
        "shop": platform.shop,
        "platform_order_id": platform_order_id,
        "status": "paid" if paid else "unpaid",
        "updated_at": now,
        "created_at": created_at if paid else now,
        "paid_at": now if paid else None,
        "buyer_nick": f"用户{rng.randrange(10**6, 10**7)}",
        "receiver": _receiver(rng),
        "lines": lines,
        "goods_total_fen": goods_total,
        "shipping_fee_fen": 0,
        "discount_fen": discount,
        "paid_total_fen": goods_total - discount,
        "live_room_id": platform.live_room_id,
        "buyer_message": rng.choice(_MESSAGES),
        "seller_memo": None,
    }


# Changes: each mutates the order and returns the push kind, or None where the change does not apply.

def pay(order: dict[str, Any], now: datetime) -> str | None:
    if order["status"] != "unpaid":
        return None
    order["status"], order["paid_at"] = "paid", whole_seconds(now)
    return "paid"


def cancel(order: dict[str, Any], now: datetime) -> str | None:
    if order["status"] not in ("unpaid", "paid"):
        return None  # shipped orders are refunded, not cancelled
    order["status"] = "cancelled"
    return "cancelled"


def refund(order: dict[str, Any], now: datetime) -> str | None:
    if order["status"] not in ("paid", "shipped", "completed"):
        return None
    order["status"] = "refunded"
    return "refund"


def change_address(rng: random.Random) -> Any:
    receiver = _receiver(rng)

    def change(order: dict[str, Any], now: datetime) -> str | None:
        if order["status"] not in ("unpaid", "paid"):
            return None  # the parcel has left
        order["receiver"] = receiver
        return "address_changed"

    return change


def ship(order: dict[str, Any], now: datetime) -> str | None:
    if order["status"] != "paid":
        return None
    order["status"] = "shipped"
    return "shipped"


def ship_lines(shipped: tuple[str, ...]) -> Callable[[dict[str, Any], datetime], str | None]:
    """A parcel with some lines of the order (named by line id, or SKU id where lines have none): the order
    stays paid (部分发货) until its last line ships."""

    def change(order: dict[str, Any], now: datetime) -> str | None:
        if order["status"] != "paid":
            return None
        before = set(order.get("shipped_lines") or ())
        done = before | {str(i) for line in order["lines"]
                         for i in (line.get("platform_line_id"), line.get("platform_sku_id"))
                         if i is not None and str(i) in shipped}
        if done == before:
            return None  # a resent parcel changes nothing
        order["shipped_lines"] = sorted(done)
        every = all(str(line.get("platform_line_id")) in done or str(line.get("platform_sku_id")) in done
                    for line in order["lines"])
        if not every:
            return "other"  # the platform's notice of a change (抖店 108 卖家部分发货); the status stays paid
        order["status"] = "shipped"
        return "shipped"

    return change


def _line_id(channel: str, platform_order_id: str, index: int) -> str | None:
    rule = LINE_IDS.get(channel)
    if rule == "order":
        return platform_order_id
    if rule == "suffix":
        return f"{platform_order_id}{index:02d}"
    return None


def _receiver(rng: random.Random) -> dict[str, str]:
    province, city, district, town, address = rng.choice(_ADDRESSES)
    return {"name": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
            "phone": f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}",
            "province": province, "city": city, "district": district, "town": town, "address": address}

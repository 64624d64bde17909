"""A realistic live-session burst: orders, redeliveries, out-of-order updates and cancellations.

Kept compact (a few small tuples per order) so 300,000 orders fit in tens of MB; canonical JSON is
rendered only when an event is sent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from baodan.demo import Catalog, platform_sku_id
from baodan.orders.model import STATUS_RANK, PlatformStatus

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣"
    "爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹"
    "蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒"
    "伊亚宜可姬舒影荔枝思丽"
)
PLACES = [
    ("浙江省", "杭州市", "西湖区", "文三路"), ("浙江省", "宁波市", "鄞州区", "天童南路"),
    ("广东省", "广州市", "天河区", "体育西路"), ("广东省", "深圳市", "南山区", "科技园南路"),
    ("江苏省", "南京市", "鼓楼区", "中山北路"), ("江苏省", "苏州市", "工业园区", "星湖街"),
    ("上海市", "上海市", "浦东新区", "张江路"), ("北京市", "北京市", "朝阳区", "建国路"),
    ("四川省", "成都市", "武侯区", "天府大道"), ("湖北省", "武汉市", "洪山区", "珞喻路"),
    ("山东省", "青岛市", "市南区", "香港中路"), ("河南省", "郑州市", "金水区", "花园路"),
    ("福建省", "厦门市", "思明区", "湖滨南路"), ("陕西省", "西安市", "雁塔区", "科技路"),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "解放北路"), ("西藏自治区", "拉萨市", "城关区", "北京中路"),
]
CHANNEL_PREFIX = {"douyin": "69", "kuaishou": "23", "taobao": "38", "pdd": "24", "jd": "30", "wechat": "37"}


@dataclass(slots=True)
class GenOrder:
    index: int
    shop: str
    channel: str
    lines: list[tuple[str, int]]  # (sku code, quantity)
    paid_at: datetime
    anomaly: str | None = None  # "unknown_sku" | "missing_address" | "amount_mismatch"

    @property
    def platform_order_id(self) -> str:
        return f"{CHANNEL_PREFIX[self.channel]}{5_000_000_000_000 + self.index * 7919:015d}"


@dataclass(slots=True)
class GenEvent:
    order: int  # index into Burst.orders
    status: str
    updated_at: datetime
    variant: int = 0  # 1 = an address/memo update sent while paid


@dataclass
class Burst:
    orders: list[GenOrder]
    events: list[GenEvent]  # in delivery order, redeliveries included
    duplicates: int = 0
    out_of_order: int = 0
    cancellations: int = 0
    hot_skus: list[str] = field(default_factory=list)

    def final_status(self) -> dict[int, str]:
        """What each order's status must end as: its newest event (update time, then life-cycle stage)."""
        best: dict[int, tuple[datetime, int, str]] = {}
        for e in self.events:
            rank = (e.updated_at, STATUS_RANK[PlatformStatus(e.status)], e.status)
            if e.order not in best or rank > best[e.order]:
                best[e.order] = rank
        return {k: v[2] for k, v in best.items()}


def generate_burst(cat: Catalog, orders: int, *, seed: int = 42, start: datetime, seconds: float = 600.0,
                   hot_count: int = 3, hot_share: float = 0.6, duplicate_rate: float = 0.05,
                   out_of_order_rate: float = 0.02, cancel_rate: float = 0.01,
                   anomaly_rate: float = 0.003) -> Burst:
    rng = random.Random(seed)
    hot = cat.sku_codes[:hot_count]
    cold = cat.sku_codes[hot_count:] + cat.bundle_codes
    shops = list(cat.shop_ids)
    weights = [0.6, 0.25, 0.15][:len(shops)]
    gen_orders: list[GenOrder] = []
    keyed: list[tuple[float, GenEvent]] = []
    burst = Burst(gen_orders, [], hot_skus=hot)
    step = seconds / max(1, orders)
    for i in range(orders):
        shop = rng.choices(shops, weights)[0]
        n_lines = rng.choices((1, 2, 3), (0.7, 0.2, 0.1))[0]
        skus: list[str] = []
        while len(skus) < n_lines:
            code = rng.choice(hot) if rng.random() < hot_share else rng.choice(cold)
            if code not in skus:
                skus.append(code)
        lines = [(code, rng.choices((1, 2), (0.9, 0.1))[0]) for code in skus]
        paid_at = start + timedelta(seconds=i * step, milliseconds=rng.randrange(0, 1000))
        order = GenOrder(i, shop, cat.shop_channels[shop], lines, paid_at)
        if rng.random() < anomaly_rate:
            order.anomaly = rng.choice(("unknown_sku", "missing_address", "amount_mismatch"))
        gen_orders.append(order)
        paid = GenEvent(i, "paid", paid_at)
        keyed.append((float(i), paid))
        if rng.random() < out_of_order_rate:  # a newer update overtakes the original push
            burst.out_of_order += 1
            keyed.append((i - 0.5, GenEvent(i, "paid", paid_at + timedelta(seconds=rng.randrange(5, 60)), 1)))
        if rng.random() < cancel_rate:
            burst.cancellations += 1
            when = paid_at + timedelta(seconds=rng.randrange(30, 300))
            position = i - 0.25 if rng.random() < 0.3 else i + rng.randrange(50, 3000)
            keyed.append((float(position), GenEvent(i, "cancelled", when)))
    for position, event in list(keyed):
        if rng.random() < duplicate_rate:
            burst.duplicates += 1
            keyed.append((position + rng.randrange(10, 5000) + 0.1, event))
    keyed.sort(key=lambda pair: pair[0])
    burst.events = [event for _, event in keyed]
    return burst


def render(cat: Catalog, order: GenOrder, event: GenEvent) -> dict[str, Any]:
    """The canonical order JSON a channel adapter would produce for this event."""
    rng = random.Random(order.index)
    lines = []
    for n, (code, qty) in enumerate(order.lines, start=1):
        price = cat.prices[code]
        lines.append({
            "platform_line_id": f"{order.platform_order_id}-{n}",
            "platform_sku_id": platform_sku_id(order.shop, code) if order.anomaly != "unknown_sku" or n > 1
            else f"UNMAPPED-{order.index}",
            "title": cat.titles[code], "quantity": qty, "unit_price_fen": price, "discount_fen": 0,
            "amount_fen": price * qty,
        })
    goods = sum(line["amount_fen"] for line in lines)
    discount = 500 if goods > 10000 and rng.random() < 0.3 else 0
    province, city, district, road = rng.choice(PLACES)
    receiver: dict[str, Any] | None = {
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
        "phone": f"1{rng.choice('3456789')}{rng.randrange(10**8, 10**9)}",
        "province": province, "city": city, "district": district,
        "address": f"{road}{rng.randrange(1, 999)}号{rng.randrange(1, 30)}幢{rng.randrange(101, 2999)}室",
    }
    if order.anomaly == "missing_address":
        receiver = None
    elif event.variant == 1 and receiver is not None:
        receiver["address"] += "（已改地址）"
    body: dict[str, Any] = {
        "channel": order.channel, "shop": order.shop, "platform_order_id": order.platform_order_id,
        "status": event.status, "updated_at": event.updated_at.isoformat(),
        "created_at": (order.paid_at - timedelta(seconds=rng.randrange(2, 40))).isoformat(),
        "paid_at": order.paid_at.isoformat(), "buyer_nick": f"用户{rng.randrange(10**6, 10**7)}",
        "receiver": receiver, "lines": lines, "goods_total_fen": goods, "shipping_fee_fen": 0,
        "discount_fen": discount,
        "paid_total_fen": goods - discount + (1 if order.anomaly == "amount_mismatch" else 0),
    }
    if order.channel == "douyin":
        body["live_room_id"] = "7301234567890"
    if event.variant == 1:
        body["seller_memo"] = "买家申请修改地址"
    return body

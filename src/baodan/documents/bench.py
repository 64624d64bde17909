"""`baodan bench labels`: render a print job of generated labels into one PDF and report labels/s (wall
clock and per CPU-second: typst lays out and writes pages on more than one thread), peak RSS and size."""

from __future__ import annotations

import os
import random
import resource
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from baodan.documents import render
from baodan.documents.fonts import cjk_fonts
from baodan.documents.model import LabelData, LabelItem, PageSize, Party

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗欧阳"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
_PLACES = (("浙江省", "杭州市", "西湖区"), ("广东省", "深圳市", "南山区"), ("上海市", "上海市", "浦东新区"),
           ("四川省", "成都市", "武侯区"), ("江苏省", "苏州市", "工业园区"), ("北京市", "北京市", "朝阳区"),
           ("湖北省", "武汉市", "洪山区"), ("新疆维吾尔自治区", "乌鲁木齐市", "天山区"))
_STREETS = ("文三路", "科技园南路", "世纪大道", "天府大道北段", "星湖街", "建国路", "珞喻路", "解放北路")
_TITLES = ("夏季新款冰丝防晒衣女 UPF50+ 透气薄款外套", "纯棉短袜 5 双装 男女同款", "保温杯 316 不锈钢 500ml 大容量",
           "直播间专享 玻尿酸补水面膜 10 片", "儿童加绒卫衣 秋冬款 120-160 码", "手工红糖姜茶 12 袋礼盒装",
           "无线蓝牙耳机 降噪 超长续航", "五常大米 稻花香 5kg 真空包装")
_CARRIERS = ("中通快递", "圆通速递", "韵达快递", "申通快递", "极兔速递", "顺丰速运")


@dataclass(frozen=True, slots=True)
class LabelBench:
    count: int
    size: str
    chunk_pages: int
    chunks: int
    seconds: float
    labels_per_s: float
    cpu_seconds: float  # user + system, all threads
    labels_per_cpu_s: float  # what one core renders
    cores: int
    peak_rss_mb: float  # the whole process, fonts and warm-up included
    output_bytes: int
    font: str


def sample_labels(count: int, *, seed: int = 7) -> Iterator[LabelData]:
    """Labels as a busy shop prints them: 1–4 items, about a third for platform-encrypted receivers."""
    rng = random.Random(seed)
    for n in range(count):
        province, city, district = rng.choice(_PLACES)
        items = tuple(LabelItem(sku_code=f"SKU-{rng.randrange(1, 400):04d}", title=rng.choice(_TITLES),
                                qty=rng.choice((1, 1, 1, 2, 3))) for _ in range(rng.choice((1, 1, 2, 3, 4))))
        yield LabelData(
            waybill_no=f"7{rng.randrange(10**13, 10**14)}", carrier=rng.choice(_CARRIERS),
            receiver=Party(name=rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.choice((1, 2)))),
                           phone=f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}", province=province,
                           city=city, district=district,
                           address=f"{rng.choice(_STREETS)} {rng.randrange(1, 999)} 号 {rng.randrange(1, 30)} 幢 "
                                   f"{rng.randrange(101, 2800)} 室"),
            sender=Party(name="爆单旗舰店", phone="0571-88886666", province="浙江省", city="杭州市",
                         district="余杭区", address="仓前街道良睦路 1399 号 梦想小镇 3 号仓"),
            order_no=f"BD{20261202000000 + n}", shop="抖店 · 爆单旗舰店", items=items,
            sort_code=f"{rng.randrange(100, 999)}-{rng.choice('ABWX')}{rng.randrange(1, 99):02d} "
                      f"{rng.randrange(1, 99):02d}",
            package_center=f"{city.removesuffix('市')}转运中心", platform_encrypted=rng.random() < 0.33)


def run(*, count: int, size: PageSize, chunk_pages: int = render.CHUNK_PAGES, output: str | None = None,
        seed: int = 7) -> LabelBench:
    render.render_label(next(sample_labels(1, seed=seed)), size=size)  # load fonts and templates first
    with (open(output, "wb") if output else tempfile.TemporaryFile()) as out:
        cpu0, wall0 = os.times(), time.perf_counter()
        job = render.render_labels(sample_labels(count, seed=seed), out, size=size, chunk_pages=chunk_pages)
        wall, cpu1 = time.perf_counter() - wall0, os.times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return LabelBench(
        count=job.pages, size=str(size), chunk_pages=chunk_pages, chunks=job.chunks, seconds=round(wall, 3),
        labels_per_s=round(job.pages / wall, 1), cpu_seconds=round(cpu, 3),
        labels_per_cpu_s=round(job.pages / cpu, 1) if cpu else 0.0, cores=os.cpu_count() or 1,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        output_bytes=job.bytes_written, font=cjk_fonts().source)


def report(result: LabelBench, *, as_json: bool, console: Any) -> None:
    if as_json:
        print(orjson.dumps(asdict(result)).decode())
        return
    console.print(f"{result.count:,} labels {result.size} in {result.chunks} typst run(s) of ≤{result.chunk_pages}: "
                  f"{result.seconds:.2f} s, [bold]{result.labels_per_s:,.0f} labels/s[/bold] "
                  f"({result.labels_per_cpu_s:,.0f} per CPU-second: {result.cpu_seconds:.2f} s CPU on "
                  f"{result.cores} core(s)); peak RSS {result.peak_rss_mb:,.0f} MB; "
                  f"PDF {result.output_bytes / 1e6:,.1f} MB; font: {result.font}", soft_wrap=True)

"""数字大屏 in chromium: a live session played by the platform simulator (抖店 pushing signed webhooks to the
server, which reads the orders back) moves the open screen while it runs, over /events and without a
reload — orders, GMV, each minute's orders, the channel breakdown and the hot SKU's stock; a stream that goes
quiet is reopened; on a phone it stacks."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from baodan.core import clock
from baodan.sim import Simulator, load_config
from baodan.sim.config import demo_skus
from tests.ui.conftest import Server, _wait, login, shot

SHOP = "DY-LIVE"  # a 抖店 shop of the test's own, so the demo's shops and their figures stay as they were
PLATFORM_SHOP_ID = "77000001"
ROOM = "7309990000001"  # its live room: the simulator's orders name it, so they count in the test's session
TITLE = "模拟直播专场"
SKUS = 12  # the simulator sells the first SKUs of the demo catalog; its first three are the hot ones
HOT_SKU = "P001-0001"  # the hottest, and the SKU of the order sent before the session (FIRST_SEED)
FIRST_SEED = 1
SESSION_ORDERS = 240
SESSION_RATE = 20.0  # orders a second: 12 s of orders, while the screen gets an event every 2 s
SETTLE_S = 150  # BaoDan holding every order, plus (in the worst case) the dashboard's 60 s re-sum of older orders

# Keeps the figures of every `dashboard` event the page's EventSource receives, when it receives it (the
# page's own listeners are untouched), so the test can tell what the stream brought while the session ran.
RECORD_STREAM = """
(() => {
  const Native = window.EventSource
  const seen = (window.__dashboardEvents = [])
  window.EventSource = class extends Native {
    constructor(url, init) {
      super(url, init)
      this.addEventListener('dashboard', (event) => {
        const d = JSON.parse(event.data)
        seen.push({
          at: Date.now(), orders: d.totals.orders, gmv: d.totals.gmv_fen,
          minutes: Object.fromEntries(d.per_minute.map((m) => [m.at, m.orders])),
          channels: Object.fromEntries(d.channels.map((c) => [c.channel, c.orders])),
          sellable: Object.fromEntries(d.hot_skus.map((s) => [s.sku_code, s.sellable])),
        })
      })
    }
  }
})()
"""


@dataclass(frozen=True)
class Shown:
    """The figures on the screen (each animated number's target)."""

    orders: int
    gmv_fen: int
    sellable: int | None  # HOT_SKU's stock left to sell; None when not shown (not a hot SKU, or sold out)

    @classmethod
    def read(cls, page: Any) -> Shown:
        sellable = page.locator(f"[data-test=hot-{HOT_SKU}] [data-test=sellable] [data-value]")
        return cls(_figure(page, "orders"), _figure(page, "gmv"),
                   int(sellable.get_attribute("data-value")) if sellable.count() else None)


@dataclass(frozen=True)
class LiveRoom:
    sim: Simulator
    live_session_id: int
    first: dict[str, Any]  # the order sent through before the session


@pytest.fixture(scope="session")
def simulated_shop(server: Server) -> Iterator[Simulator]:
    """SHOP, set up through the API as a merchant would (its SKU mappings, and credentials that point it at an
    in-process simulator pushing to the server). The simulator runs until the server stops: the shop stays
    connected, and calls to a stopped platform would be retried with waits in the server's background loops
    (slowing the later tests and the server's shutdown)."""
    config = load_config(port=0)
    douyin = config.platforms["douyin"]
    douyin = replace(douyin, shop=SHOP, skus=demo_skus(SHOP)[:SKUS], live_room_id=ROOM,
                     credentials=replace(douyin.credentials, shop_id=PLATFORM_SHOP_ID))
    config = replace(config, platforms={"douyin": douyin},
                     # orders paid a moment after they are placed (the default share) count on the session too
                     session=replace(config.session, orders=SESSION_ORDERS, rate=SESSION_RATE, seed=7,
                                     follow_up_min_s=0.5, follow_up_max_s=2.0),
                     pushes=replace(config.pushes, push_to=server.url))
    with Simulator(config) as sim, server.api() as api:
        resp = api.post("/api/v1/shops", json={"code": SHOP, "name": "抖店 模拟直播间", "channel": "douyin",
                                               "platform_shop_id": PLATFORM_SHOP_ID, "default_warehouse": "WH-HZ",
                                               "fallback_warehouses": ["WH-GZ"]})
        assert resp.status_code == 201, resp.text
        shop_id = resp.json()["id"]
        resp = api.put(f"/api/v1/shops/{shop_id}/sku-mappings", json=[
            {"platform_sku_id": s.platform_sku_id, "sku": s.sku_code, "platform_product_id": s.platform_product_id}
            for s in douyin.skus])
        assert resp.status_code == 200, resp.text
        creds = sim.credentials("douyin")
        resp = api.put(f"/api/v1/shops/{shop_id}/credentials", json={
            "app_key": creds.app_key, "app_secret": creds.app_secret, "platform_shop_id": creds.shop_id,
            "base_url": sim.base_url("douyin"), "access_token": creds.access_token,
            "refresh_token": creds.refresh_token, "extra": dict(creds.extra)})
        assert resp.status_code == 200, resp.text
        yield sim


@pytest.fixture
def live_room(server: Server, simulated_shop: Simulator) -> Iterator[LiveRoom]:
    """A live session of SHOP in ROOM, started a minute ago, with one order through the simulator in it — the
    server re-reads connected shops every 10 s, so the test starts on a path known to work. Ended afterwards,
    so the dashboard's latest session is the demo's again."""
    with server.api() as api:
        resp = api.post("/api/v1/live-sessions", json={
            "shop": SHOP, "title": TITLE, "host": "主播小林", "room_id": ROOM,
            "started_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "featured_skus": [s.sku_code for s in simulated_shop.config.platforms["douyin"].skus[:3]]})
        assert resp.status_code == 201, resp.text
        session_id = resp.json()["id"]
        try:
            (first,) = simulated_shop.add_orders("douyin", 1, seed=FIRST_SEED)
            assert [line["sku_code"] for line in first["lines"]] == [HOT_SKU]
            _wait(lambda: [o["live_session_id"] for o in api.get(
                "/api/v1/orders", params={"platform_order_id": first["platform_order_id"]}).json()["items"]]
                == [session_id], 90, "the simulator's first order to reach BaoDan")
            yield LiveRoom(simulated_shop, session_id, first)
        finally:
            resp = api.post(f"/api/v1/live-sessions/{session_id}/end", json={"ended_at": datetime.now(UTC).isoformat()})
            assert resp.status_code == 200, resp.text


def test_a_simulated_live_session_moves_the_dashboard_while_it_runs(page, server: Server, live_room: LiveRoom) -> None:
    from playwright.sync_api import TimeoutError as NotYet

    page.add_init_script(RECORD_STREAM)
    snapshots: list[str] = []
    page.on("request", lambda r: snapshots.append(r.url) if "/api/v1/dashboard" in r.url else None)
    login(page)
    page.set_viewport_size({"width": 1920, "height": 1080})  # a TV
    page.locator("[data-test=nav] .el-menu-item", has_text="数字大屏").click()
    page.wait_for_url("**/dashboard")
    page.wait_for_selector("[data-test=stream-status][data-status=live]")
    assert page.locator("[data-test=nav]").count() == 0  # the whole window, no console frame
    assert page.inner_text("[data-test=dashboard-title]") == TITLE  # the latest session
    assert page.locator("[data-test=live-badge]").inner_text().strip() == "直播中"
    page.wait_for_selector(f"[data-test=hot-{HOT_SKU}] [data-test=sellable] [data-value]")
    before = _settled(page)
    assert (before.orders, before.gmv_fen) == (1, live_room.first["paid_total_fen"])
    assert before.sellable is not None and before.sellable > 0
    shot(page, "dashboard-live-before")

    page.evaluate("window.__sameDocument = true")
    loaded = len(snapshots)
    started_ms = page.evaluate("Date.now()")
    live_room.sim.start_session()

    # the screen shows part of the session: it moves while the simulator plays it, not only at the end
    page.wait_for_function(
        "n => Number(document.querySelector('[data-test=kpi-orders] [data-value]').dataset.value) > n",
        arg=before.orders, timeout=60_000)
    during = Shown.read(page)
    assert before.orders < during.orders < before.orders + SESSION_ORDERS
    _settled(page)
    shot(page, "dashboard-live-during")

    status = live_room.sim.wait_session(timeout_s=90)
    live_room.sim.wait_pushes(timeout_s=90)
    orders = [o for o in live_room.sim.store.orders("douyin")
              if o["platform_order_id"] != live_room.first["platform_order_id"]]
    assert len(orders) == SESSION_ORDERS and all(o["paid_at"] is not None for o in orders)  # some cancelled later
    expected = (before.orders + len(orders), before.gmv_fen + sum(o["paid_total_fen"] for o in orders))
    try:
        page.wait_for_function(
            "([orders, gmv]) => [['orders', orders], ['gmv', gmv]].every(([k, n]) => Number(document.querySelector("
            "`[data-test=kpi-${k}] [data-value]`).dataset.value) === n)", arg=list(expected), timeout=SETTLE_S * 1000)
    except NotYet:
        raise AssertionError(f"the screen never showed the whole session, {expected} (orders, GMV in fen): it shows "
                             f"{Shown.read(page)}; {_behind(server, orders)}") from None
    after = _settled(page)
    assert (after.orders, after.gmv_fen) == expected
    assert after.sellable is not None and after.sellable < before.sellable  # held for the session's orders
    shot(page, "dashboard-live-after")

    # what the stream brought while the simulator played the session: every figure moved
    events = page.evaluate("window.__dashboardEvents")
    start = [e for e in events if e["at"] < started_ms][-1]
    live = [e for e in events if started_ms <= e["at"] <= _ms(status["finished_at"])]
    raised = {e["orders"] for e in live if e["orders"] > start["orders"]}
    assert len(raised) >= 2, live  # the count rose in steps, as BaoDan took the orders in
    moved = live[-1]
    assert moved["orders"] > start["orders"] and moved["gmv"] > start["gmv"]
    assert moved["channels"]["douyin"] > start["channels"]["douyin"]
    assert any(n > start["minutes"].get(at, 0) for at, n in moved["minutes"].items())
    assert moved["sellable"][HOT_SKU] < start["sellable"][HOT_SKU]

    # the charts draw the final figures: 抖店's slice, and each minute the session's orders were paid in
    paid = Counter(clock.as_utc(o["paid_at"]).replace(second=0).isoformat() for o in orders)
    final = page.evaluate("window.__dashboardEvents.at(-1)")
    for at, count in paid.items():
        assert final["minutes"][at] == start["minutes"].get(at, 0) + count, at
    _hover_until(page, "chart-channels", _on_the_ring, f"抖店\n{after.orders:,} (100%)\n{_fen(after.gmv_fen)}")
    for at in paid:
        label = clock.to_shanghai(datetime.fromisoformat(at)).strftime("%H:%M")
        _hover_until(page, "chart-per-minute", lambda box, at=at: _on_minute(page, box, at),
                     f"{label}\n", f"订单: {final['minutes'][at]:,}")

    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert len(snapshots) == loaded  # nor a snapshot fetched again: the stream brought every change
    assert page.locator("[data-test=stream-status]").get_attribute("data-status") == "live"


def test_a_stream_that_goes_quiet_is_reopened(page, server: Server) -> None:
    page.clock.install()  # time runs as usual; fast_forward below jumps it to make the stream look dead
    login(page)
    page.goto("/dashboard")
    page.wait_for_selector("[data-test=stream-status][data-status=live]")
    page.evaluate("window.__sameDocument = true")
    # a stream that goes quiet (a dead connection nobody closed) is given up and a new one opened
    with page.expect_request("**/events?*") as reopened:
        page.clock.fast_forward(13_000)
        page.wait_for_selector("[data-test=stream-status]:not([data-status=live])")
    assert "top=10" in reopened.value.url
    page.wait_for_selector("[data-test=stream-status][data-status=live]")
    assert page.evaluate("window.__sameDocument") is True


def test_the_dashboard_switches_session_and_stacks_on_a_phone(browser, server: Server) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  timezone_id="America/New_York", is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login(page)
        page.goto("/dashboard")
        page.wait_for_selector("[data-test=stream-status][data-status=live]")
        _settled(page)
        # stacked: the per-minute chart lies above the hot SKUs, both the screen's width
        trend = page.locator("[data-test=chart-per-minute]").bounding_box()
        hot = page.locator("[data-test=hot-skus]").bounding_box()
        assert trend and hot and hot["y"] > trend["y"] + trend["height"] - 1
        assert trend["width"] > 300
        shot(page, "dashboard-phone")
        # today's figures instead of the session: the URL keeps the choice, the stream follows it
        page.click("[data-test=session-picker]")
        page.locator(".el-select-dropdown__item:visible", has_text="今日").first.click()
        page.wait_for_url("**/dashboard?session=today")
        page.wait_for_function(
            "() => document.querySelector('[data-test=dashboard-title]').innerText.startsWith('今日')")
        page.wait_for_selector("[data-test=stream-status][data-status=live]")
        assert _figure(page, "orders") > 0
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


# ------------------------------------------------------------------------------------------ helpers


def _figure(page: Any, name: str) -> int:
    return int(page.get_attribute(f"[data-test=kpi-{name}] [data-value]", "data-value"))


def _fen(fen: int) -> str:
    """As the console writes money (utils/money.ts formatFen)."""
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def _ms(at: datetime) -> float:
    return at.timestamp() * 1000


def _behind(server: Server, orders: list[dict[str, Any]]) -> str:
    """Where BaoDan differs from the simulator's orders, for a failure's message."""
    with server.api() as api:
        totals = api.get("/api/v1/dashboard").json()["totals"]
        held = {o["platform_order_id"]: o for o in api.get("/api/v1/orders", params={"shop": SHOP, "limit": 500}
                                                           ).json()["items"]}
        sync = api.get("/api/v1/channels/status").json()
    missing = [o["platform_order_id"] for o in orders if o["platform_order_id"] not in held]
    differ = [(o["platform_order_id"], o["status"], o["paid_total_fen"], mine["platform_status"], mine["paid_at"],
               mine["paid_total_fen"])
              for o in orders if (mine := held.get(o["platform_order_id"])) is not None
              and (mine["paid_at"] is None or mine["paid_total_fen"] != o["paid_total_fen"])]
    return (f"the dashboard API says {totals}; BaoDan lacks {len(missing)} of the simulator's orders {missing[:5]}, "
            f"holds {len(differ)} unpaid or with another total {differ[:5]}; sync state {sync}")


def _settled(page: Any) -> Shown:
    """The figures once the numbers have run to their targets (so a screenshot shows them)."""
    page.wait_for_function("""() => {
      const shown = (sel) => document.querySelector(sel)
      const orders = shown('[data-test=kpi-orders] [data-value]')
      const stock = shown('[data-test=sellable] [data-value]')
      return orders.innerText === Number(orders.dataset.value).toLocaleString('zh-CN')
        && (!stock || stock.innerText === Number(stock.dataset.value).toLocaleString('zh-CN'))
    }""")
    shown = Shown.read(page)
    page.wait_for_function("t => document.querySelector('[data-test=kpi-gmv]').innerText.trim() === t",
                           arg=_fen(shown.gmv_fen))
    return shown


def _hover_until(page: Any, chart: str, point: Callable[[dict[str, float]], tuple[float, float]], *texts: str,
                 timeout_s: float = 20) -> None:
    """Point at a chart (the canvas has no text to read) until its tooltip says all of `texts`."""
    from playwright.sync_api import TimeoutError as NotYet

    locator = page.locator(f"[data-test={chart}]")
    deadline = time.monotonic() + timeout_s
    said = ""
    while time.monotonic() < deadline:
        box = locator.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + 2, box["y"] + 2)  # off the series: the next move shows the tooltip anew
        page.mouse.move(*point(box))
        try:
            page.wait_for_function("([sel, texts]) => { const t = document.querySelector(sel).innerText; "
                                   "return texts.every((s) => t.includes(s)) }",
                                   arg=[f"[data-test={chart}]", list(texts)], timeout=2_000)
            return
        except NotYet:  # point again: the figures (or the minute) may have moved on
            said = locator.inner_text()
    raise AssertionError(f"the {chart} tooltip never said {texts!r}; last: {said!r}")


def _on_the_ring(box: dict[str, float]) -> tuple[float, float]:
    """A point on the channel doughnut (charts.ts: centre at 50 %/44 %, radius 42–68 % of the half side)."""
    return box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.44 - 0.55 * min(box["width"], box["height"]) / 2


def _on_minute(page: Any, box: dict[str, float], at: str) -> tuple[float, float]:
    """Above the bar of minute `at` in the latest figures (charts.ts on a big screen: grid 86 px from the left,
    56 px from the right, 48 px from the top and 36 px from the bottom; 60 minutes, oldest first)."""
    minutes = list(page.evaluate("window.__dashboardEvents.at(-1).minutes"))
    index = minutes.index(at)
    width = box["width"] - 86 - 56
    return box["x"] + 86 + (index + 0.5) * width / len(minutes), box["y"] + 48 + (box["height"] - 84) / 2

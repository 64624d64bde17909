"""The simulator's settings: which platforms it plays, each one's credentials, shop and SKUs, the live
session's shape and the push delivery budget. Read from a TOML file; whatever it leaves out has a
deterministic default, and the defaults match `baodan init --demo` (shops, platform shop ids, SKUs)."""

from __future__ import annotations

import base64
import hashlib
import random
import tomllib
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from baodan.channels.base import Credentials
from baodan.core.errors import BaoDanError
from baodan.sim.waybills import CarrierSim, carriers_from_raw, default_carriers

PLATFORMS = ("douyin", "kuaishou", "wechat", "taobao", "pdd", "jd")
DEMO_SKU_COUNT = 200  # what seed_catalog creates by default
DEMO_LIVE_ROOM_ID = "7301234567890"  # the demo live session's room (DY-FLAGSHIP)
OTHER_SHOPS = {"wechat": "WX-STORE", "pdd": "PDD-STORE", "jd": "JD-STORE"}  # platforms without a demo shop
# Each platform's token lifetimes in seconds: (access token, refresh token; None: none or not stated) and how
# long a replaced access token keeps working. From the specs for 抖店 (7 d, 14 d), 快手 (48 h, 180 d) and
# 微信 (7200 s, no refresh token; the old token works 5 more minutes); plausible stand-ins for 淘宝, 拼多多
# (1 d, 30 d) and 京东 (1 year, not stated) [inf].
TOKEN_LIFETIMES: dict[str, tuple[float, float | None, float]] = {
    "douyin": (7 * 86400, 14 * 86400, 0), "kuaishou": (172800, 15552000, 0), "wechat": (7200, None, 300),
    "taobao": (86400, 30 * 86400, 0), "pdd": (86400, 30 * 86400, 0), "jd": (365 * 86400, None, 0)}


class SimConfigError(BaoDanError):
    code = "sim.invalid_config"
    status = 422


@dataclass(frozen=True, slots=True)
class SimSku:
    """A SKU as the platform lists it: its id there, the merchant code (商家编码), title and price."""

    platform_sku_id: str
    sku_code: str | None = None
    title: str = ""
    price_fen: int = 9900
    platform_product_id: str | None = None


@dataclass(frozen=True)
class PlatformConfig:
    channel: str
    shop: str  # the BaoDan shop code this platform shop is
    credentials: Credentials
    skus: tuple[SimSku, ...]
    push_url: str | None = None  # overrides <push_to>/webhooks/<channel>
    initial_stock: int = 0  # the platform's sellable level of every SKU before any stock push
    live_room_id: str | None = None
    # access tokens the platform issues live token_lifetime_s (the configured one counts from start-up);
    # refresh tokens (issued where the configured credentials have one) refresh_lifetime_s (None: no stated
    # lifetime) and are good for one refresh; a replaced access token works token_grace_s more
    token_lifetime_s: float = 7200.0
    refresh_lifetime_s: float | None = None
    token_grace_s: float = 0.0
    encrypt_receivers: bool = True  # orders show masked receivers and carry ciphertexts (decrypt calls open them)


@dataclass(frozen=True)
class SessionConfig:
    """A live session: `orders` orders at `rate` per second, `hot_share` of them on the first `hot_skus`
    SKUs of each platform, and small ratios of follow-up events and delivery accidents."""

    rate: float = 50.0
    orders: int = 1000
    hot_skus: int = 3
    hot_share: float = 0.8
    seed: int = 1
    platforms: tuple[str, ...] = ()  # empty: the platforms with a demo shop (or the one served at the root)
    unpaid_first_ratio: float = 0.05  # the order appears unpaid first, then paid
    cancel_ratio: float = 0.02
    refund_ratio: float = 0.02
    address_change_ratio: float = 0.03
    duplicate_ratio: float = 0.02  # the same signed push delivered twice
    out_of_order_ratio: float = 0.01  # an older state delivered after a newer one
    out_of_order_delay_s: float = 1.0
    follow_up_min_s: float = 1.0  # cancellations, refunds, address changes come this long after payment
    follow_up_max_s: float = 8.0
    autostart: bool = False  # start when the server starts (the CLI does)


@dataclass(frozen=True)
class PushConfig:
    """Where and how pushes are delivered. A failed delivery is retried with doubling waits from
    `first_retry_s` (capped at `max_retry_s`) until `retry_budget_s` after the first attempt; then the
    push is dropped and recorded as undelivered, as platforms do."""

    push_to: str | None = None  # BaoDan's base URL; None: no pushes (pull only)
    retry_budget_s: float = 60.0
    first_retry_s: float = 0.5
    max_retry_s: float = 10.0
    timeout_s: float = 5.0
    concurrency: int = 32
    # up to `batch` notices in one push where the platform's push carries several (抖店's array, the TMC
    # relay), sent when full or `linger_s` after the first; 1: a push per notice. Duplicates and held-back
    # (out-of-order) notices always go alone.
    batch: int = 1
    linger_s: float = 0.05


@dataclass(frozen=True)
class SimConfig:
    platforms: dict[str, PlatformConfig]
    session: SessionConfig = field(default_factory=SessionConfig)
    pushes: PushConfig = field(default_factory=PushConfig)
    host: str = "127.0.0.1"
    port: int = 8700
    root_platform: str | None = None  # serve this one platform at the root of the port
    carriers: dict[str, CarrierSim] = field(default_factory=default_carriers)  # e-waybill services (sim.waybills)

    def push_url(self, channel: str) -> str | None:
        platform = self.platforms[channel]
        if platform.push_url:
            return platform.push_url
        if self.pushes.push_to:
            return f"{self.pushes.push_to.rstrip('/')}/webhooks/{channel}"
        return None

    def session_platforms(self, requested: tuple[str, ...] = ()) -> tuple[str, ...]:
        wanted = requested or self.session.platforms
        if not wanted:
            from baodan.demo import SHOPS

            demo = {channel for _, _, channel in SHOPS}
            wanted = (self.root_platform,) if self.root_platform else tuple(p for p in self.platforms if p in demo)
        unknown = [p for p in wanted if p not in self.platforms]
        if unknown:
            raise SimConfigError(f"session platforms not served: {', '.join(unknown)}")
        return tuple(wanted) or tuple(self.platforms)

    def prefix(self, channel: str) -> str:
        """The path prefix a platform is served under: its name, or nothing when it is served at the root."""
        return "" if self.root_platform == channel else f"/{channel}"


def default_config() -> SimConfig:
    return SimConfig(platforms={p: default_platform(p) for p in PLATFORMS})


def load_config(path: Path | str | None = None, *, port: int | None = None, host: str | None = None,
                push_to: str | None = None, platform: str | None = None, rate: float | None = None,
                orders: int | None = None, hot_skus: int | None = None, seed: int | None = None) -> SimConfig:
    """The settings from a TOML file (or the defaults), with the command line's options on top."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise SimConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SimConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        config = _from_raw(raw)
    except (TypeError, ValueError) as exc:
        raise SimConfigError(f"{path or 'config'}: {exc}") from None
    session_overrides = {k: v for k, v in (("rate", rate), ("orders", orders), ("hot_skus", hot_skus),
                                           ("seed", seed)) if v is not None}
    config = replace(config, session=replace(config.session, **session_overrides))
    if push_to is not None:
        config = replace(config, pushes=replace(config.pushes, push_to=push_to))
    if port is not None:
        config = replace(config, port=port)
    if host is not None:
        config = replace(config, host=host)
    if platform is not None:
        if platform not in config.platforms:
            raise SimConfigError(f"--platform must be one of {', '.join(config.platforms)}, not {platform!r}")
        config = replace(config, root_platform=platform, platforms={platform: config.platforms[platform]})
    _check(config)
    return config


def default_platform(channel: str) -> PlatformConfig:
    """The deterministic defaults for one platform: the demo shop where there is one."""
    shop = _demo_shops().get(channel, (OTHER_SHOPS.get(channel, f"{channel.upper()}-STORE"), None))
    shop_code, shop_id = shop
    token_s, refresh_s, grace_s = TOKEN_LIFETIMES[channel]
    return PlatformConfig(channel=channel, shop=shop_code,
                          credentials=default_credentials(channel, shop_id=shop_id or _digits(channel, "shop", 8)),
                          skus=demo_skus(shop_code),
                          live_room_id=DEMO_LIVE_ROOM_ID if channel == "douyin" else None,
                          token_lifetime_s=token_s, refresh_lifetime_s=refresh_s, token_grace_s=grace_s)


def default_credentials(channel: str, *, shop_id: str) -> Credentials:
    """Deterministic credentials in each platform's own shape (so BaoDan's demo can be given the same)."""
    secret_hex = _hex(channel, "app_secret", 32)
    token = _hex(channel, "access_token", 40)
    extra: dict[str, str] = {}
    if channel == "douyin":
        app_key, app_secret = _digits(channel, "app_key", 19), str(uuid.UUID(secret_hex))
    elif channel == "kuaishou":
        app_key, app_secret = "ks" + _digits(channel, "app_key", 18), secret_hex
        extra = {"sign_secret": _hex(channel, "sign_secret", 32),
                 "message_secret": base64.b64encode(_bytes(channel, "message_secret", 16)).decode()}
    elif channel == "wechat":
        app_key, app_secret = "wx" + _hex(channel, "app_key", 16), secret_hex
        aes_key = base64.b64encode(_bytes(channel, "aes_key", 32)).decode().rstrip("=")
        extra = {"token": _hex(channel, "push_token", 16), "encoding_aes_key": _alphanumeric(aes_key)}
    elif channel == "taobao":
        app_key, app_secret = _digits(channel, "app_key", 8), secret_hex
    elif channel == "pdd":
        app_key, app_secret = _hex(channel, "client_id", 32), _hex(channel, "client_secret", 40)
    else:
        app_key, app_secret = _hex(channel, "app_key", 32).upper(), secret_hex
    refresh = _hex(channel, "refresh_token", 40) if channel != "wechat" else None  # WeChat mints from the secret
    return Credentials(app_key=app_key, app_secret=app_secret, shop_id=shop_id, access_token=token, extra=extra,
                       refresh_token=refresh)


def demo_skus(shop_code: str, count: int = DEMO_SKU_COUNT) -> tuple[SimSku, ...]:
    """The SKUs `baodan init --demo` maps for a shop, in its order (the first ones are the live session's
    featured SKUs), then its two bundles. Mirrors baodan.demo.seed_catalog's naming, which a test checks."""
    from baodan.demo import PRODUCTS, platform_sku_id

    skus, codes, prices, titles = [], [], {}, {}
    for n in range(count):
        p_index = n % len(PRODUCTS)
        product_name, variants, price = PRODUCTS[p_index]
        variant = variants[(n // len(PRODUCTS)) % len(variants)]
        batch = n // (len(PRODUCTS) * len(variants))
        code = f"P{p_index + 1:03d}-{n + 1:04d}"
        codes.append(code)
        prices[code] = price
        titles[code] = f"{product_name} {variant}" + (f" 第{batch + 1}批" if batch else "")
        skus.append(SimSku(platform_sku_id(shop_code, code), code, titles[code], price,
                           f"{shop_code[:2]}-P{p_index + 1:03d}"))
    for i in range(2):
        a, b = codes[3 + i * 2], codes[4 + i * 2]
        code = f"BUNDLE-{i + 1:02d}"
        skus.append(SimSku(platform_sku_id(shop_code, code), code, f"组合装 {titles[a]} + {titles[b]}×2",
                           prices[a] + 2 * prices[b] - 1000, f"{shop_code[:2]}-{code}"))
    return tuple(skus)


def credentials_line(config: SimConfig, channel: str, *, base_url: str) -> str:
    """`<platform> app_key=… app_secret=… shop_id=…` and the rest a merchant would enter."""
    platform = config.platforms[channel]
    creds = platform.credentials
    parts = [channel, f"app_key={creds.app_key}", f"app_secret={creds.app_secret}", f"shop_id={creds.shop_id}",
             f"access_token={creds.access_token}",
             *([f"refresh_token={creds.refresh_token}"] if creds.refresh_token else []),
             *(f"{k}={v}" for k, v in sorted(creds.extra.items())), f"shop={platform.shop}", f"base_url={base_url}"]
    push_url = config.push_url(channel)
    if push_url:
        parts.append(f"push_url={push_url}")
    return " ".join(parts)


def _demo_shops() -> dict[str, tuple[str, str]]:
    """channel → (shop code, platform shop id) exactly as seed_catalog draws them (its rng, seed 7, draws the
    platform shop ids first, one per shop in order)."""
    from baodan.demo import SHOPS

    rng = random.Random(7)
    return {channel: (code, str(rng.randrange(10**7, 10**8))) for code, _, channel in SHOPS}


def _from_raw(raw: dict[str, Any]) -> SimConfig:
    base = default_config()
    sim = dict(raw.get("sim") or {})
    session = SessionConfig(**_known(SessionConfig, raw.get("session") or {}, "session"))
    if session.platforms:
        session = replace(session, platforms=tuple(session.platforms))
    pushes = PushConfig(**_known(PushConfig, raw.get("pushes") or {}, "pushes"))
    if pushes.batch < 1 or pushes.linger_s < 0 or pushes.concurrency < 1:
        raise ValueError("[pushes] batch and concurrency must be at least 1, linger_s at least 0")
    if "push_to" in sim:
        pushes = replace(pushes, push_to=sim.pop("push_to"))
    platforms = dict(base.platforms)
    for channel, table in (raw.get("platforms") or {}).items():
        if channel not in PLATFORMS:
            raise ValueError(f"unknown platform [platforms.{channel}]; known: {', '.join(PLATFORMS)}")
        if table.get("enabled", True) is False:
            platforms.pop(channel, None)
            continue
        platforms[channel] = _platform(platforms[channel], table)
    extra_keys = set(sim) - {"host", "port"}
    if extra_keys:
        raise ValueError(f"unknown [sim] keys: {', '.join(sorted(extra_keys))}")
    return SimConfig(platforms=platforms, session=session, pushes=pushes, host=sim.get("host", base.host),
                     port=int(sim.get("port", base.port)), carriers=carriers_from_raw(raw.get("carriers") or {}))


def _platform(base: PlatformConfig, table: dict[str, Any]) -> PlatformConfig:
    known = {"enabled", "shop", "app_key", "app_secret", "shop_id", "access_token", "refresh_token", "extra",
             "push_url", "skus", "initial_stock", "live_room_id", "token_lifetime_s", "refresh_lifetime_s",
             "token_grace_s", "encrypt_receivers"}
    unknown = set(table) - known
    if unknown:
        raise ValueError(f"unknown keys in [platforms.{base.channel}]: {', '.join(sorted(unknown))}")
    shop = table.get("shop", base.shop)
    creds = base.credentials
    creds = Credentials(app_key=str(table.get("app_key", creds.app_key)),
                        app_secret=str(table.get("app_secret", creds.app_secret)),
                        shop_id=str(table.get("shop_id", creds.shop_id)),
                        access_token=table.get("access_token", creds.access_token),
                        extra={**creds.extra, **{k: str(v) for k, v in (table.get("extra") or {}).items()}},
                        refresh_token=table.get("refresh_token", creds.refresh_token))
    if "skus" in table:
        skus = tuple(_sku(item) for item in table["skus"])
        if not skus:
            raise ValueError(f"[platforms.{base.channel}] skus is empty")
    else:
        skus = base.skus if shop == base.shop else demo_skus(shop)
    return PlatformConfig(channel=base.channel, shop=shop, credentials=creds, skus=skus,
                          push_url=table.get("push_url", base.push_url),
                          initial_stock=int(table.get("initial_stock", base.initial_stock)),
                          live_room_id=table.get("live_room_id", base.live_room_id),
                          token_lifetime_s=float(table.get("token_lifetime_s", base.token_lifetime_s)),
                          refresh_lifetime_s=_seconds_or_none(table.get("refresh_lifetime_s", base.refresh_lifetime_s)),
                          token_grace_s=float(table.get("token_grace_s", base.token_grace_s)),
                          encrypt_receivers=bool(table.get("encrypt_receivers", base.encrypt_receivers)))


def _seconds_or_none(value: Any) -> float | None:
    """A lifetime in seconds; 0 or none: none (the platform issues no refresh token, or states no lifetime)."""
    return float(value) if value else None


def _sku(item: Any) -> SimSku:
    if isinstance(item, str):
        return SimSku(platform_sku_id=item, title=f"商品 {item}")
    if isinstance(item, dict) and "id" in item:
        return SimSku(platform_sku_id=str(item["id"]), sku_code=item.get("sku_code"),
                      title=item.get("title") or f"商品 {item['id']}", price_fen=int(item.get("price_fen", 9900)),
                      platform_product_id=item.get("product_id"))
    raise ValueError(f"a SKU is a platform SKU id or a table with id (and sku_code, title, price_fen, product_id), "
                     f"not {item!r}")


def _known(cls: type, table: dict[str, Any], name: str) -> dict[str, Any]:
    fields = set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    unknown = set(table) - fields
    if unknown:
        raise ValueError(f"unknown [{name}] keys: {', '.join(sorted(unknown))}")
    return dict(table)


def check_session(s: SessionConfig) -> None:
    if s.rate <= 0 or s.orders < 0 or s.hot_skus < 0 or not 0 <= s.hot_share <= 1:
        raise SimConfigError("session: rate must be > 0, orders and hot_skus ≥ 0, hot_share within 0..1")
    ratios = (s.unpaid_first_ratio, s.cancel_ratio, s.refund_ratio, s.address_change_ratio, s.duplicate_ratio,
              s.out_of_order_ratio)
    if any(not 0 <= r <= 1 for r in ratios) or s.cancel_ratio + s.refund_ratio + s.address_change_ratio > 1:
        raise SimConfigError("session: ratios must lie within 0..1 (cancel + refund + address change ≤ 1)")
    if s.follow_up_min_s < 0 or s.follow_up_max_s < 0 or s.out_of_order_delay_s < 0:
        raise SimConfigError("session: delays must be ≥ 0")


def _check(config: SimConfig) -> None:
    p = config.pushes
    if not config.platforms:
        raise SimConfigError("no platform is served")
    check_session(config.session)
    if p.retry_budget_s < 0 or p.first_retry_s <= 0 or p.concurrency < 1 or p.timeout_s <= 0:
        raise SimConfigError("pushes: retry_budget_s ≥ 0, first_retry_s > 0, timeout_s > 0, concurrency ≥ 1")
    if not 0 <= config.port < 65536:
        raise SimConfigError(f"port {config.port} is out of range")
    for platform in config.platforms.values():
        if platform.token_lifetime_s <= 0 or (platform.refresh_lifetime_s or 1) <= 0 or platform.token_grace_s < 0:
            raise SimConfigError(f"[platforms.{platform.channel}]: token_lifetime_s > 0, refresh_lifetime_s > 0 "
                                 "(or 0: none), token_grace_s ≥ 0")


def _bytes(channel: str, name: str, n: int) -> bytes:
    return hashlib.sha256(f"baodan-sim:{channel}:{name}".encode()).digest()[:n]


def _hex(channel: str, name: str, n: int) -> str:
    return _bytes(channel, name, 32).hex()[:n]


def _digits(channel: str, name: str, n: int) -> str:
    digits = str(int.from_bytes(_bytes(channel, name, 32), "big"))
    return str(int(digits[0]) % 9 + 1) + digits[1:n]


def _alphanumeric(text: str) -> str:
    """WeChat's EncodingAESKey is 43 letters and digits (still Base64 of 32 bytes)."""
    return text.replace("+", "P").replace("/", "S")

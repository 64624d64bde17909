"""The simulated e-waybill services (菜鸟 through TOP, 快递鸟, 拼多多电子面单, 抖店电子面单), each under a prefix of
its own (`/cainiao`, `/kdniao`, `/pdd-waybill`, `/douyin-waybill`), played through the waybill adapters' server
side (baodan.waybills.base, nothing of a service's internals): every call's signature is verified, numbers are
issued in each courier's usual shape and unique for the simulator's lifetime, the same application gets the
same number again, cancels give numbers back (and their quota), a cancel of a number the service never
issued gets the service's error, and tests can make the next calls fail (`refuse_next`). What was issued and
cancelled is kept for assertions (`issued`, `cancelled`, GET /_sim/waybills?carrier=…).

A service of a platform (`CarrierSim.platform`: 抖店电子面单 → douyin) opens that platform's ciphertexts, and
only those the simulated platform issued for the order named (`Simulation.issued_cipher`): a parcel whose
receiver carries any other is refused on its own, in the answer (抖店's err_infos).

Readings: number shapes (ZTO 12 digits from 7, SF "SF" + 13 digits, …; 抖店's pinyin codes alike), 大头笔 and
集包地 are plausible stand-ins made from the receiver's region; the error codes are the adapters' documented
ones where there are (TOP 25, 27, 41; 快递鸟 101, 102, 104, 105; PDD 10000, 10016, 10019, 52102; 抖店 20000,
30001) with made-up sub-codes, codes and reasons for the rest.
"""

from __future__ import annotations

import hashlib
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from baodan.channels.base import BadSignature, Call, Credentials, Incoming
from baodan.core import clock
from baodan.waybills.base import Contact, IssuedWaybill, ServedWaybillCall
from baodan.waybills.cainiao import DEFAULT_TEMPLATE_URL
from baodan.waybills.registry import ADAPTERS

if TYPE_CHECKING:
    from baodan.sim.simulation import Simulation

ERRORS: dict[str, dict[str, tuple[str, str]]] = {
    "cainiao": {"bad_signature": ("25", "Invalid signature"), "invalid": ("41", "Invalid arguments"),
                "token_invalid": ("27", "Invalid session"),
                "unknown_waybill": ("isv.WAYBILL_NOT_EXIST", "面单号不存在"),
                "cancelled": ("isv.WAYBILL_CANCELLED", "面单号已取消"),
                "no_balance": ("isv.WAYBILL_BALANCE_NOT_ENOUGH", "电子面单余额不足"),
                "not_subscribed": ("isv.CP_CODE_NOT_SUBSCRIBED", "未订购该快递公司的电子面单服务"),
                "busy": ("isp.remote-service-timeout", "服务繁忙，请稍后重试")},
    "kdniao": {"bad_signature": ("102", "校验问题: DataSign 签名错误"), "invalid": ("101", "缺少必要参数"),
               "token_invalid": ("102", "校验问题: EBusinessID 错误"),
               "unknown_waybill": ("105", "其他错误: 单号不存在"), "cancelled": ("105", "其他错误: 单号已取消"),
               "no_balance": ("105", "其他错误: 单号余额不足"),
               "not_subscribed": ("104", "用户问题: 未开通该快递公司电子面单"),
               "busy": ("105", "其他错误: 系统繁忙，请稍后重试")},
    "pdd": {"bad_signature": ("10016", "签名错误"), "invalid": ("10000", "参数错误"),
            "token_invalid": ("10019", "access_token已过期"),
            "unknown_waybill": ("70101", "面单号不存在"), "cancelled": ("70102", "面单号已取消"),
            "no_balance": ("70103", "电子面单余额不足"), "not_subscribed": ("70104", "未开通该快递公司电子面单服务"),
            "busy": ("52102", "服务暂不可用")},
    "douyin": {"bad_signature": ("isv.signature-invalid", "签名校验失败"),
               "invalid": ("isv.parameter-invalid", "参数错误"),
               "token_invalid": ("30001", "access_token不存在"),
               "unknown_waybill": ("isv.track-no-not-exist", "运单号不存在"),
               "cancelled": ("isv.track-no-cancelled", "运单号已取消"),
               "no_balance": ("isv.ebill-balance-not-enough", "电子面单余额不足"),
               "not_subscribed": ("isv.logistics-not-subscribed", "未开通该物流商的电子面单服务"),
               "busy": ("20000", "服务不可用，请稍后重试"),
               "cipher_refused": ("300008", "收件人密文与订单不匹配")},
}
# a courier's numbers (by the service's code): prefix and total length
SHAPES = {"ZTO": ("7", 12), "YTO": ("YT", 15), "STO": ("77", 13), "YUNDA": ("43", 13), "YD": ("43", 13),
          "SF": ("SF", 15), "JTSD": ("JT", 15), "HTKY": ("5", 14), "EMS": ("11", 13), "POSTB": ("98", 13),
          "YZPY": ("98", 13), "JD": ("JD", 15), "DBKD": ("DPK", 15), "DBL": ("DPK", 15),
          # 抖店's codes (waybills.douyin)
          "zhongtong": ("7", 12), "yuantong": ("YT", 15), "shentong": ("77", 13), "yunda": ("43", 13),
          "shunfeng": ("SF", 15), "jtexpress": ("JT", 15), "ems": ("11", 13), "youzhengguonei": ("98", 13),
          "jd": ("JD", 15), "debangkuaidi": ("DPK", 15), "huitongkuaidi": ("5", 14)}
OTHER_SHAPE = ("9", 12)


@dataclass(frozen=True)
class CarrierSim:
    """The merchant's account at a simulated service: its credentials, the couriers (the service's codes)
    subscribed (empty: every one), the numbers it may still issue (None: no limit) and the platform whose
    ciphertexts it opens (None: it checks none; set only where the adapter answers refused parcels one by one)."""

    adapter: str
    credentials: Credentials
    couriers: tuple[str, ...] = ()
    balance: int | None = None
    platform: str | None = None


@dataclass
class SimWaybill:
    adapter: str
    courier: str
    waybill_no: str
    object_id: str
    platform_order_id: str
    receiver: Contact
    issued_at: datetime
    cancelled_at: datetime | None = None
    sort_code: str = ""
    package_center_code: str = ""
    package_center_name: str = ""


@dataclass
class _Service:
    config: CarrierSim
    balance: int | None
    numbers: dict[str, SimWaybill] = field(default_factory=dict)  # by number
    applications: dict[tuple[str, str], str] = field(default_factory=dict)  # (courier, object id) → number
    refusals: list[tuple[str, str]] = field(default_factory=list)


def default_carriers() -> dict[str, CarrierSim]:
    """Deterministic credentials in each service's own shape (so a BaoDan account can be given the same)."""
    return {
        "cainiao": CarrierSim("cainiao", Credentials(
            app_key=_digits("cainiao", "app_key", 8), app_secret=_hex("cainiao", "app_secret", 32),
            access_token=_hex("cainiao", "session", 40),
            extra={"user_id": _digits("cainiao", "user_id", 10), "template_url": DEFAULT_TEMPLATE_URL})),
        "kdniao": CarrierSim("kdniao", Credentials(
            app_key=_digits("kdniao", "ebusiness_id", 7), app_secret=_uuid_like(_hex("kdniao", "app_key", 32)))),
        # served at /pdd-waybill: /pdd is the 拼多多 platform's own prefix
        "pdd-waybill": CarrierSim("pdd", Credentials(
            app_key=_hex("pdd", "client_id", 32), app_secret=_hex("pdd", "client_secret", 40),
            access_token=_hex("pdd", "access_token", 40),
            extra={"user_id": _digits("pdd", "mall_id", 9), "template_url": DEFAULT_TEMPLATE_URL})),
        # served at /douyin-waybill: /douyin is the 抖店 platform's own prefix
        "douyin-waybill": CarrierSim("douyin", Credentials(
            app_key=_digits("douyin", "app_key", 19), app_secret=_uuid_like(_hex("douyin", "app_secret", 32)),
            access_token=_uuid_like(_hex("douyin", "access_token", 32)),
            extra={"shop_id": _digits("douyin", "shop_id", 8)}), platform="douyin"),
    }


def carriers_from_raw(raw: Mapping[str, Any]) -> dict[str, CarrierSim]:
    """The defaults with a TOML file's `[carriers.<adapter>]` tables on top (app_key, app_secret, access_token,
    extra, couriers, balance; `enabled = false` leaves the service out)."""
    carriers = default_carriers()
    known = {"enabled", "app_key", "app_secret", "access_token", "extra", "couriers", "balance"}
    for name, table in raw.items():
        if name not in carriers:
            raise ValueError(f"unknown carrier service [carriers.{name}]; known: {', '.join(carriers)}")
        unknown = set(table) - known
        if unknown:
            raise ValueError(f"unknown keys in [carriers.{name}]: {', '.join(sorted(unknown))}")
        if table.get("enabled", True) is False:
            carriers.pop(name)
            continue
        base = carriers[name].credentials
        creds = Credentials(app_key=str(table.get("app_key", base.app_key)),
                            app_secret=str(table.get("app_secret", base.app_secret)),
                            access_token=table.get("access_token", base.access_token),
                            extra={**base.extra, **{k: str(v) for k, v in (table.get("extra") or {}).items()}})
        balance = table.get("balance")
        carriers[name] = replace(carriers[name], credentials=creds, couriers=tuple(table.get("couriers") or ()),
                                 balance=int(balance) if balance is not None else None)
    return carriers


class SimCarriers:
    """The simulated services; thread-safe (the server's event loop serves, tests read and steer)."""

    def __init__(self, carriers: Mapping[str, CarrierSim], *, number_base: int | None = None,
                 issued_cipher: Callable[[str, str, Mapping[str, str]], bool] | None = None) -> None:
        """`issued_cipher(platform, platform order id, ciphertexts)`: whether the simulated platform issued
        those ciphertexts for that order (None: it issued none)."""
        self._lock = threading.Lock()
        self._services = {name: _Service(config, config.balance) for name, config in carriers.items()}
        self._issued_cipher = issued_cipher
        # numbers start from the clock, so a restarted simulator does not issue its numbers again
        self._next = number_base if number_base is not None else int(time.time() * 1000) % 10**10

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._services)

    def credentials(self, name: str) -> Credentials:
        return self._services[name].config.credentials

    def serve(self, name: str, request: Incoming, *, now: datetime | None = None) -> tuple[int, bytes]:
        """Answer one call: (HTTP status, body in the service's envelope; errors too are HTTP 200)."""
        now = now or clock.utcnow()
        service = self._services[name]
        adapter, errors = ADAPTERS[service.config.adapter], ERRORS[service.config.adapter]
        try:
            call = adapter.check_request(service.config.credentials, request, now=now)
        except BadSignature as exc:
            token = any(word in exc.message for word in ("session", "access_token", "EBusinessID"))
            guess = Call(request.query.get("method") or request.path, {})
            return 200, adapter.envelope(guess, None, error=_with(errors["token_invalid" if token else "bad_signature"],
                                                                  exc.message))
        try:
            served = adapter.read_call(call)
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            return 200, adapter.envelope(call, None, error=_with(errors["invalid"], repr(exc)))
        with self._lock:
            if service.refusals:
                return 200, adapter.envelope(call, None, error=service.refusals.pop(0))
            if served.kind == "apply":
                data, error = self._apply(service, served, now)
            elif served.kind == "cancel":
                data, error = self._cancel(service, served, now)
            else:
                data, error = None, _with(errors["invalid"], f"the simulator does not serve {call.method}")
        return 200, adapter.envelope(call, data, error=error)

    def refuse_next(self, name: str, error: str | tuple[str, str], *, times: int = 1) -> None:
        """The next `times` calls to the service get `error`: one of ERRORS' names (busy, no_balance, …) or
        a (code, message) of its own."""
        found = ERRORS[self._services[name].config.adapter][error] if isinstance(error, str) else error
        with self._lock:
            self._services[name].refusals.extend([found] * times)

    def clear_refusals(self, name: str) -> None:
        with self._lock:
            self._services[name].refusals.clear()

    def set_balance(self, name: str, balance: int | None) -> None:
        """The numbers the service may still issue from now on (None: no limit)."""
        with self._lock:
            self._services[name].balance = balance

    def issued(self, name: str) -> list[SimWaybill]:
        """Every number the service issued, oldest first (cancelled ones too)."""
        with self._lock:
            return list(self._services[name].numbers.values())

    def cancelled(self, name: str) -> list[SimWaybill]:
        return [w for w in self.issued(name) if w.cancelled_at is not None]

    def balance(self, name: str) -> int | None:
        with self._lock:
            return self._services[name].balance

    def status(self, name: str) -> dict[str, Any]:
        numbers = self.issued(name)
        return {"carrier": name, "balance": self.balance(name), "issued": len(numbers),
                "cancelled": sum(1 for w in numbers if w.cancelled_at is not None),
                "numbers": [asdict(w) for w in numbers[-1000:]]}

    def _apply(self, service: _Service, served: ServedWaybillCall,
               now: datetime) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
        name = service.config.adapter
        adapter, errors = ADAPTERS[name], ERRORS[name]
        courier = served.courier or ""
        if service.config.couriers and courier not in service.config.couriers:
            return None, _with(errors["not_subscribed"], courier)
        refused = self._refused(service, served)
        accepted = [p for p in served.parcels if p.object_id not in refused]
        fresh = [p for p in accepted if (courier, p.object_id) not in service.applications]
        if service.balance is not None and len(fresh) > service.balance:
            return None, errors["no_balance"]
        for parcel in fresh:  # all or nothing: checked above
            self._next += 1
            prefix, length = SHAPES.get(courier, OTHER_SHAPE)
            number = prefix + str(self._next % 10 ** (length - len(prefix))).zfill(length - len(prefix))
            region = parcel.receiver.address
            service.numbers[number] = SimWaybill(
                name, courier, number, parcel.object_id, parcel.platform_order_id, parcel.receiver, now,
                sort_code=f"{region.province[:1]}-{region.city.removesuffix('市')[:3]} {region.district[:3]}".strip(),
                package_center_code=str(zlib.crc32(region.province.encode()) % 900000 + 100000),
                package_center_name=f"{region.province.removesuffix('省')}转运中心")
            service.applications[(courier, parcel.object_id)] = number
            if service.balance is not None:
                service.balance -= 1
        issued = [self._issued(service.numbers[service.applications[(courier, p.object_id)]]) for p in accepted]
        if refused:
            served = replace(served, details={**served.details, "refused": refused})
        return adapter.apply_data(served, issued, repeated=bool(accepted) and not fresh), None

    def _refused(self, service: _Service, served: ServedWaybillCall) -> dict[str, tuple[str, str]]:
        """The parcels whose receiver carries ciphertexts the service's platform did not issue for their order
        (object_id → the service's error); none for a service of no platform."""
        platform = service.config.platform
        if platform is None:
            return {}
        check = self._issued_cipher or (lambda *_: False)
        return {p.object_id: _with(ERRORS[service.config.adapter]["cipher_refused"], p.platform_order_id)
                for p in served.parcels if p.receiver.cipher
                and not check(platform, p.platform_order_id, p.receiver.cipher)}

    def _cancel(self, service: _Service, served: ServedWaybillCall,
                now: datetime) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
        errors = ERRORS[service.config.adapter]
        found = service.numbers.get(served.waybill_no or "")
        other_application = bool(served.object_id) and found is not None and found.object_id != served.object_id
        if found is None or found.courier != served.courier or other_application:
            return None, _with(errors["unknown_waybill"], served.waybill_no or "")
        if found.cancelled_at is not None:
            return None, _with(errors["cancelled"], found.waybill_no)
        found.cancelled_at = now
        if service.balance is not None:
            service.balance += 1  # a number given back is the merchant's quota again
        return ADAPTERS[service.config.adapter].cancel_data(), None

    @staticmethod
    def _issued(w: SimWaybill) -> IssuedWaybill:
        return IssuedWaybill(object_id=w.object_id, waybill_no=w.waybill_no, sort_code=w.sort_code,
                             package_center_code=w.package_center_code, package_center_name=w.package_center_name)


def routes(sim: Simulation) -> list[Route]:
    """Each service's calls under /<name>/…, and GET /_sim/waybills?carrier=<name> for inspection."""
    carriers: SimCarriers = sim.carriers

    async def call(request: Request) -> Response:
        name = request.url.path.lstrip("/").split("/", 1)[0]
        incoming = Incoming(http_method=request.method, path="/" + request.path_params["path"],
                            query=dict(request.query_params),
                            headers={k.lower(): v for k, v in request.headers.items()}, body=await request.body())
        status, body = carriers.serve(name, incoming)
        return Response(body, status, media_type="application/json;charset=UTF-8")

    async def inspect(request: Request) -> Response:
        name = request.query_params.get("carrier")
        if name not in carriers.names:
            body = {"code": "sim.unknown_carrier", "message": f"carrier= must be one of {', '.join(carriers.names)}"}
            return Response(orjson.dumps(body), 404, media_type="application/json")
        return Response(orjson.dumps(carriers.status(name), default=str), 200, media_type="application/json")

    return [Route("/_sim/waybills", inspect, methods=["GET"]),
            *(Route(f"/{name}/{{path:path}}", call, methods=["GET", "POST"]) for name in carriers.names)]


def _with(error: tuple[str, str], detail: str) -> tuple[str, str]:
    return error[0], f"{error[1]}: {detail}"


def _hex(name: str, what: str, n: int) -> str:
    return hashlib.sha256(f"baodan-sim:carrier:{name}:{what}".encode()).hexdigest()[:n]


def _digits(name: str, what: str, n: int) -> str:
    digits = str(int(_hex(name, what, 40), 16))
    return str(int(digits[0]) % 9 + 1) + digits[1:n]


def _uuid_like(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:32]}"

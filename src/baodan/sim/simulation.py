"""The simulated platforms at work: serve each verified API call from the store through the adapter's
server side (the contract in baodan.channels.base, nothing of a platform's internals), change orders and
push each change to BaoDan signed as the platform signs it. Lives on the server's event loop.

Tokens: every call but a sign-in or refresh must carry an access token this platform issued and that still
works, or it gets the platform's token-expired (or token-invalid) error; refresh calls use up their refresh
token and issue new ones (see SimStore.issue_token). Receivers: orders show masked receivers and carry
ciphertexts the simulator derives from the order and the clear value (`receiver_cipher`); a decrypt call
opens a ciphertext only for the order it belongs to."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from baodan.channels.base import (
    Adapter,
    BadSignature,
    Call,
    Credentials,
    Decrypted,
    Incoming,
    MappingError,
    PushNotice,
    ServedCall,
    SignedRequest,
    Token,
)
from baodan.channels.registry import ADAPTERS
from baodan.core import clock
from baodan.core.errors import Conflict
from baodan.identity.pii import mask_receiver
from baodan.sim import orders
from baodan.sim.config import PlatformConfig, SessionConfig, SimConfig, check_session
from baodan.sim.pushes import Push, PushSender
from baodan.sim.session import LiveSession
from baodan.sim.store import Key, SimStore, Writeback
from baodan.sim.waybills import SimCarriers

log = logging.getLogger("baodan.sim")

# The error each platform answers with, as (code, message). Read where the spec is silent ([inf]): the
# TOP (25, 27), WeChat (40001, 42001, 100002) and PDD 10019 codes are documented ones, the others plausible
# stand-ins; each token code is one its adapter reads as "token expired" (PlatformError.token_expired).
ERRORS: dict[str, dict[str, tuple[str, str]]] = {
    "douyin": {"bad_signature": ("isv.signature-invalid", "签名校验失败"),
               "invalid": ("isv.parameter-invalid", "参数错误"),
               "not_found": ("isv.order-not-exist", "订单不存在"),
               "closed": ("isv.order-status-invalid", "订单状态不允许发货"),
               "token_expired": ("30002", "access_token已过期"), "token_invalid": ("30001", "access_token不存在"),
               "refresh_refused": ("isv.refresh-token-invalid", "refresh_token无效或已过期"),
               "decrypt_refused": ("300008", "密文与订单不匹配")},
    "kuaishou": {"bad_signature": ("sign.invalid", "签名验证失败"), "invalid": ("param.invalid", "参数错误"),
                 "not_found": ("order.not.exist", "订单不存在"),
                 "closed": ("order.status.invalid", "订单状态不允许发货"),
                 "token_expired": ("28", "access_token已过期"), "token_invalid": ("28", "access_token无效"),
                 "refresh_refused": ("invalid_grant", "refresh_token无效或已过期"),
                 "decrypt_refused": ("80001", "密文与订单不匹配")},
    "wechat": {"bad_signature": ("40001", "invalid credential, access_token is invalid or not latest"),
               "invalid": ("40097", "invalid args"), "not_found": ("100002", "order not found"),
               "closed": ("100003", "order status not allowed"),
               "token_expired": ("42001", "access_token expired"),
               "token_invalid": ("40001", "invalid credential, access_token is invalid or not latest"),
               "refresh_refused": ("40125", "invalid appsecret"), "decrypt_refused": ("40097", "invalid args")},
    "taobao": {"bad_signature": ("25", "Invalid signature"), "invalid": ("41", "Invalid arguments"),
               "not_found": ("isv.trade-not-exist", "交易不存在"),
               "closed": ("isv.logistics-offline-service-error:B04", "订单状态不允许发货"),
               "token_expired": ("27", "Invalid session"), "token_invalid": ("27", "Invalid session"),
               "refresh_refused": ("isv.refresh-token-invalid", "refresh_token无效或已过期"),
               "decrypt_refused": ("isv.oaid-invalid", "oaid与订单不匹配")},
    "pdd": {"bad_signature": ("10016", "签名错误"), "invalid": ("10000", "参数错误"),
            "not_found": ("20004", "订单不存在"), "closed": ("52008", "订单状态不允许发货"),
            "token_expired": ("10019", "access_token已过期"), "token_invalid": ("10019", "access_token不存在"),
            "refresh_refused": ("10020", "refresh_token已过期或无效"),
            "decrypt_refused": ("70001", "密文与订单不匹配")},
    "jd": {"bad_signature": ("14", "Invalid signature"), "invalid": ("66", "参数错误"),
           "not_found": ("10400001", "订单不存在"), "closed": ("10400002", "订单状态不允许出库"),
           "token_expired": ("19", "token已过期或者不存在，请重新授权访问"),
           "token_invalid": ("19", "token已过期或者不存在，请重新授权访问"),
           "refresh_refused": ("2013", "refresh_token已失效"), "decrypt_refused": ("66", "参数错误")},
}
TOKEN_CALLS = frozenset({"token", "token_refresh"})  # the calls that need no access token
# HTTP status of an error answer: every platform's gateway answers errors in the body with 200.
ERROR_STATUS = 200
SHIPPED_KIND = "shipped"


class Simulation:
    def __init__(self, config: SimConfig, *, adapters: Mapping[str, Adapter] | None = None,
                 id_base: int | None = None) -> None:
        self.config = config
        registry = adapters if adapters is not None else ADAPTERS
        self.adapters = {channel: registry[channel] for channel in config.platforms}
        self.store = SimStore(list(config.platforms),
                              initial_stock={c: p.initial_stock for c, p in config.platforms.items()})
        self.pushes = PushSender(config.pushes, self.store)
        # the e-waybill services (sim.waybills); a platform's own opens the ciphertexts it issued
        self.carriers = SimCarriers(config.carriers, issued_cipher=self.issued_cipher)
        self._gathered: dict[str, list[PushNotice]] = {}  # notices waiting for a batched push, per channel
        self._batches: dict[str, bool] = {}  # whether each platform's push took several notices
        self.session: LiveSession | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        # order numbers start from the clock, so a restarted simulator does not reuse its order ids
        self._id_base = id_base if id_base is not None else int(time.time()) * 10**6
        started = clock.utcnow()
        for channel, platform in config.platforms.items():  # the configured token was issued at start-up
            creds = platform.credentials
            if creds.access_token:
                refresh_s = platform.refresh_lifetime_s
                self.store.seed_token(channel, Token(
                    creds.access_token, started + timedelta(seconds=platform.token_lifetime_s), creds.refresh_token,
                    started + timedelta(seconds=refresh_s) if creds.refresh_token and refresh_s else None))

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.pushes.start()
        if self.config.session.autostart and self.config.session.orders > 0:
            self.start_session()

    async def stop(self) -> None:
        if self.session is not None:
            self.session.cancel()
        await self.pushes.stop()

    # sessions

    def start_session(self, **overrides: Any) -> LiveSession:
        """Start a live session (settings from the config, `overrides` on top); one at a time."""
        if self.session is not None and self.session.running:
            raise Conflict("a session is running", code="sim.session_running")
        platforms = tuple(overrides.pop("platforms", None) or ())
        settings = replace(self.config.session, **overrides)
        check_session(settings)
        self.session = LiveSession(self, settings, self.config.session_platforms(platforms))
        self.session.start()
        return self.session

    # order changes, each pushed

    def draw_order(self, rng: random.Random, channel: str, *, paid: bool, settings: SessionConfig) -> dict[str, Any]:
        """A buyer's new order on `channel` under its next order number, drawn from `rng` (not yet kept)."""
        now = clock.utcnow()
        order_id = orders.order_id(channel, self._id_base + self.store.next_order_no(channel), now=now)
        return orders.new_order(rng, self.config.platforms[channel], platform_order_id=order_id, now=now, paid=paid,
                                hot_skus=settings.hot_skus, hot_share=settings.hot_share)

    def add_orders(self, channel: str, count: int, *, seed: int = 0, paid: bool = True) -> list[dict[str, Any]]:
        rng = random.Random(seed)
        added = []
        for _ in range(count):
            order = self.draw_order(rng, channel, paid=paid, settings=self.config.session)
            self.add_order(order, kind="paid" if paid else "created")
            added.append(self.store.order(channel, order["platform_order_id"]))
        return added

    def add_order(self, order: dict[str, Any], *, kind: str, delay_s: float = 0.0, duplicate: bool = False) -> None:
        snapshot = self.store.add_order(order, kind=kind)
        self.push(order["channel"], kind, snapshot, delay_s=delay_s, duplicate=duplicate)

    def change(self, channel: str, platform_order_id: str, change: Callable[[dict[str, Any], datetime], str | None],
               *, now: datetime | None = None) -> str | None:
        now = now or clock.utcnow()
        changed = self.store.change_order(channel, platform_order_id, lambda o: change(o, now), now=now)
        if changed is None:
            return None
        kind, snapshot = changed
        self.push(channel, kind, snapshot)
        return kind

    def push(self, channel: str, kind: str, order: dict[str, Any], *, delay_s: float = 0.0,
             duplicate: bool = False) -> None:
        """Push one order state to BaoDan as the platform would (nothing without a push URL, or for a
        platform without pushes)."""
        url, adapter = self.config.push_url(channel), self.adapters[channel]
        if url is None or not adapter.has_push:
            return
        creds = self.config.platforms[channel].credentials
        try:
            notice = PushNotice(platform_order_id=order["platform_order_id"], kind=kind,
                                platform_shop_id=creds.shop_id, occurred_at=order["updated_at"],
                                order=self.rendered(channel, order))
        except Exception:  # an adapter that cannot render: the order stays for the pull
            log.exception("%s: cannot make the push for order %s", channel, order["platform_order_id"])
            self.store.count_push(channel, "unsigned")
            return
        if self.config.pushes.batch > 1 and not delay_s and not duplicate and self._batches.get(channel, True):
            self._gather(channel, notice)
            return
        self._push_one(channel, notice, delay_s=delay_s, duplicate=duplicate)

    def _push_one(self, channel: str, notice: PushNotice, *, delay_s: float = 0.0, duplicate: bool = False) -> None:
        adapter, creds = self.adapters[channel], self.config.platforms[channel].credentials
        url = self.config.push_url(channel)
        assert url is not None
        try:
            request = self._sign_push(adapter, creds, notice, url)
        except Exception:  # an adapter that cannot sign: the order stays for the pull
            log.exception("%s: cannot make the push for order %s", channel, notice.platform_order_id)
            self.store.count_push(channel, "unsigned")
            return
        if request is None:
            self.store.count_push(channel, "no_message")
            return
        push = Push(channel, notice.platform_order_id, notice.kind, request)
        if delay_s:
            self.store.count_push(channel, "delayed")
        self.pushes.submit(push, delay_s=delay_s)
        if duplicate:
            self.pushes.submit(replace(push, duplicate=True), delay_s=delay_s + 0.05)

    @property
    def pending_pushes(self) -> int:
        """Notices not yet delivered: gathered for a batch, waiting, retrying or being delivered."""
        return sum(len(n) for n in self._gathered.values()) + self.pushes.pending

    def _gather(self, channel: str, notice: PushNotice) -> None:
        """Hold `notice` for the channel's next batched push: sent when full, or linger_s after the first."""
        gathered = self._gathered.setdefault(channel, [])
        gathered.append(notice)
        if len(gathered) >= self.config.pushes.batch:
            self._flush(channel)
        elif len(gathered) == 1:
            assert self.loop is not None
            self.loop.call_later(self.config.pushes.linger_s, self._flush, channel)

    def _flush(self, channel: str) -> None:
        notices = self._gathered.pop(channel, [])
        if not notices:
            return
        adapter, creds = self.adapters[channel], self.config.platforms[channel].credentials
        url = self.config.push_url(channel)
        assert url is not None
        try:
            request = adapter.sign_push(creds, notices, url=url, now=clock.utcnow())
        except ValueError:  # the platform pushes one notice a request (or has no message for one of them)
            if len(notices) > 1 and not self._batches.get(channel):
                self._batches[channel] = False  # learnt: this platform does not batch
            for notice in notices:
                self._push_one(channel, notice)
            return
        self._batches[channel] = True
        first, *rest = notices
        self.pushes.submit(Push(channel, first.platform_order_id, first.kind, request,
                                batched=tuple((n.platform_order_id, n.kind) for n in rest)))

    @staticmethod
    def _sign_push(adapter: Adapter, creds: Credentials, notice: PushNotice, url: str) -> SignedRequest | None:
        """The push of a change; a change the platform has no message for goes as its generic order-changed
        message ("other") if it has one, else as none (the incremental pull finds it, as with the real one)."""
        for kind in dict.fromkeys((notice.kind, "other")):
            try:
                return adapter.sign_push(creds, [replace(notice, kind=kind)], url=url, now=clock.utcnow())
            except ValueError:
                continue
        return None

    # serving API calls

    def rendered(self, channel: str, order: dict[str, Any]) -> dict[str, Any]:
        """An order as the platform shows it to a seller's app: the platform's order object, its receiver
        masked and carrying the simulator's ciphertexts (unless the platform's `encrypt_receivers` is off)."""
        platform = self.config.platforms[channel]
        receiver = order.get("receiver")
        if platform.encrypt_receivers and receiver:
            cipher = receiver_cipher(platform, order["platform_order_id"], receiver)
            order = {**order, "receiver": mask_receiver(receiver) | {"platform_cipher": cipher}}
        return self.adapters[channel].from_canonical(order, platform.credentials)

    def serve(self, channel: str, request: Incoming, *, now: datetime | None = None) -> tuple[int, bytes]:
        """Answer one API call: (HTTP status, body in the platform's envelope)."""
        now = now or clock.utcnow()
        adapter = self.adapters[channel]
        # the adapter checks the signature; the access token is checked against the tokens issued here
        creds = replace(self.config.platforms[channel].credentials, access_token=None)
        try:
            call = adapter.check_request(creds, request, now=now)
        except BadSignature as exc:
            guess = Call(request.query.get("method") or request.path, {})
            return ERROR_STATUS, adapter.envelope(guess, None, error=self._error(channel, "bad_signature", exc))
        try:
            served = adapter.read_call(call)
        except (KeyError, ValueError, TypeError, MappingError) as exc:
            return ERROR_STATUS, adapter.envelope(call, None, error=_with(ERRORS[channel]["invalid"], exc))
        if served.kind not in TOKEN_CALLS:
            state = self.store.token_state(channel, call.access_token, now)
            if state != "valid":
                error = ERRORS[channel]["token_expired" if state == "expired" else "token_invalid"]
                return ERROR_STATUS, adapter.envelope(call, None, error=error)
        handler = getattr(self, f"_serve_{served.kind}", None) or self._serve_other
        data, error = handler(channel, call, served, now)
        if error is not None:
            return ERROR_STATUS, adapter.envelope(call, None, error=error)
        return 200, adapter.envelope(call, data)

    def _serve_order_list(self, channel: str, call: Call, served: ServedCall, now: datetime) -> Any:
        adapter = self.adapters[channel]
        size = max(served.page_size, 1)
        found, total, last = self.store.updated_between(
            channel, served.updated_from, served.updated_to, offset=(max(served.page, 1) - 1) * size,
            after=decode_cursor(served.cursor), limit=size)
        data = adapter.order_list_data([self.rendered(channel, o) for o in found], page=served.page,
                                       page_size=size, total=total,
                                       next_cursor=encode_cursor(last) if last else None)
        return data, None

    def _serve_order_detail(self, channel: str, call: Call, served: ServedCall, now: datetime) -> Any:
        order = self.store.order(channel, served.platform_order_id or "")
        if order is None:
            return None, ERRORS[channel]["not_found"]
        return self.adapters[channel].order_detail_data(self.rendered(channel, order)), None

    def _serve_ship(self, channel: str, call: Call, served: ServedCall, now: datetime) -> Any:
        order_id = served.platform_order_id or ""
        order = self.store.order(channel, order_id)
        refused = "not_found" if order is None else "closed" if order["status"] in ("cancelled", "refunded") else None
        self.store.record_writeback(channel, Writeback(order_id, served.waybill_no, served.carrier_code, call.method,
                                                       now, accepted=refused is None))
        if refused:
            return None, ERRORS[channel][refused]
        if served.lines:  # a split shipment: the order is shipped when every line is
            self.change(channel, order_id, orders.ship_lines(served.lines), now=now)
        else:
            self.change(channel, order_id, orders.ship, now=now)  # a resent waybill changes nothing
        return {}, None

    def _serve_stock(self, channel: str, call: Call, served: ServedCall, now: datetime) -> Any:
        adapter = self.adapters[channel]
        self.store.push_stock(channel, platform_sku_id=served.platform_sku_id or "",
                              platform_product_id=served.platform_product_id, quantity=served.quantity or 0,
                              mode=adapter.stock_mode, method=call.method, at=now)
        return {}, None

    def _serve_stock_query(self, channel: str, call: Call, served: ServedCall, now: datetime) -> Any:
        adapter = self.adapters[channel]
        sku_ids = [served.platform_sku_id] if served.platform_sku_id else self._skus_of(channel,
                                                                                      served.platform_product_id)
        if not sku_ids:
            return None, ERRORS[channel]["not_found"]
        # A query naming only the product (快手 reads stock by item) is answered for each of its SKUs; the
        # contract shapes one SKU's answer, so the answers are merged (lists at the same place joined).
        answers = [adapter.stock_query_data(platform_sku_id=sku_id, quantity=self.store.stock_level(channel, sku_id))
                   for sku_id in sku_ids]
        merged = answers[0]
        for answer in answers[1:]:
            merged = _merge(merged, answer)
        return merged, None

    def _skus_of(self, channel: str, product_id: str | None) -> list[str]:
        known = [s.platform_sku_id for s in self.config.platforms[channel].skus if s.platform_product_id == product_id]
        pushed = [p.platform_sku_id for p in self.store.stock_pushes(channel)
                  if p.platform_product_id == product_id and p.platform_sku_id]
        return list(dict.fromkeys(known + pushed))

    def _serve_token(self, channel: str, call: Call, served: ServedCall, now: datetime) -> Any:
        """A sign-in: the shop's current token while it works, else a new one."""
        token = self.store.current_token(channel, now) or self._issue(channel, now)
        assert token is not None
        return self.adapters[channel].token_data(token, now=now), None

    def _serve_token_refresh(self, channel: str, call: Call, served: ServedCall, now: datetime) -> Any:
        """A new token for an unused, working refresh token (used up by it), or, where the platform mints
        tokens from the app secret (no refresh token named), for the checked secret."""
        token = self._issue(channel, now, refreshing=True, used_refresh=served.refresh_token)
        if token is None:
            return None, ERRORS[channel]["refresh_refused"]
        return self.adapters[channel].token_data(token, now=now), None

    def _issue(self, channel: str, now: datetime, *, refreshing: bool = False,
               used_refresh: str | None = None) -> Token | None:
        platform = self.config.platforms[channel]
        refresh_s = platform.refresh_lifetime_s
        return self.store.issue_token(
            channel, now=now, lifetime=timedelta(seconds=platform.token_lifetime_s),
            refresh_lifetime=timedelta(seconds=refresh_s) if refresh_s else None,
            grace=timedelta(seconds=platform.token_grace_s), refreshing=refreshing, used_refresh=used_refresh,
            with_refresh=bool(platform.credentials.refresh_token))

    def _serve_decrypt(self, channel: str, call: Call, served: ServedCall, now: datetime) -> Any:
        """Each ciphertext opened from the clear order, if it is one this order's receiver carries (a
        platform that decrypts by order id names none: the whole receiver). A platform that decrypts one order
        a call answers a refusal as the call's error."""
        adapter, platform = self.adapters[channel], self.config.platforms[channel]
        results = []
        for order_id, ciphertext in served.decrypt_items:
            order = self.store.order(channel, order_id)
            receiver = (order or {}).get("receiver") or {}
            opened = _opened(receiver, receiver_cipher(platform, order_id, receiver), ciphertext) if order else None
            error = None if opened else ERRORS[channel]["not_found" if order is None else "decrypt_refused"]
            results.append(Decrypted(order_id, ciphertext, opened or {}, error))
        if adapter.decrypt_batch_size == 1 and results and results[0].error is not None:
            return None, results[0].error
        return adapter.decrypt_data(results), None

    def issued_cipher(self, channel: str, platform_order_id: str, cipher: Mapping[str, str]) -> bool:
        """Whether every one of `cipher` is a ciphertext this platform shows for the order's receiver as it is
        now (what its own e-waybill service opens; an edited address has new ones)."""
        platform = self.config.platforms.get(channel)
        if platform is None or not platform.encrypt_receivers or not cipher:
            return False
        receiver = (self.store.order(channel, platform_order_id) or {}).get("receiver")
        if not receiver:
            return False
        shown = receiver_cipher(platform, platform_order_id, receiver)
        return all(shown.get(field) == value for field, value in cipher.items())

    def _serve_other(self, channel: str, call: Call, served: ServedCall, now: datetime) -> Any:
        """A call the simulator does not play gets the platform's invalid-arguments error naming the method
        (never a made-up success)."""
        return None, _with(ERRORS[channel]["invalid"], f"the simulator does not serve {call.method}")

    @staticmethod
    def _error(channel: str, which: str, exc: BadSignature) -> tuple[str, str]:
        given = exc.details.get("errcode") if isinstance(exc.details, dict) else None  # where an adapter names one
        return (str(given), exc.message) if given is not None else _with(ERRORS[channel][which], exc.message)


def receiver_cipher(platform: PlatformConfig, platform_order_id: str, receiver: dict[str, Any]) -> dict[str, str]:
    """The ciphertexts the simulated platform shows for a receiver: one per field (name, phone, address)
    and an `oaid` for the whole of it (each adapter renders the ones its platform has). Derived with the
    app secret from the order id and the clear value, so a ciphertext opens only for its own order (and an
    edited address gets new ones)."""
    key = hashlib.sha256(f"baodan-sim-cipher:{platform.channel}:{platform.credentials.app_secret}".encode()).digest()

    def seal(field: str, value: str, mark: str) -> str:
        digest = hmac.new(key, f"{platform_order_id}|{field}|{value}".encode(), hashlib.sha256).digest()
        return f"{mark}{base64.urlsafe_b64encode(digest[:24]).decode()}{mark}"

    cipher = {field: seal(field, str(receiver[field]), mark)
              for field, mark in (("name", "#"), ("phone", "$"), ("address", "~")) if receiver.get(field)}
    whole = "|".join(str(receiver.get(f) or "") for f in ("name", "phone", "address"))
    return cipher | {"oaid": seal("oaid", whole, "")} if cipher else cipher


def _opened(receiver: dict[str, Any], cipher: dict[str, str], ciphertext: str | None) -> dict[str, str] | None:
    """What a ciphertext of this receiver opens to: its field, the whole receiver for the `oaid` or for no
    ciphertext (by order id); None for a ciphertext this receiver does not carry."""
    whole = {k: str(v) for k, v in receiver.items() if v and k != "platform_cipher"}
    if ciphertext is None or ciphertext == cipher.get("oaid"):
        return whole or None
    field = next((f for f, c in cipher.items() if c == ciphertext and f != "oaid"), None)
    return {field: whole[field]} if field else None


def _merge(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        return {**b, **{k: _merge(v, b[k]) if k in b else v for k, v in a.items()}}
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    return a


def _with(error: tuple[str, str], exc: Exception | str) -> tuple[str, str]:
    return error[0], f"{error[1]}: {exc}"


def encode_cursor(key: Key) -> str:
    updated_at, order_id = key
    return base64.urlsafe_b64encode(f"{int(updated_at.timestamp())}|{order_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Key | None:
    """The key a cursor points after; None for the first page (an empty, "nomore" or unreadable cursor)."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        seconds, order_id = text.split("|", 1)
        return datetime.fromtimestamp(int(seconds), UTC), order_id
    except ValueError:
        return None

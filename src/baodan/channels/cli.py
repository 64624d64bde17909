"""`baodan channels …`: connect a shop to its platform, see how each shop is in step, pull now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
import typer

channels_app = typer.Typer(help="Platform connections: credentials, sync state, pull now.", no_args_is_help=True)


def _shop(db: Any, code: str) -> tuple[int, str]:
    from baodan.cli import CliError
    from baodan.core.db import fetchall

    with db.read() as s:
        rows = fetchall(s, "SELECT id, channel FROM shop WHERE code = ?", (code,))
    if not rows:
        raise CliError(f"no shop {code!r}", code="catalog.not_found")
    return int(rows[0][0]), rows[0][1]


@channels_app.command("connect")
def connect(shop: Annotated[str, typer.Argument(help="BaoDan shop code")],
            app_key: Annotated[str, typer.Option(help="the platform app's key")],
            app_secret: Annotated[str, typer.Option(help="the app secret (stored sealed, never shown again)",
                                                    prompt=True, hide_input=True)],
            platform_shop_id: Annotated[str | None, typer.Option(help="the platform's id of the shop")] = None,
            base_url: Annotated[str | None, typer.Option(help="gateway root (a sandbox or the simulator); "
                                                         "default: the platform's production gateway")] = None,
            access_token: Annotated[str | None, typer.Option(help="an access token, where the platform uses one")]
            = None,
            extra: Annotated[list[str] | None, typer.Option(help="a platform specific KEY=VALUE (repeat), e.g. 快手 "
                                                            "sign_secret=… message_secret=…, 微信 token=… "
                                                            "encoding_aes_key=…")] = None,
            calls_per_second: Annotated[float | None, typer.Option(
                help="the call rate the platform granted this shop, where above the default")] = None,
            refresh_token: Annotated[str | None, typer.Option(
                help="the refresh token, where the platform has one (BaoDan renews the access token with it)")]
            = None,
            token_expires_at: Annotated[str | None, typer.Option(
                help="when the access token expires, ISO 8601 (no offset: Beijing time)")] = None,
            refresh_expires_at: Annotated[str | None, typer.Option(
                help="when the refresh token expires, ISO 8601 (no offset: Beijing time)")] = None) -> None:
    """Set a shop's platform credentials (replacing all of them)."""
    from baodan.channels import credentials
    from baodan.cli import CLI_ACTOR, CliError, _open_db, console, settings
    from baodan.identity.pii import PiiCipher

    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise CliError(f"--base-url must start with http:// or https://, not {base_url!r}", code="cli.invalid_option")
    pairs = [item.partition("=") for item in extra or []]
    if any(not key or not sep for key, sep, _ in pairs):
        raise CliError("--extra takes KEY=VALUE", code="cli.invalid_option")
    db = _open_db()
    shop_id, channel = _shop(db, shop)
    times = {name: _time_option(name, value) for name, value in (("token_expires_at", token_expires_at),
                                                                  ("refresh_expires_at", refresh_expires_at))}
    credentials.save(db, PiiCipher.from_settings(settings()), shop_id=shop_id, app_key=app_key, app_secret=app_secret,
                     platform_shop_id=platform_shop_id, base_url=base_url, access_token=access_token,
                     extra={key: value for key, _, value in pairs}, calls_per_second=calls_per_second,
                     refresh_token=refresh_token, **times, actor=CLI_ACTOR)
    console.print(f"{shop} ({channel}) connected; push URL to register: <BaoDan URL>/webhooks/{channel}")


def _time_option(name: str, value: str | None) -> datetime | None:
    from baodan.cli import CliError
    from baodan.core import clock

    if value is None:
        return None
    try:
        return clock.as_utc(datetime.fromisoformat(value))
    except ValueError:
        raise CliError(f"--{name.replace('_', '-')} takes an ISO 8601 time, not {value!r}",
                       code="cli.invalid_option") from None


@channels_app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False) -> None:
    """How each connected shop is in step with its platform."""
    from rich.table import Table

    from baodan.channels.status import sync_state
    from baodan.cli import _open_db, console
    from baodan.core import clock

    rows = sync_state(_open_db())
    if as_json:
        typer.echo(orjson.dumps(rows, default=str, option=orjson.OPT_INDENT_2).decode())
        return
    if not rows:
        console.print("no shop is connected: `baodan channels connect SHOP --app-key …`")
        return
    table = Table("shop", "channel", "pulled up to (上海)", "fetch queue", "write-backs owed", "stock failing",
                  "failed calls (1 h)", "last error")
    for r in rows:
        error = r["token_error"] or r["pull_error"] or r["fetch_error"] or r["writeback_error"] or ""
        synced = f"{clock.to_shanghai(r['synced_to']):%m-%d %H:%M:%S}" if r["synced_to"] else "-"
        table.add_row(r["shop"], r["channel"], synced,
                      str(r["fetch_queued"]), str(r["writebacks_owed"]), str(r["stock_failing"]),
                      f"{r['failed_calls_last_hour']}/{r['calls_last_hour']}", error[:60])
    console.print(table)


@channels_app.command("pull")
def pull(shop: Annotated[str, typer.Argument(help="BaoDan shop code")]) -> None:
    """Pull the shop's orders updated since its cursor now (what the worker does every pull interval)."""
    from baodan.channels.base import PlatformError
    from baodan.channels.sync import ChannelSync
    from baodan.cli import CliError, console, settings
    from baodan.runtime import Runtime

    runtime = Runtime.open(settings())
    try:
        shop_id, _ = _shop(runtime.db, shop)
        sync = ChannelSync(runtime.db, runtime.inbox, runtime.shops, runtime.pii, directory=runtime.links,
                           intake=runtime.channel_intake)
        link = sync.link(shop_id)
        if link is None:
            raise CliError(f"shop {shop!r} is not connected to a platform: `baodan channels connect {shop} …`",
                           code="channels.not_connected")
        try:
            read = sync.pull_once(link)
        except PlatformError as exc:
            raise CliError(f"pull of {shop} failed: {exc.message}", code=exc.code) from None
        finally:
            sync.call_log.flush()
        console.print(f"{shop}: {read} order(s) read into the inbox")
    finally:
        runtime.close()


@channels_app.command("connect-sim")
def connect_sim(url: Annotated[str, typer.Argument(help="the simulator, e.g. http://127.0.0.1:8700")]
                = "http://127.0.0.1:8700") -> None:
    """Connect the demo shops to a local `baodan sim` with its default credentials (what it prints at
    start-up), and give 快手/拼多多 courier codes the simulator accepts. For trying channels out."""
    from baodan.cli import CLI_ACTOR, CliError, _open_db, console, settings
    from baodan.identity.pii import PiiCipher
    from baodan.sim.connect import connect_shops

    if not url.startswith(("http://", "https://")):
        raise CliError(f"the simulator URL must start with http:// or https://, not {url!r}", code="cli.invalid_option")
    connected = connect_shops(_open_db(), PiiCipher.from_settings(settings()), url, actor=CLI_ACTOR)
    if not connected:
        raise CliError("no shop here matches the simulator's shops: run `baodan init --demo` first",
                       code="channels.nothing_to_connect")
    console.print(f"connected to the simulator at {url}: {', '.join(connected)}; start it with "
                  "`baodan sim --push-to <BaoDan URL>` there", soft_wrap=True)

"""`baodan waybills …`: carrier accounts and their numbers, a refill pass now, give a number back."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

waybills_app = typer.Typer(help="E-waybill numbers (电子面单): carrier accounts, refill, cancel.", no_args_is_help=True)


@waybills_app.command("accounts")
def list_accounts(as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False) -> None:
    """Each carrier account: numbers ready, orders queued and failing, numbers issued today, last error."""
    from rich.table import Table

    from baodan.cli import _open_db, console
    from baodan.waybills import accounts

    rows = accounts.listing(_open_db())
    if as_json:
        typer.echo(orjson.dumps(rows, default=str, option=orjson.OPT_INDENT_2).decode())
        return
    if not rows:
        console.print("no carrier account: add one with POST /api/v1/carrier-accounts")
        return
    table = Table("id", "name", "service", "courier", "active", "ready / low water", "queued", "failing", "today",
                  "last error")
    for r in rows:
        capacity = f" of {r['daily_capacity']}" if r["daily_capacity"] else ""
        table.add_row(str(r["id"]), r["name"], r["adapter"], r["carrier_code"], "yes" if r["active"] else "no",
                      f"{r['ready']} / {r['low_water']}", str(r["queued"]), str(r["failing"]),
                      f"{r['issued_today']}{capacity}", (r["last_error"] or "")[:60])
    console.print(table)


@waybills_app.command("refill")
def refill(account: Annotated[str | None, typer.Option(help="only this account (its name)")] = None) -> None:
    """One pass now of what the worker does in the background: void numbers orders no longer need, ask for
    the next batch of numbers below each account's low-water mark, send cancels owed."""
    from baodan.cli import CliError, _open_db, console, settings
    from baodan.identity.pii import PiiCipher
    from baodan.waybills import accounts
    from baodan.waybills.desk import WaybillDesk

    db = _open_db()
    rows = accounts.listing(db)
    account_id = None
    if account is not None:
        account_id = next((r["id"] for r in rows if r["name"] == account), None)
        if account_id is None:
            raise CliError(f"no carrier account named {account!r}", code="waybills.account_not_found")
    with WaybillDesk(db, PiiCipher.from_settings(settings())) as desk:
        voided = desk.sweep_once()
        issued = desk.refill_once(account_id=account_id)
        cancelled = desk.cancel_once()
    console.print(f"{issued} number(s) issued, {voided} voided, {cancelled} cancel(s) sent")
    for r in accounts.listing(db):
        if r["last_error"] and (account_id is None or r["id"] == account_id):
            console.print(f"{r['name']}: {r['last_error']}", soft_wrap=True)


@waybills_app.command("cancel")
def cancel(waybill_no: Annotated[str, typer.Argument(help="the waybill number")],
           carrier: Annotated[str | None, typer.Option(help="the courier code, where the number is ambiguous")] = None,
           reason: Annotated[str, typer.Option(help="why (kept in the audit trail)")] = "") -> None:
    """Give a number back to its service (audited); asked at once, retried in the background if need be."""
    from baodan.cli import CLI_ACTOR, _open_db, console, settings
    from baodan.identity.pii import PiiCipher
    from baodan.waybills import repository, services
    from baodan.waybills.desk import WaybillDesk

    db = _open_db()
    owed = services.cancel(db, waybill_no=waybill_no, carrier_code=carrier, reason=reason, actor=CLI_ACTOR)
    with WaybillDesk(db, PiiCipher.from_settings(settings()), max_attempts=1) as desk:
        desk.cancel_once(ids=[owed["id"]])
    with db.read() as s:
        row = repository.waybill_row(s, owed["id"])
    detail = f" ({row['last_error']}; retried in the background)" if row["state"] == "cancelling" else ""
    console.print(f"{row['carrier_code']} {row['waybill_no']}: {row['state']}{detail}", soft_wrap=True)

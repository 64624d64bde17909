"""HTTP routes of waybills: carrier accounts (write-only secrets) and giving a number back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from baodan.core.http import IdPath, runtime_of
from baodan.identity.accounts import Principal
from baodan.identity.http import client_ip, principal_of, require
from baodan.waybills import accounts, repository, services
from baodan.waybills.desk import WaybillDesk
from baodan.waybills.schemas import CancelRequest, CarrierAccountRead, CarrierAccountWrite, WaybillRead

router = APIRouter(tags=["waybills"])
Rt = Annotated[Any, Depends(runtime_of)]
Me = Annotated[Principal, Depends(principal_of)]
WaybillNo = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{4,64}$", description="the waybill number")]


@router.get("/carrier-accounts", dependencies=[Depends(require("catalog.read"))],
            response_model=list[CarrierAccountRead])
def list_carrier_accounts(rt: Rt) -> Any:
    """Every carrier account (never a secret), with its numbers ready, orders queued and failing, and numbers
    issued today."""
    return accounts.listing(rt.db)


@router.post("/carrier-accounts", dependencies=[Depends(require("settings.write"))],
             response_model=CarrierAccountRead, status_code=201)
def create_carrier_account(body: CarrierAccountWrite, rt: Rt, me: Me, request: Request) -> Any:
    """Add an account with an e-waybill service (secrets required, sealed at rest, never shown again). Audited."""
    return accounts.save(rt.db, rt.pii, data=body, actor=me.actor, ip=client_ip(request))


@router.get("/carrier-accounts/{account_id}", dependencies=[Depends(require("catalog.read"))],
            response_model=CarrierAccountRead)
def get_carrier_account(account_id: IdPath, rt: Rt) -> Any:
    return accounts.summary(rt.db, account_id)


@router.put("/carrier-accounts/{account_id}", dependencies=[Depends(require("settings.write"))],
            response_model=CarrierAccountRead)
def put_carrier_account(account_id: IdPath, body: CarrierAccountWrite, rt: Rt, me: Me, request: Request) -> Any:
    """Replace an account's settings; its secrets are replaced when given, else kept. Audited."""
    return accounts.save(rt.db, rt.pii, data=body, account_id=account_id, actor=me.actor, ip=client_ip(request))


@router.post("/waybills/{waybill_no}/cancel", dependencies=[Depends(require("orders.write"))],
             response_model=WaybillRead)
def cancel_waybill(waybill_no: WaybillNo, body: CancelRequest, rt: Rt, me: Me, request: Request) -> Any:
    """Give a number back to its service (audited). The service is asked at once; if it does not answer or
    refuses, the cancel stays owed (`state` cancelling, `last_error`) and is sent again in the background."""
    owed = services.cancel(rt.db, waybill_no=waybill_no, carrier_code=body.carrier_code, reason=body.reason,
                           actor=me.actor, ip=client_ip(request))
    with WaybillDesk(rt.db, rt.pii, max_attempts=1) as desk:
        desk.cancel_once(ids=[owed["id"]])
    with rt.db.read() as s:
        return repository.waybill_row(s, owed["id"])

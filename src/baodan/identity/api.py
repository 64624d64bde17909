"""HTTP routes of identity: log in and out (session cookie + CSRF token), who am I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from baodan.core.http import runtime_of
from baodan.identity import accounts
from baodan.identity.accounts import AuthError, Principal
from baodan.identity.http import SESSION_COOKIE, client_ip, public, signed_in

router = APIRouter(tags=["identity"])
LOGINS_PER_MINUTE = 60  # one address may be a whole warehouse behind NAT at shift start
Rt = Annotated[Any, Depends(runtime_of)]


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    totp: str | None = Field(default=None, pattern=r"^\d{6}$", description="the 6-digit code, once 2FA is on")


class PasswordChange(BaseModel):
    current: str = Field(min_length=1, max_length=200)
    new: str = Field(min_length=10, max_length=200)


class TotpCode(BaseModel):
    code: str = Field(pattern=r"^\d{6}$")


class Me(BaseModel):
    kind: str
    name: str
    role: str
    permissions: list[str]
    shop_ids: list[int] | None
    warehouse_ids: list[int] | None
    csrf_token: str | None = Field(default=None, description="send back as X-CSRF-Token on POST/PUT/DELETE")
    must_change_password: bool = Field(default=False, description="a one-time password: change it before "
                                                                  "anything else (POST /auth/password)")


def _me(p: Principal) -> dict[str, Any]:
    return {"kind": p.kind, "name": p.name, "role": p.role, "permissions": sorted(p.permissions),
            "shop_ids": sorted(p.shop_ids) if p.shop_ids is not None else None,
            "warehouse_ids": sorted(p.warehouse_ids) if p.warehouse_ids is not None else None,
            "csrf_token": p.csrf_token, "must_change_password": p.must_change_password}


@router.post("/auth/login", dependencies=[Depends(public)], response_model=Me)
def login(body: Login, rt: Rt, request: Request, response: Response) -> Any:
    """Log in with a password: sets an HttpOnly session cookie and answers the CSRF token. At most
    LOGINS_PER_MINUTE attempts a minute from one address (on top of the per-account lockout)."""
    rt.rate_limits.hit(f"login:{client_ip(request)}", LOGINS_PER_MINUTE)
    user_id = accounts.authenticate(rt.db, username=body.username, password=body.password, ip=client_ip(request),
                                    totp_code=body.totp, pii=rt.pii,
                                    require_2fa_for_admins=rt.settings.require_2fa_for_admins)
    token, _ = accounts.open_session(rt.db, user_id=user_id, ip=client_ip(request),
                                     user_agent=request.headers.get("user-agent"))
    principal = accounts.session_principal(rt.db, token, rt.role_book())
    assert principal is not None
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=int(accounts.SESSION_MAX.total_seconds()), path="/")
    return _me(principal)


@router.post("/auth/logout", dependencies=[Depends(public)], status_code=204)
def logout(rt: Rt, request: Request, response: Response) -> None:
    """End this session (the cookie stops working everywhere at once)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.close_session(rt.db, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", response_model=Me)
def me(principal: Annotated[Principal, Depends(signed_in)]) -> Any:
    """Who this session or key is, what it may do, and which shops/warehouses it sees."""
    return _me(principal)


@router.post("/auth/password", dependencies=[Depends(signed_in)], status_code=204)
def change_password(body: PasswordChange, rt: Rt, request: Request,
                    principal: Annotated[Principal, Depends(signed_in)]) -> None:
    """Change your own password (at least 10 characters); ends your other sessions. Someone who logged
    in with a one-time password can do nothing else until this is done."""
    if principal.user_id is None:
        raise AuthError("only people have passwords", code="auth.not_a_user", status=403)
    accounts.change_password(rt.db, user_id=principal.user_id, current=body.current, new=body.new,
                             keep_session=request.cookies.get(SESSION_COOKIE), ip=client_ip(request))


@router.post("/auth/totp", dependencies=[Depends(signed_in)])
def start_totp(rt: Rt, principal: Annotated[Principal, Depends(signed_in)]) -> dict[str, str]:
    """Start two-factor login for yourself: scan the answered otpauth:// URI into an authenticator app,
    then confirm with a code (POST /auth/totp/confirm). Until confirmed, login does not ask for it."""
    if principal.kind != "user":
        raise AuthError("only people enrol two-factor login", code="auth.not_a_user", status=403)
    return {"otpauth_uri": accounts.enrol_totp(rt.db, username=principal.name, pii=rt.pii,
                                               actor=principal.actor, confirmed=False)}


@router.post("/auth/totp/confirm", dependencies=[Depends(signed_in)], status_code=204)
def confirm_totp(body: TotpCode, rt: Rt, principal: Annotated[Principal, Depends(signed_in)]) -> None:
    """Turn two-factor login on with a code from the app; every later login needs one."""
    if principal.user_id is None:
        raise AuthError("only people enrol two-factor login", code="auth.not_a_user", status=403)
    accounts.confirm_totp(rt.db, user_id=principal.user_id, code=body.code, pii=rt.pii)

"""HTTP routes for managing users, roles and API keys (`users.manage`) and reading the audit trail
(`audit.read`). Secrets (one-time passwords, API keys) are in the answer once and nowhere else."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from baodan.core import clock
from baodan.core.http import MAX_ID, Cursor, runtime_of
from baodan.identity import accounts, admin, audit
from baodan.identity.accounts import Principal
from baodan.identity.http import client_ip, principal_of, require
from baodan.identity.roles import PERMISSIONS

router = APIRouter(tags=["users"])
Rt = Annotated[Any, Depends(runtime_of)]
Me = Annotated[Principal, Depends(principal_of)]
MANAGE = [Depends(require("users.manage"))]
AUDIT = [Depends(require("audit.read"))]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
Ids = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None, Field(max_length=1000,
                                                                  description="null or []: every one")]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Name
    role: str = Field(min_length=1, max_length=64)
    display_name: str | None = Field(default=None, max_length=100)
    shop_ids: Ids = None
    warehouse_ids: Ids = None


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = Field(default=None, min_length=1, max_length=64)
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    active: bool | None = None
    shop_ids: Ids = None
    warehouse_ids: Ids = None


class UserRead(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    totp: bool = False
    locked_until: datetime | None = None
    created_at: datetime | None = None
    shop_ids: list[int] | None
    warehouse_ids: list[int] | None


class UserCreated(UserRead):
    one_time_password: str = Field(description="shown once: hand it to the user, who changes it")


class RoleWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=100)
    permissions: list[str] = Field(min_length=1, max_length=len(PERMISSIONS))


class RoleRead(BaseModel):
    name: str
    title: str
    builtin: bool
    permissions: list[str]
    users: int = 0


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    permissions: list[str] = Field(min_length=1, max_length=len(PERMISSIONS))
    shop_ids: Ids = None
    rate_per_minute: int = Field(default=600, ge=1, le=100_000)


class KeyRead(BaseModel):
    prefix: str
    name: str
    permissions: list[str]
    shop_ids: list[int] | None
    rate_per_minute: int
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(BaseModel):
    prefix: str
    key: str = Field(description="shown once; send as `Authorization: Bearer <key>`")


class AuditRecord(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    ip: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditRecord]
    next_cursor: str | None


class AuditCheck(BaseModel):
    ok: bool
    problems: list[dict[str, str]]
    head_id: int | None
    head_hash: str | None


# ------------------------------------------------------------------------------------------------ users


@router.get("/users", dependencies=MANAGE, response_model=list[UserRead])
def list_users(rt: Rt, me: Me) -> Any:
    """Users (of the caller's scope), with their role and scope."""
    return admin.list_users(rt.db, me)


@router.post("/users", dependencies=MANAGE, status_code=201, response_model=UserCreated)
def create_user(body: UserCreate, rt: Rt, me: Me, request: Request) -> Any:
    """A new user with a one-time password (in this answer only)."""
    admin.check_new_user(rt.db, me, role=body.role, shop_ids=body.shop_ids, warehouse_ids=body.warehouse_ids)
    user_id, password = accounts.create_user(rt.db, username=body.username, role=body.role,
                                             display_name=body.display_name, shop_ids=body.shop_ids,
                                             warehouse_ids=body.warehouse_ids, actor=me.actor, ip=client_ip(request))
    user = next(u for u in admin.list_users(rt.db, me) if u["id"] == user_id)
    return {**user, "one_time_password": password}


@router.patch("/users/{username}", dependencies=MANAGE, response_model=UserRead)
def update_user(username: str, body: UserUpdate, rt: Rt, me: Me, request: Request) -> Any:
    """Change role, name, active flag or scope (`shop_ids`/`warehouse_ids`: null or [] = every one; leave
    a field out to keep it). Deactivating ends the user's sessions. Audited with before and after."""
    admin.update_user(rt.db, me, username, ip=client_ip(request), role=body.role, display_name=body.display_name,
                      active=body.active, shop_ids=body.shop_ids, warehouse_ids=body.warehouse_ids,
                      scope_given=frozenset(body.model_fields_set & {"shop_ids", "warehouse_ids"}))
    return next(u for u in admin.list_users(rt.db, me) if u["username"] == username)


@router.post("/users/{username}/reset-password", dependencies=MANAGE)
def reset_password(username: str, rt: Rt, me: Me, request: Request) -> dict[str, str]:
    """A new one-time password (in this answer only); lifts a lockout and ends the user's sessions."""
    admin.visible_user(rt.db, me, username)
    return {"one_time_password": accounts.reset_password(rt.db, username=username, actor=me.actor,
                                                         ip=client_ip(request))}


@router.post("/users/{username}/revoke-sessions", dependencies=MANAGE)
def revoke_sessions(username: str, rt: Rt, me: Me, request: Request) -> dict[str, int]:
    """Log the user out everywhere."""
    admin.visible_user(rt.db, me, username)
    return {"sessions": accounts.revoke_sessions(rt.db, username=username, actor=me.actor, ip=client_ip(request))}


# ------------------------------------------------------------------------------------------------ roles


@router.get("/permissions", dependencies=MANAGE)
def list_permissions() -> dict[str, str]:
    """Every permission a role can grant, with its Chinese label."""
    return PERMISSIONS


@router.get("/roles", dependencies=MANAGE, response_model=list[RoleRead])
def list_roles(rt: Rt) -> Any:
    """Built-in and custom roles, their permissions and how many active users hold each."""
    return admin.list_roles(rt.db)


@router.put("/roles/{name}", dependencies=MANAGE, response_model=RoleRead)
def save_role(name: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")],
              body: RoleWrite, rt: Rt, me: Me, request: Request) -> Any:
    """Create or replace a custom role. Takes effect at once in this process (other processes: within
    ROLE_BOOK_TTL_S seconds)."""
    role = admin.save_role(rt.db, me, name, title=body.title, permissions=body.permissions, ip=client_ip(request))
    rt.reload_roles()
    return role


@router.delete("/roles/{name}", dependencies=MANAGE, status_code=204)
def delete_role(name: str, rt: Rt, me: Me, request: Request) -> None:
    """Delete a custom role no user holds."""
    admin.delete_role(rt.db, me, name, ip=client_ip(request))
    rt.reload_roles()


# --------------------------------------------------------------------------------------------- API keys


@router.get("/api-keys", dependencies=MANAGE, response_model=list[KeyRead])
def list_keys(rt: Rt, me: Me) -> Any:
    """API keys (never their secrets), revoked ones included."""
    return admin.list_api_keys(rt.db, me)


@router.post("/api-keys", dependencies=MANAGE, status_code=201, response_model=KeyCreated)
def create_key(body: KeyCreate, rt: Rt, me: Me, request: Request) -> Any:
    """A key for an integrator, limited to permissions (no more than yours) and shops; shown once."""
    admin.check_new_key(rt.db, me, permissions=body.permissions, shop_ids=body.shop_ids)
    key = accounts.create_api_key(rt.db, name=body.name, permissions=body.permissions, shop_ids=body.shop_ids,
                                  rate_per_minute=body.rate_per_minute, actor=me.actor, ip=client_ip(request))
    return {"prefix": key.split("_")[1], "key": key}


@router.delete("/api-keys/{prefix}", dependencies=MANAGE, status_code=204)
def revoke_key(prefix: str, rt: Rt, me: Me, request: Request) -> None:
    """Revoke a key: it stops working at once."""
    admin.visible_key(rt.db, me, prefix)
    accounts.revoke_api_key(rt.db, prefix=prefix, actor=me.actor, ip=client_ip(request))


# ------------------------------------------------------------------------------------------------ audit


@router.get("/audit", dependencies=AUDIT, response_model=AuditPage)
def search_audit(rt: Rt, actor: str | None = None, action: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, cursor: Cursor = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
    """Audit records, newest first; page with `cursor`."""
    with rt.db.read() as s:
        items = audit.search(s, actor=actor, action=action, since=clock.as_utc(since) if since else None,
                             until=clock.as_utc(until) if until else None, limit=limit, before_id=cursor)
    return {"items": items, "next_cursor": str(items[-1]["id"]) if len(items) == limit else None}


@router.get("/audit/verify", dependencies=AUDIT, response_model=AuditCheck)
def verify_audit(rt: Rt) -> Any:
    """Recompute the hash chain: any edited or removed record is a problem. Note the head somewhere
    else; passing it to `baodan audit verify` also catches removal of the last records."""
    problems = audit.verify(rt.db)
    head = audit.head(rt.db)
    return {"ok": not problems, "problems": [{"code": p.code, "message": p.message} for p in problems],
            "head_id": head[0] if head else None, "head_hash": head[1] if head else None}

"""Managing who may do what: users' roles and scopes, custom roles, API keys. Every change is audited
with its before and after.

No one grants more than they hold: a manager may give a user or a key only permissions they hold
themselves, and only shops and warehouses inside their own scope; a scoped manager sees and edits only
users whose scope lies inside theirs (anyone else is "not found"). The last active owner cannot be
demoted or deactivated, so the shop can never lock itself out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, dialect_of, execute, fetchall, read_json, read_time
from baodan.core.errors import BaoDanError, Conflict, Invalid, NotFound
from baodan.identity import audit
from baodan.identity.accounts import Principal, _scope, load_role_book
from baodan.identity.roles import BUILTIN_ROLES, PERMISSIONS


class Escalation(BaoDanError):
    status = 403
    code = "users.escalation"


def _within(outer: frozenset[int] | None, inner: frozenset[int] | None) -> bool:
    """Whether a scope `inner` (None: everything) lies inside `outer`."""
    return outer is None or (inner is not None and inner <= outer)


def _check_grant(manager: Principal, permissions: Iterable[str], shops: frozenset[int] | None,
                 warehouses: frozenset[int] | None) -> None:
    missing = sorted(set(permissions) - manager.permissions)
    if missing:
        raise Escalation(f"you cannot grant permissions you do not hold: {', '.join(missing)}",
                         details={"permissions": missing})
    if not (_within(manager.shop_ids, shops) and _within(manager.warehouse_ids, warehouses)):
        raise Escalation("you cannot grant shops or warehouses outside your own scope")


def _ids_exist(s: Any, table: str, ids: frozenset[int] | None, field: str) -> None:
    if not ids:
        return
    marks = ", ".join("?" * len(ids))
    found = {row[0] for row in fetchall(s, f"SELECT id FROM {table} WHERE id IN ({marks})", sorted(ids))}
    if missing := sorted(ids - found):
        raise Invalid(f"{field}: no {table} with id {', '.join(map(str, missing))}", code="users.unknown_scope",
                      details={"field": field, "ids": missing})


def _scope_dict(shops: frozenset[int] | None, warehouses: frozenset[int] | None) -> dict[str, Any]:
    return {"shop_ids": sorted(shops) if shops is not None else None,
            "warehouse_ids": sorted(warehouses) if warehouses is not None else None}


# ------------------------------------------------------------------------------------------------ users


def list_users(db: Database, manager: Principal) -> list[dict[str, Any]]:
    with db.read() as s:
        rows = fetchall(s, "SELECT id, username, display_name, role, active, totp_secret IS NOT NULL, locked_until, "
                           "created_at FROM app_user ORDER BY id")
        users = []
        for user_id, username, display, role, active, totp, locked, created in rows:
            shops, warehouses = _scope(s, user_id)
            if not (_within(manager.shop_ids, shops) and _within(manager.warehouse_ids, warehouses)):
                continue
            users.append({"id": int(user_id), "username": username, "display_name": display, "role": role,
                          "active": bool(active), "totp": bool(totp), "locked_until": read_time(locked),
                          "created_at": read_time(created), **_scope_dict(shops, warehouses)})
    return users


def _user_row(s: Any, manager: Principal, username: str) -> tuple[Any, ...]:
    rows = fetchall(s, "SELECT id, username, display_name, role, active FROM app_user WHERE username = ?",
                    (username,))
    if rows:
        shops, warehouses = _scope(s, rows[0][0])
        if _within(manager.shop_ids, shops) and _within(manager.warehouse_ids, warehouses):
            return (*rows[0], shops, warehouses)
    raise NotFound(f"no user {username!r}", code="users.not_found")


def visible_user(db: Database, manager: Principal, username: str) -> None:
    """Raise users.not_found unless `manager` may manage `username` (for actions kept in accounts)."""
    with db.read() as s:
        _user_row(s, manager, username)


def update_user(db: Database, manager: Principal, username: str, *, ip: str | None = None,
                role: str | None = None, display_name: str | None = None, active: bool | None = None,
                shop_ids: list[int] | None = None, warehouse_ids: list[int] | None = None,
                scope_given: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Change a user's role, name, active flag or scope. `scope_given` names the scope fields sent
    ("shop_ids", "warehouse_ids"): sent as null or [] means every shop/warehouse."""
    book = load_role_book(db)
    if role is not None and role not in book.roles:
        raise Invalid(f"role: unknown role {role!r}", code="users.unknown_role")
    with db.write() as s:
        user_id, name, old_display, old_role, old_active, old_shops, old_wh = _user_row(s, manager, username)
        new_shops = frozenset(shop_ids or ()) or None if "shop_ids" in scope_given else old_shops
        new_wh = frozenset(warehouse_ids or ()) or None if "warehouse_ids" in scope_given else old_wh
        new_role = role or old_role
        new_active = bool(old_active) if active is None else active
        _check_grant(manager, book.permissions(new_role), new_shops, new_wh)
        _ids_exist(s, "shop", new_shops, "shop_ids")
        _ids_exist(s, "warehouse", new_wh, "warehouse_ids")
        if old_role == "owner" and (new_role != "owner" or not new_active):
            owners = fetchall(s, "SELECT count(*) FROM app_user WHERE role = 'owner' AND active = ?", (True,))[0][0]
            if owners <= 1:
                raise Conflict("this is the last active owner: make someone else owner first",
                               code="users.last_owner")
        before = {"role": old_role, "display_name": old_display, "active": bool(old_active),
                  **_scope_dict(old_shops, old_wh)}
        after = {"role": new_role, "display_name": display_name or old_display, "active": new_active,
                 **_scope_dict(new_shops, new_wh)}
        execute(s, "UPDATE app_user SET role = ?, display_name = ?, active = ?, updated_at = ? WHERE id = ?",
                (new_role, after["display_name"], new_active, db_time(dialect_of(s), clock.utcnow()), user_id))
        execute(s, "DELETE FROM user_scope WHERE user_id = ?", (user_id,))
        for kind, ids in (("shop", new_shops), ("warehouse", new_wh)):
            for ref_id in sorted(ids or ()):
                execute(s, "INSERT INTO user_scope (user_id, kind, ref_id) VALUES (?, ?, ?)", (user_id, kind, ref_id))
        if not new_active:
            execute(s, "UPDATE user_session SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                    (db_time(dialect_of(s), clock.utcnow()), user_id))
        changed = {k: {"before": before[k], "after": after[k]} for k in before if before[k] != after[k]}
        audit.record(s, actor=manager.actor, action="users.update", target=f"user:{name}", ip=ip, detail=changed)
    return {"id": int(user_id), "username": name, **after}


def check_new_user(db: Database, manager: Principal, *, role: str, shop_ids: list[int] | None,
                   warehouse_ids: list[int] | None) -> None:
    """Refuse to create a user the manager could not have made: more permissions or a wider scope."""
    book = load_role_book(db)
    if role not in book.roles:
        raise Invalid(f"role: unknown role {role!r}", code="users.unknown_role")
    shops, warehouses = frozenset(shop_ids or ()) or None, frozenset(warehouse_ids or ()) or None
    _check_grant(manager, book.permissions(role), shops, warehouses)
    with db.read() as s:
        _ids_exist(s, "shop", shops, "shop_ids")
        _ids_exist(s, "warehouse", warehouses, "warehouse_ids")


# ------------------------------------------------------------------------------------------------ roles


def list_roles(db: Database) -> list[dict[str, Any]]:
    book = load_role_book(db)
    with db.read() as s:
        custom = {name: title for name, title in fetchall(s, "SELECT name, title FROM app_role")}
        in_use = dict(fetchall(s, "SELECT role, count(*) FROM app_user WHERE active = ? GROUP BY role", (True,)))
    roles = [{"name": name, "title": title, "builtin": True, "permissions": sorted(book.permissions(name)),
              "users": int(in_use.get(name, 0))} for name, (title, _) in BUILTIN_ROLES.items()]
    roles += [{"name": name, "title": custom[name], "builtin": False, "permissions": sorted(book.permissions(name)),
               "users": int(in_use.get(name, 0))} for name in sorted(custom)]
    return roles


def save_role(db: Database, manager: Principal, name: str, *, title: str, permissions: list[str],
              ip: str | None = None) -> dict[str, Any]:
    """Create or replace a custom role (a title and a set of permissions)."""
    if name in BUILTIN_ROLES:
        raise Conflict(f"{name!r} is a built-in role and cannot be changed", code="roles.builtin")
    unknown = sorted(set(permissions) - set(PERMISSIONS))
    if unknown:
        raise Invalid(f"permissions: unknown {', '.join(unknown)}", code="roles.unknown_permission",
                      details={"unknown": unknown})
    _check_grant(manager, permissions, manager.shop_ids, manager.warehouse_ids)
    perms = sorted(set(permissions))
    with db.write() as s:
        dialect = dialect_of(s)
        old = fetchall(s, "SELECT title, permissions FROM app_role WHERE name = ?", (name,))
        if old:
            execute(s, "UPDATE app_role SET title = ?, permissions = ? WHERE name = ?",
                    (title, db_json(dialect, perms), name))
        else:
            execute(s, "INSERT INTO app_role (name, title, permissions, created_at) VALUES (?, ?, ?, ?)",
                    (name, title, db_json(dialect, perms), db_time(dialect, clock.utcnow())))
        before = {"title": old[0][0], "permissions": sorted(read_json(old[0][1]))} if old else None
        audit.record(s, actor=manager.actor, action="roles.save", target=f"role:{name}", ip=ip,
                     detail={"before": before, "after": {"title": title, "permissions": perms}})
    return {"name": name, "title": title, "builtin": False, "permissions": perms}


def delete_role(db: Database, manager: Principal, name: str, *, ip: str | None = None) -> None:
    if name in BUILTIN_ROLES:
        raise Conflict(f"{name!r} is a built-in role and cannot be deleted", code="roles.builtin")
    with db.write() as s:
        old = fetchall(s, "SELECT title, permissions FROM app_role WHERE name = ?", (name,))
        if not old:
            raise NotFound(f"no custom role {name!r}", code="roles.not_found")
        holders = fetchall(s, "SELECT username FROM app_user WHERE role = ? ORDER BY username", (name,))
        if holders:
            raise Conflict(f"{len(holders)} user(s) still hold role {name!r}: give them another role first",
                           code="roles.in_use", details={"users": [h[0] for h in holders[:20]]})
        execute(s, "DELETE FROM app_role WHERE name = ?", (name,))
        audit.record(s, actor=manager.actor, action="roles.delete", target=f"role:{name}", ip=ip,
                     detail={"before": {"title": old[0][0], "permissions": sorted(read_json(old[0][1]))}})


# --------------------------------------------------------------------------------------------- API keys


def check_new_key(db: Database, manager: Principal, *, permissions: list[str], shop_ids: list[int] | None) -> None:
    shops = frozenset(shop_ids or ()) or None
    _check_grant(manager, permissions, shops, None)
    if manager.warehouse_ids is not None:
        raise Escalation("API keys see every warehouse: a warehouse-scoped user cannot create one")
    with db.read() as s:
        _ids_exist(s, "shop", shops, "shop_ids")


def list_api_keys(db: Database, manager: Principal) -> list[dict[str, Any]]:
    with db.read() as s:
        rows = fetchall(s, "SELECT prefix, name, permissions, shop_ids, rate_per_minute, created_by, created_at, "
                           "revoked_at, last_used_at FROM api_key ORDER BY id")
    keys = []
    for prefix, name, perms, shops, rate, by, created, revoked, used in rows:
        shop_set = frozenset(read_json(shops)) or None
        if not _within(manager.shop_ids, shop_set):
            continue
        keys.append({"prefix": prefix, "name": name, "permissions": read_json(perms),
                     "shop_ids": sorted(shop_set) if shop_set else None, "rate_per_minute": rate,
                     "created_by": by, "created_at": read_time(created), "revoked_at": read_time(revoked),
                     "last_used_at": read_time(used)})
    return keys


def visible_key(db: Database, manager: Principal, prefix: str) -> None:
    if not any(k["prefix"] == prefix and k["revoked_at"] is None for k in list_api_keys(db, manager)):
        raise NotFound(f"no active API key {prefix!r}", code="api_keys.not_found")

"""Permissions and roles. Built-in roles are code; custom roles (app_role rows) are sets of permissions.
The check itself is pycasbin's RBAC-with-domains model: a user holds a role in a domain (`*`, or
`shop:<id>` / `warehouse:<id>` for a scoped user) and a role grants permissions."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import casbin

PERMISSIONS = {
    "catalog.read": "商品/店铺/仓库 查看",
    "catalog.write": "商品/店铺/仓库 编辑",
    "stock.read": "库存 查看",
    "stock.adjust": "库存 调整",
    "orders.read": "订单 查看",
    "orders.write": "订单 导入/编辑",
    "pii.reveal": "查看买家明文信息 (每次留痕)",
    "export": "导出",
    "users.manage": "用户与角色管理",
    "audit.read": "审计日志 查看",
    "settings.write": "系统设置",
    "warehouse.operate": "仓库作业 (波次/拣货/打单/打包发货)",
    "dashboard.read": "数字大屏 查看 (GMV/订单/发货进度)",
}

_READ = {"catalog.read", "stock.read", "orders.read"}
BUILTIN_ROLES: dict[str, tuple[str, frozenset[str]]] = {
    "owner": ("老板", frozenset(PERMISSIONS)),
    "operator": ("运营", frozenset(_READ | {"catalog.write", "stock.adjust", "orders.write", "export",
                                          "warehouse.operate", "dashboard.read"})),
    "warehouse": ("仓库", frozenset({"catalog.read", "stock.read", "stock.adjust", "orders.read",
                                   "warehouse.operate", "dashboard.read"})),
    "service": ("客服", frozenset({"catalog.read", "orders.read", "pii.reveal"})),
    "purchasing": ("采购", frozenset({"catalog.read", "stock.read"})),
    "finance": ("财务", frozenset(_READ | {"export", "dashboard.read"})),
    "auditor": ("审计", frozenset(_READ | {"audit.read", "dashboard.read"})),
}
ADMIN_ROLES = frozenset({"owner"})

_MODEL = """
[request_definition]
r = sub, dom, obj

[policy_definition]
p = sub, obj

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.obj == p.obj
"""


class RoleBook:
    """The permissions of every role (built-in and custom), as a casbin enforcer answers them. A request
    carries `permissions(role)`, asked of the enforcer once per role; a RoleBook is rebuilt when roles
    change."""

    def __init__(self, custom: dict[str, Iterable[str]] | None = None) -> None:
        self._lock = threading.Lock()
        self._granted: dict[str, frozenset[str]] = {}
        self._enforcer = casbin.Enforcer(_model())
        policies = {name: perms for name, (_, perms) in BUILTIN_ROLES.items()}
        for name, perms in (custom or {}).items():
            policies[name] = frozenset(p for p in perms if p in PERMISSIONS)
        for name, perms in policies.items():
            for perm in sorted(perms):
                self._enforcer.add_policy(name, perm)
        self.roles = frozenset(policies)

    def permissions(self, role: str) -> frozenset[str]:
        granted = self._granted.get(role)
        if granted is None:
            granted = self._granted[role] = frozenset(p for p in PERMISSIONS if self.allows(role, p))
        return granted

    def allows(self, role: str, permission: str, domain: str = "*") -> bool:
        """Whether `role`, held in `domain`, grants `permission` (casbin RBAC with domains)."""
        with self._lock:  # casbin's enforcer is not thread-safe while roles are being linked
            user = f"__{role}@{domain}"
            self._enforcer.add_role_for_user_in_domain(user, role, domain)
            return bool(self._enforcer.enforce(user, domain, permission))


def _model() -> casbin.model.Model:
    model = casbin.model.Model()
    model.load_model_from_text(_MODEL)
    return model

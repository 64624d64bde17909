"""Rules over HTTP: each hook's active rule set, its versions, a new version (checked before it is kept),
a roll-back to an earlier version, and a dry run of a rule set on given facts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from baodan.core.http import runtime_of
from baodan.identity.http import Principal, client_ip, principal_of, require
from baodan.rules import store
from baodan.rules.engine import HOOKS, compile_rules

router = APIRouter(prefix="/rules", tags=["rules"])
Rt = Annotated[Any, Depends(runtime_of)]
Me = Annotated[Principal, Depends(principal_of)]
HookName = Annotated[str, Path(pattern=r"^[a-z]{1,16}$", description="review, routing, carrier or split")]
Version = Annotated[int, Path(ge=0, le=1_000_000)]


class RulesWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: dict[str, Any] = Field(description="a GoRules JDM decision graph (nodes and edges)")
    note: str | None = Field(default=None, max_length=300, description="why this version")


class TryRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    facts: list[dict[str, Any]] = Field(min_length=1, max_length=100, description="orders' facts, as the hook "
                                                                                   "gives them")
    content: dict[str, Any] | None = Field(default=None, description="a draft to try instead of the active rules")


@router.get("", dependencies=[Depends(require("orders.read"))])
def list_hooks(rt: Rt) -> list[dict[str, Any]]:
    """Every hook, with its active version and the facts its rules are given (a sample)."""
    return [{"hook": h.name, "title": h.title, "active_version": store.describe(rt.db, h.name)["version"],
             "answers": dict(h.answers), "outcomes": sorted(h.outcomes) if h.outcomes else None,
             "sample_facts": dict(h.sample)} for h in HOOKS.values()]


@router.get("/{hook}", dependencies=[Depends(require("orders.read"))])
def get_active(hook: HookName, rt: Rt) -> dict[str, Any]:
    """The active rule set of a hook (version 0: the shipped default)."""
    return store.describe(rt.db, hook)


@router.get("/{hook}/versions", dependencies=[Depends(require("orders.read"))])
def versions(hook: HookName, rt: Rt) -> list[dict[str, Any]]:
    return store.history(rt.db, hook)


@router.get("/{hook}/versions/{version}", dependencies=[Depends(require("orders.read"))])
def get_version(hook: HookName, version: Version, rt: Rt) -> dict[str, Any]:
    return store.describe(rt.db, hook, version)


@router.put("/{hook}", dependencies=[Depends(require("settings.write"))], status_code=201)
def save(hook: HookName, body: RulesWrite, rt: Rt, me: Me, request: Request) -> dict[str, Any]:
    """Save a new version and make it active (422 rules.invalid, nothing saved, when it does not load or
    answers outside the hook's shape). Audited."""
    saved = store.save(rt.db, hook, body.content, actor=me.actor, note=body.note, ip=client_ip(request))
    rt.rules.forget()
    return saved


@router.post("/{hook}/versions/{version}/activate", dependencies=[Depends(require("settings.write"))])
def activate(hook: HookName, version: Version, rt: Rt, me: Me, request: Request) -> dict[str, Any]:
    """Make an earlier version (or 0, the shipped default) the active one again. Audited."""
    done = store.activate(rt.db, hook, version, actor=me.actor, ip=client_ip(request))
    rt.rules.forget()
    return done


@router.post("/{hook}/try", dependencies=[Depends(require("orders.read"))])
def try_rules(hook: HookName, body: TryRules, rt: Rt) -> list[dict[str, Any]]:
    """What the active rules (or a draft) answer for the given facts, with the rule that decided: nothing
    is saved."""
    store.check_hook(hook)
    decider = compile_rules(hook, body.content) if body.content is not None else rt.rules.decider(hook)
    return [{"answer": d.answer, "rule": d.rule, "rule_title": d.rule_title, "version": decider.version}
            for d in decider.decide(body.facts)]

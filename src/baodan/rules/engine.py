"""Rules are data: a GoRules JDM decision graph per hook point, evaluated by zen-engine (never `eval`).

A hook (`HOOKS`) names what its rule set is given (the facts BaoDan computes for an order) and what it
must answer. `compile_rules()` refuses a graph that does not load or whose answer for the hook's sample
facts is not of the hook's shape, so a broken rule set cannot be saved. `Decider.decide()` evaluates many
orders in one call to the engine (its batch evaluation), then asks again, with a trace, only for the
orders a rule did not simply pass, to record which rule (its `_id` and `_description`) made the decision.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import zen

from baodan.core.errors import Invalid


@dataclass(frozen=True)
class Hook:
    """A point where rules decide. `outcomes`: what `action` may answer (None: the hook answers no action);
    `answers`: the other fields of the answer, each required or not; `sample`: facts a rule set must be
    able to decide, checked when it is saved."""

    name: str
    title: str
    answers: Mapping[str, bool]  # field → required
    sample: Mapping[str, Any]
    outcomes: frozenset[str] | None = None
    quiet: frozenset[str] = frozenset()  # outcomes not worth a trace (the ordinary answer)


HOOKS: dict[str, Hook] = {
    "review": Hook(
        "review", "审单", answers={"action": True, "reason": False},
        outcomes=frozenset({"pass", "hold"}), quiet=frozenset({"pass"}),
        sample={"channel": "douyin", "shop": "DY-FLAGSHIP", "paid_total_fen": 9900, "goods_total_fen": 9900,
                "quantity": 1, "line_count": 1, "sku_codes": ["P001-0001"], "remarks": "", "buyer_message": "",
                "seller_memo": "", "province": "浙江省", "city": "杭州市", "district": "西湖区", "adcode": "330106",
                "address_problem": None, "blacklisted": False, "suspected_duplicate": False,
                "presale_until": None, "live_room_id": None}),
    "routing": Hook(
        "routing", "分仓", answers={"warehouse": False},
        sample={"channel": "douyin", "shop": "DY-FLAGSHIP", "province": "广东省", "city": "广州市", "adcode": "440106",
                "weight_g": 500, "quantity": 1, "sku_codes": ["P001-0001"], "warehouse": "WH-HZ",
                "in_stock": ["WH-HZ", "WH-GZ"]}),
    "carrier": Hook(
        "carrier", "快递策略", answers={"carrier": False},
        sample={"channel": "douyin", "province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "adcode": "650102",
                "weight_g": 500, "paid_total_fen": 9900, "warehouse": "WH-HZ", "carriers": ["YTO", "ZTO"],
                "carriers_full": ["SF"]}),
    "split": Hook(
        "split", "拆单", answers={"action": True, "reason": False},
        outcomes=frozenset({"split", "wait"}), quiet=frozenset({"wait"}),
        sample={"channel": "douyin", "shop": "DY-FLAGSHIP", "province": "广东省", "city": "广州市", "line_count": 2,
                "quantity": 2, "paid_total_fen": 19800, "sku_codes": ["P001-0001", "P002-0001"],
                "waiting_minutes": 30, "split_kind": "warehouse", "parts": 2, "waiting_lines": 0}),
}


@dataclass(frozen=True)
class Decision:
    """What a rule set answered for one order. `rule`/`rule_title`: the decision table row that made it
    (recorded for every answer outside the hook's quiet ones)."""

    answer: dict[str, Any]
    rule: str | None = None
    rule_title: str | None = None

    @property
    def action(self) -> str | None:
        action = self.answer.get("action")
        return str(action) if action is not None else None

    @property
    def reason(self) -> str | None:
        reason = self.answer.get("reason")
        return str(reason) if reason else None


class RuleError(Invalid):
    code = "rules.invalid"


def default_rules(hook: str) -> dict[str, Any] | None:
    """The rule set BaoDan ships for a hook (`rules/defaults/<hook>.json`), or None."""
    path = resources.files("baodan.rules").joinpath("defaults", f"{hook}.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


@dataclass
class Decider:
    """A compiled rule set of one hook. The rule behind an answer is found by tracing the evaluation (the
    decision table row's `_id` and `_description`), except for the hook's quiet answers, and where the table
    answers a `rule` output itself (cheaper, for hooks deciding every order: routing, carrier)."""

    hook: Hook
    content: str
    version: int = 0
    _engine: Any = field(init=False, repr=False)
    _single: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        content = self.content
        self._engine = zen.ZenEngine({"loader": lambda key: content})
        self._single = self._engine.create_decision(content)

    def decide(self, facts: Sequence[Mapping[str, Any]]) -> list[Decision]:
        """The answer for each order's facts, in order. Raises RuleError when the rule set fails on one."""
        if not facts:
            return []
        answers = self._engine.evaluate_batch([{"key": self.hook.name, "context": dict(f)} for f in facts])
        decisions = []
        for i, answer in enumerate(answers):
            if not answer.get("success"):
                raise RuleError(f"{self.hook.name} rules (version {self.version}) failed on order facts #{i}: "
                                f"{answer.get('error') or answer}", details={"hook": self.hook.name})
            result = dict(answer["data"].get("result") or {})
            check_answer(self.hook, result)
            named = result.pop("rule", None)  # a table may name its row itself: no trace needed
            if named:
                decision = Decision(result, str(named), None)
            elif result.get("action") in self.hook.quiet:
                decision = Decision(result)
            else:
                decision = self._traced(facts[i], result)
            decisions.append(decision)
        return decisions

    def _traced(self, facts: Mapping[str, Any], result: dict[str, Any]) -> Decision:
        traced = self._single.evaluate(dict(facts), {"trace": True})
        for step in (traced.get("trace") or {}).values():
            row = ((step or {}).get("traceData") or {}).get("rule") if isinstance(step, dict) else None
            if isinstance(row, dict) and row.get("_id"):
                return Decision(result, str(row["_id"]), str(row.get("_description") or "") or None)
        return Decision(result)


def compile_rules(hook_name: str, content: Mapping[str, Any] | str, *, version: int = 0) -> Decider:
    """A Decider for `content` (a JDM graph), checked: it loads, and answers the hook's sample facts in the
    hook's shape. Raises RuleError (HTTP 422, code rules.invalid) saying what is wrong."""
    hook = HOOKS.get(hook_name)
    if hook is None:
        raise RuleError(f"no hook {hook_name!r}; hooks: {', '.join(HOOKS)}", code="rules.unknown_hook")
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    try:
        decider = Decider(hook, text, version)
        (decision,) = decider.decide([hook.sample])
    except RuleError:
        raise
    except Exception as exc:  # the engine's own errors (parse, graph, expression) come as plain exceptions
        raise RuleError(f"{hook_name} rules do not load: {str(exc)[:300]}", details={"hook": hook_name}) from None
    check_answer(hook, decision.answer)
    return decider


def check_answer(hook: Hook, answer: Mapping[str, Any]) -> None:
    missing = [name for name, required in hook.answers.items() if required and answer.get(name) in (None, "")]
    if missing:
        raise RuleError(f"{hook.name} rules must answer {', '.join(missing)} (answered {dict(answer)})",
                        details={"hook": hook.name, "missing": missing})
    if hook.outcomes is not None and answer.get("action") not in hook.outcomes:
        raise RuleError(f"{hook.name} rules answered action {answer.get('action')!r}; it must be one of "
                        f"{', '.join(sorted(hook.outcomes))}", details={"hook": hook.name})

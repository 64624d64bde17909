"""Rule sets as data: the shipped review rules decide each hold with the rule that made it; a rule set that
does not load or answers outside its hook's shape is refused before it can be saved."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from baodan.rules.engine import HOOKS, RuleError, compile_rules, default_rules

ORDER = dict(HOOKS["review"].sample)


@pytest.mark.parametrize(("change", "reason", "rule"), [
    ({"address_problem": "address_incomplete"}, "address_incomplete", "address"),
    ({"blacklisted": True}, "blacklisted", "blacklist"),
    ({"suspected_duplicate": True}, "suspected_duplicate", "duplicate"),
    ({"paid_total_fen": 500_000}, "amount_over", "amount"),
    ({"quantity": 20}, "quantity_over", "quantity"),
    ({"remarks": "麻烦帮我改地址到公司"}, "remark_keyword", "remark"),
    ({"province": "西藏自治区"}, "remote_region", "remote"),
])
def test_the_default_review_rules_hold_with_a_reason_and_the_rule(change: dict[str, Any], reason: str,
                                                                   rule: str) -> None:
    decider = compile_rules("review", default_rules("review") or {})
    passed, held = decider.decide([ORDER, {**ORDER, **change}])
    assert passed.action == "pass" and passed.rule is None  # the ordinary answer is not traced
    assert (held.action, held.reason, held.rule) == ("hold", reason, rule) and held.rule_title


def test_many_orders_are_decided_in_one_call_in_order() -> None:
    decider = compile_rules("review", default_rules("review") or {})
    facts = [{**ORDER, "quantity": q} for q in range(1, 41)]
    decisions = decider.decide(facts)
    assert [d.action for d in decisions] == ["pass"] * 19 + ["hold"] * 21


def _table(rules: dict[str, Any]) -> dict[str, Any]:
    return next(n for n in rules["nodes"] if n["type"] == "decisionTableNode")


def test_a_rule_set_that_does_not_load_or_answers_wrongly_is_refused() -> None:
    with pytest.raises(RuleError, match="do not load"):
        compile_rules("review", {"nodes": [{"id": "x", "type": "nonsense"}], "edges": []})
    wrong = copy.deepcopy(default_rules("review") or {})
    for row in _table(wrong)["content"]["rules"]:
        row["action"] = "'ship_it'"
    with pytest.raises(RuleError, match="must be one of hold, pass"):
        compile_rules("review", wrong)
    silent = copy.deepcopy(default_rules("review") or {})
    for row in _table(silent)["content"]["rules"]:
        row["action"] = ""
    with pytest.raises(RuleError, match="must answer action"):
        compile_rules("review", silent)
    with pytest.raises(RuleError) as unknown:
        compile_rules("packing", default_rules("review") or {})
    assert unknown.value.code == "rules.unknown_hook"


def test_a_broken_expression_is_refused_with_what_the_engine_said() -> None:
    broken = copy.deepcopy(default_rules("review") or {})
    _table(broken)["content"]["rules"][-1]["amount"] = ">>> nonsense ((("
    with pytest.raises(RuleError):
        compile_rules("review", broken)

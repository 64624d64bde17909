"""Rules over HTTP: read the active rules and their versions, save a checked new version (a broken one is
refused and nothing is saved), roll back, try a draft on given facts; only settings.write may change them."""

from __future__ import annotations

import copy

from baodan.identity import accounts, audit
from baodan.rules.engine import HOOKS, default_rules
from tests.api.test_security import PASSWORD, _login
from tests.helpers import API, error_body, sqlite_only

pytestmark = sqlite_only


def test_rules_are_read_saved_as_versions_rolled_back_and_tried(runtime, db, client) -> None:
    hooks = {h["hook"]: h for h in client.get(f"{API}/rules").json()}
    assert set(hooks) == set(HOOKS) and hooks["review"]["active_version"] == 0
    assert client.get(f"{API}/rules/review").json()["content"] == default_rules("review")
    strict = copy.deepcopy(default_rules("review"))
    table = next(n for n in strict["nodes"] if n["type"] == "decisionTableNode")
    amount = next(r for r in table["content"]["rules"] if r["_id"] == "amount")
    amount["amount"] = ">= 100000"  # hold from 1,000 yuan during this session
    saved = client.put(f"{API}/rules/review", json={"content": strict, "note": "大促: 1000 元以上审单"})
    assert saved.status_code == 201, saved.text
    assert saved.json()["version"] == 1 and saved.json()["active"] is True
    facts = [{**HOOKS["review"].sample, "paid_total_fen": 150_000}]
    tried = client.post(f"{API}/rules/review/try", json={"facts": facts}).json()
    assert tried == [{"answer": {"action": "hold", "reason": "amount_over"}, "rule": "amount",
                      "rule_title": "实付 ≥ 5000 元", "version": 1}]
    assert [v["version"] for v in client.get(f"{API}/rules/review/versions").json()] == [1, 0]
    assert client.post(f"{API}/rules/review/versions/0/activate").json()["active"] is True
    assert client.post(f"{API}/rules/review/try", json={"facts": facts}).json()[0]["answer"]["action"] == "pass"
    broken = copy.deepcopy(strict)
    next(n for n in broken["nodes"] if n["type"] == "decisionTableNode")["content"]["rules"] = []
    error_body(client.put(f"{API}/rules/review", json={"content": broken}), 422, "rules.invalid")
    assert [v["version"] for v in client.get(f"{API}/rules/review/versions").json()] == [1, 0]  # nothing saved
    error_body(client.get(f"{API}/rules/packing"), 404, "rules.unknown_hook")
    error_body(client.get(f"{API}/rules/review/versions/9"), 404, "rules.not_found")
    with db.read() as s:
        assert len(audit.search(s, action="settings.rules")) == 2
    accounts.create_user(db, username="ops", role="operator", password=PASSWORD)
    ops = _login(runtime, "ops")
    assert ops.get(f"{API}/rules/review").status_code == 200
    error_body(ops.put(f"{API}/rules/review", json={"content": strict}), 403, "auth.forbidden")

"""The runtime settings through the HTTP layer (API.md v1.1 "Operator: settings"): every route,
every refusal with nothing changed, the audit entry of each save."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.config import Rules
from chalicelib.services.settings import MAX_RULES_BYTES
from chalicelib.store.admin import AdminItem

SETTINGS, VERSIONS, ROLLBACK = "/v1/admin/settings", "/v1/admin/settings/versions", "/v1/admin/settings/rollback"
SEED = Rules().model_dump(mode="json")


@pytest.fixture
def admin(api: Any) -> tuple[str, str]:
    return api.login("admin")


def with_change(rules: dict[str, Any], section: str, **fields: Any) -> dict[str, Any]:
    return {**rules, section: {**rules[section], **fields}}


def audit_entries() -> list[AdminItem]:
    return [i for i in AdminItem.scan() if i.pk.startswith("audit#")]


def state(api: Any, token: str) -> tuple[Any, Any, int]:
    """What a refusal must leave as it was: the settings, the history, the audit log."""
    return api.call("GET", SETTINGS, token=token)[1], api.call("GET", VERSIONS, token=token)[1], len(audit_entries())


def test_before_any_save_the_seed_is_version_1_whole(api: Any, admin: tuple[str, str]) -> None:
    status, body = api.call("GET", SETTINGS, token=admin[0])
    assert status == 200
    assert body == {"version": 1, "rules": SEED, "updated_at": None, "updated_by": None}
    assert api.call("GET", VERSIONS, token=admin[0])[1] == {"items": [
        {"version": 1, "at": None, "by": None, "changed": [], "rollback_of": None, "seed": True}], "next": None}


def test_a_save_is_the_next_version_in_force_with_its_audit_entry(api: Any, admin: tuple[str, str]) -> None:
    token, admin_id = admin
    rules = with_change(SEED, "orders", settlement_hold_days=7)
    status, body = api.call("PUT", SETTINGS, {"rules": rules, "expected_version": 1, "reason": "longer hold"}, token)
    assert (status, body) == (200, {"version": 2})
    now = api.call("GET", SETTINGS, token=token)[1]
    assert (now["version"], now["rules"], now["updated_by"]) == (2, rules, admin_id)
    assert now["updated_at"].endswith("Z")
    [entry] = audit_entries()
    assert (entry.actor, entry.action, entry.target, entry.reason) == (admin_id, "settings.update", "settings#2",
                                                                        "longer hold")
    assert json.loads(entry.state or "") == {"before": SEED, "after": rules}
    items = api.call("GET", VERSIONS, token=token)[1]["items"]
    assert [(v["version"], v["by"], v["changed"], v["seed"]) for v in items] == [
        (2, admin_id, ["orders.settlement_hold_days"], False), (1, None, [], True)]


def test_omitted_fields_take_their_defaults_as_the_seed_does(api: Any, admin: tuple[str, str]) -> None:
    assert api.call("PUT", SETTINGS, {"rules": {"commission": {"team_bonus_bp": 200}}, "expected_version": 1},
                    admin[0])[0] == 200
    rules = api.call("GET", SETTINGS, token=admin[0])[1]["rules"]
    assert rules == with_change(SEED, "commission", team_bonus_bp=200)


def test_a_save_from_a_stale_version_is_a_conflict_and_changes_nothing(api: Any, admin: tuple[str, str]) -> None:
    token = admin[0]
    assert api.call("PUT", SETTINGS, {"rules": SEED, "expected_version": 1}, token)[0] == 200
    before = state(api, token)
    for expected in (1, 3, 99):
        status, body = api.call("PUT", SETTINGS, {"rules": with_change(SEED, "orders", payment_minutes=30),
                                                  "expected_version": expected}, token)
        assert (status, body["error"]["code"]) == (409, "VERSION_CONFLICT"), expected
    assert state(api, token) == before


INVALID_RULES = [
    ({"orders": {"payment_minutes": 0}}, [("orders.payment_minutes", "greater than or equal to 1")]),
    ({"colour": "red"}, [("colour", "Extra inputs are not permitted")]),
    ({"withdrawals": {"minimum_fen": "100"}}, [("withdrawals.minimum_fen", "valid integer")]),
    ({"commission": {"team_bonus_bp": 10_001}, "tier_downgrade": "sometimes", "orders": {"auto_confirm_days": 0}},
     [("commission.team_bonus_bp", "less than or equal to 10000"), ("orders.auto_confirm_days", "greater than"),
      ("tier_downgrade", "should match pattern")]),
    ({"tiers": [{"tier": "senior", "uplift_bp": 900}, {"tier": "partner", "uplift_bp": 100}]},
     [("", "a higher tier cannot earn a smaller uplift")]),
    ({"invitation_ladder": [{"invitees": 50, "reward": "gift_pack"}, {"invitees": 10, "reward": "gift_pack"}]},
     [("", "milestones are listed in increasing order")]),
    ({"experiments": {"home_layout": {"variants": {"A": 100}}}}, [("experiments.home_layout.variants", "at least 2")]),
    ({"experiments": {f"e{i}": {"variants": {"A" * 20: 1, "B" * 20: 1}} for i in range(600)}},
     [("", f"over {MAX_RULES_BYTES}")]),
]  # a range, an unknown field, a string for a number, three at once (every reason), the tier ladder,
# the invitation ladder, an experiment of one variant, a document over the audit entry's bound


@pytest.mark.parametrize(("rules", "reasons"), INVALID_RULES)
def test_invalid_rules_are_refused_with_every_reason_and_nothing_changes(
        api: Any, admin: tuple[str, str], rules: dict[str, Any], reasons: list[tuple[str, str]]) -> None:
    token = admin[0]
    before = state(api, token)
    status, body = api.call("PUT", SETTINGS, {"rules": rules, "expected_version": 1}, token)
    assert (status, body["error"]["code"]) == (422, "INVALID_RULES"), body
    got = body["error"]["reasons"]
    assert [r["path"] for r in got] == [path for path, _ in reasons]
    for reason, (_, words) in zip(got, reasons, strict=True):
        assert words in reason["message"], reason
    assert state(api, token) == before


BAD_BODIES = [
    ('{"rules": {}, "expected_version": 1', 400, "MALFORMED_JSON"),
    ('{"rules": {}, "expected_version": 1, "colour": 1}', 422, "VALIDATION_FAILED"),
    ('{"rules": {}}', 422, "VALIDATION_FAILED"),
    ('{"expected_version": 1}', 422, "VALIDATION_FAILED"),
    ('{"rules": [], "expected_version": 1}', 422, "VALIDATION_FAILED"),
    ('{"rules": {}, "expected_version": "1"}', 422, "VALIDATION_FAILED"),
    ('{"rules": {}, "expected_version": 0}', 422, "VALIDATION_FAILED"),
    ('{"rules": {}, "expected_version": 1, "reason": ""}', 422, "VALIDATION_FAILED"),
    ('[]', 422, "VALIDATION_FAILED"),
]  # not JSON, an unknown field, no version, no rules, rules not an object, version a string or 0, empty reason,
# not an object
BAD_ROLLBACKS = [('{"version": 1', 400, "MALFORMED_JSON"), ('{"version": 1, "rules": {}}', 422, "VALIDATION_FAILED"),
                 ("{}", 422, "VALIDATION_FAILED"), ('{"version": 1.5}', 422, "VALIDATION_FAILED")]


def test_bad_bodies_are_refused_and_nothing_changes(api: Any, admin: tuple[str, str]) -> None:
    token = admin[0]
    before = state(api, token)
    for raw, status, code in BAD_BODIES:
        answer = api.call("PUT", SETTINGS, raw=raw, token=token)
        assert (answer[0], answer[1]["error"]["code"]) == (status, code), raw
    for raw, status, code in BAD_ROLLBACKS:
        answer = api.call("POST", ROLLBACK, raw=raw, token=token)
        assert (answer[0], answer[1]["error"]["code"]) == (status, code), raw
    assert state(api, token) == before


def test_every_settings_route_refuses_a_non_admin_and_changes_nothing(api: Any, admin: tuple[str, str]) -> None:
    before = state(api, admin[0])
    user, _ = api.login("mallory")
    for method, path, body in [("GET", SETTINGS, None), ("PUT", SETTINGS, {"rules": SEED, "expected_version": 1}),
                               ("GET", VERSIONS, None), ("POST", ROLLBACK, {"version": 1})]:
        status, answer = api.call(method, path, body, user)
        assert (status, answer["error"]["code"]) == (403, "FORBIDDEN"), path
        assert api.call(method, path, body)[0] == 401, path
    assert state(api, admin[0]) == before


def test_a_rollback_is_a_new_version_equal_to_the_old_one(api: Any, admin: tuple[str, str]) -> None:
    token, admin_id = admin
    changed = with_change(SEED, "commission", team_bonus_bp=100)
    assert api.call("PUT", SETTINGS, {"rules": changed, "expected_version": 1}, token)[1] == {"version": 2}
    status, body = api.call("POST", ROLLBACK, {"version": 1, "reason": "bonus cut by mistake"}, token)
    assert (status, body) == (200, {"version": 3})
    now = api.call("GET", SETTINGS, token=token)[1]
    assert (now["version"], now["rules"]) == (3, SEED)
    items = api.call("GET", VERSIONS, token=token)[1]["items"]
    assert [(v["version"], v["rollback_of"], v["changed"]) for v in items] == [
        (3, 1, ["commission.team_bonus_bp"]), (2, None, ["commission.team_bonus_bp"]), (1, None, [])]
    actions = sorted((e.action, e.target) for e in audit_entries())
    assert actions == [("settings.rollback", "settings#3"), ("settings.update", "settings#2")]
    rollback = next(e for e in audit_entries() if e.action == "settings.rollback")
    assert json.loads(rollback.state or "") == {"before": changed, "after": SEED}
    assert rollback.actor == admin_id


def test_a_rollback_to_a_version_never_saved_is_not_found_and_changes_nothing(
        api: Any, admin: tuple[str, str]) -> None:
    token = admin[0]
    assert api.call("PUT", SETTINGS, {"rules": SEED, "expected_version": 1}, token)[0] == 200
    before = state(api, token)
    for version in (3, 99, 2**40):
        status, body = api.call("POST", ROLLBACK, {"version": version}, token)
        assert (status, body["error"]["code"]) == (404, "SETTINGS_VERSION_NOT_FOUND"), version
    for version in (0, -1, "2", None):
        status, body = api.call("POST", ROLLBACK, {"version": version}, token)
        assert (status, body["error"]["code"]) == (422, "VALIDATION_FAILED"), version
    assert state(api, token) == before


def test_the_history_pages_newest_first(api: Any, admin: tuple[str, str]) -> None:
    token = admin[0]
    for version in range(1, 5):
        rules = with_change(SEED, "orders", payment_minutes=10 + version)
        assert api.call("PUT", SETTINGS, {"rules": rules, "expected_version": version}, token)[0] == 200
    seen, cursor = [], None
    while True:
        path = f"{VERSIONS}?limit=2" + (f"&next={cursor}" if cursor else "")
        status, body = api.call("GET", path, token=token)
        assert status == 200
        seen += [v["version"] for v in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]
    status, body = api.call("GET", f"{VERSIONS}?next=bm90LW91cnM", token=token)
    assert (status, body["error"]["code"]) == (400, "INVALID_CURSOR")


def test_a_save_is_in_force_for_the_next_request(api: Any, admin: tuple[str, str]) -> None:
    """The saving process drops its cache; other processes follow within the refresh interval
    (tests/e2e/test_settings_in_force.py)."""
    token = admin[0]
    buyer, _ = api.login("bob")
    assert api.call("GET", "/v1/experiments/home_layout/variant", token=buyer)[0] == 200
    rules = {**SEED, "experiments": {"checkout_button": {"variants": {"red": 1, "green": 1}}}}
    assert api.call("PUT", SETTINGS, {"rules": rules, "expected_version": 1}, token)[0] == 200
    status, body = api.call("GET", "/v1/experiments/checkout_button/variant", token=buyer)
    assert status == 200 and body["variant"] in ("red", "green")
    assert api.call("GET", "/v1/experiments/home_layout/variant", token=buyer)[0] == 404


def tight_product(api: Any, token: str, uplift_bp: int, bonus_bp: int) -> str:
    """A listed product whose margin is exactly its largest payout at this top uplift and bonus."""
    from chalicelib.domain.orders import largest_payout_fen

    price = 10_000
    cost = price - largest_payout_fen(price, 2_000, 500, uplift_bp, bonus_bp)
    status, body = api.call("POST", "/v1/admin/products", {"name": "精华", "category": "beauty", "cost_fen": cost,
                                                           "price_fen": price, "stock": 5}, token)
    assert status == 201, body
    return str(body["product_id"])


def test_rules_under_which_a_listed_product_would_pay_out_more_than_its_margin_are_refused(
        api: Any, admin: tuple[str, str]) -> None:
    token = admin[0]
    product_id = tight_product(api, token, 1_000, 300)  # at the seed's partner uplift and team bonus
    before = state(api, token)
    higher_uplift = {**SEED, "tiers": [SEED["tiers"][0], {**SEED["tiers"][1], "uplift_bp": 1_100}]}
    for rules in (higher_uplift, with_change(SEED, "commission", team_bonus_bp=301)):
        status, body = api.call("PUT", SETTINGS, {"rules": rules, "expected_version": 1}, token)
        assert (status, body["error"]["code"]) == (422, "INVALID_RULES"), body
        [reason] = body["error"]["reasons"]
        assert product_id in reason["message"] and "over its margin" in reason["message"]
    assert state(api, token) == before
    lower = with_change(SEED, "commission", team_bonus_bp=200)  # lowering never reads the catalogue
    assert api.call("PUT", SETTINGS, {"rules": lower, "expected_version": 1}, token)[1] == {"version": 2}


def test_a_rollback_to_rules_a_product_listed_since_cannot_afford_is_refused(api: Any, admin: tuple[str, str]) -> None:
    token = admin[0]
    lower = with_change(SEED, "commission", team_bonus_bp=100)
    assert api.call("PUT", SETTINGS, {"rules": lower, "expected_version": 1}, token)[0] == 200
    tight_product(api, token, 1_000, 100)
    before = state(api, token)
    status, body = api.call("POST", ROLLBACK, {"version": 1}, token)
    assert (status, body["error"]["code"]) == (422, "INVALID_RULES"), body
    assert state(api, token) == before

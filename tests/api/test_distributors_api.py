"""The operator's distributors and audit log over HTTP (API.md v1.1 "Operator: settings,
distributors, audit"): every route and refusal, each refusal changing nothing; and, derived from
the app's routes, every admin route that changes state writes exactly one audit entry."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

import app  # noqa: F401  (registers every route in ROUTES)
from bench.settlement import seed_available
from chalicelib.api.http import ROUTES
from chalicelib.services import console
from chalicelib.store.admin import AdminItem
from tests.api.test_authorization import World, label, snapshot, world  # noqa: F401  (world: a fixture)
from tests.api.test_orders import order, product
from tests.service.test_withdrawals import id_number


def entries() -> list[AdminItem]:
    return sorted((i for i in AdminItem.scan() if i.action), key=lambda i: i.sk)


def refused(api: Any, method: str, path: str, body: Any, token: str, status: int, code: str) -> dict[str, Any]:
    """The call is refused with ``status``/``code`` and every table is as it was."""
    before = snapshot()
    got, answer = api.call(method, path, body, token)
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert snapshot() == before
    return answer


# Distributors: freeze, tier, list ---------------------------------------------------------------------

def test_freeze_refuses_a_withdrawal_with_403_and_unfreeze_lets_it_through(api, deps):
    admin, _ = api.login("admin")
    token, user_id, _ = api.distributor("ann")
    assert api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": id_number(7)}, token)[0] == 200
    seed_available(user_id, "2001-01", 10_000, deps.clock())
    status, frozen = api.call("POST", f"/v1/admin/users/{user_id}/freeze", {"reason": "调查"}, admin)
    assert status == 200 and frozen["frozen"] and frozen["frozen_at"], frozen
    before = snapshot()
    status, answer = api.call("POST", "/v1/me/withdrawals", {"amount_fen": 1_000}, token,
                              headers={"Idempotency-Key": "k1"})
    assert (status, answer["error"]["code"]) == (403, "ACCOUNT_FROZEN")
    assert snapshot() == before
    refused(api, "POST", f"/v1/admin/users/{user_id}/freeze", {"reason": "again"}, admin, 409, "ALREADY_FROZEN")
    status, thawed = api.call("POST", f"/v1/admin/users/{user_id}/unfreeze", {"reason": "ok"}, admin)
    assert status == 200 and not thawed["frozen"] and thawed["frozen_at"] is None
    refused(api, "POST", f"/v1/admin/users/{user_id}/unfreeze", {"reason": "again"}, admin, 409, "NOT_FROZEN")
    status, _ = api.call("POST", "/v1/me/withdrawals", {"amount_fen": 1_000}, token, headers={"Idempotency-Key": "k1"})
    assert status == 201


def test_the_hold_routes_refuse_bad_input_and_unknown_distributors_changing_nothing(api):
    admin, _ = api.login("admin")
    _, user_id, _ = api.distributor("ann")
    _, buyer_id = api.login("buyer")
    for path in (f"/v1/admin/users/{user_id}/freeze", f"/v1/admin/users/{user_id}/unfreeze"):
        for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}, {"reason": 5},
                     {"reason": "x", "extra": 1}):
            refused(api, "POST", path, body, admin, 422, "VALIDATION_FAILED")
    tier = f"/v1/admin/users/{user_id}/tier"
    for body in ({"reason": "x"}, {"tier": "gold", "reason": "x"}, {"tier": "senior"}, {"tier": 1, "reason": "x"}):
        refused(api, "POST", tier, body, admin, 422, "VALIDATION_FAILED")
    for who in (buyer_id, "u-nobody"):
        refused(api, "POST", f"/v1/admin/users/{who}/freeze", {"reason": "x"}, admin, 404, "DISTRIBUTOR_NOT_FOUND")
        refused(api, "POST", f"/v1/admin/users/{who}/tier", {"tier": "senior", "reason": "x"}, admin, 404,
                "DISTRIBUTOR_NOT_FOUND")


def test_a_manual_tier_is_set_shown_and_lifted(api):
    admin, _ = api.login("admin")
    token, user_id, _ = api.distributor("ann")
    status, row = api.call("POST", f"/v1/admin/users/{user_id}/tier", {"tier": "partner", "reason": "签约"}, admin)
    assert status == 200 and (row["tier"], row["manual_tier"]) == ("partner", "partner"), row
    assert api.call("GET", "/v1/me", token=token)[1]["tier"] == "partner"
    status, row = api.call("POST", f"/v1/admin/users/{user_id}/tier", {"tier": None, "reason": "解约"}, admin)
    assert status == 200 and (row["tier"], row["manual_tier"]) == ("regular", None), row


def test_the_list_shows_tier_counts_sales_wallet_and_freeze_and_filters(api):
    admin, _ = api.login("admin")
    _, ann, ann_code = api.distributor("ann")
    buyer, _ = api.login("buyer")
    assert api.call("POST", "/v1/referrals/bind", {"invite_code": ann_code}, buyer)[0] == 200
    pid = product(api, admin)["product_id"]
    oid = order(api, buyer, [{"product_id": pid, "quantity": 1}])[1]["order_id"]
    assert api.call("POST", f"/v1/dev/pay/{oid}")[1]["status"] == "paid"
    _, bob, _ = api.distributor("bob")
    api.call("POST", f"/v1/admin/users/{bob}/freeze", {"reason": "x"}, admin)
    status, page = api.call("GET", "/v1/admin/distributors", token=admin)
    assert status == 200 and [i["user_id"] for i in page["items"]] == [bob, ann] and page["next"] is None
    row = page["items"][1]
    assert (row["shop_name"], row["invite_code"], row["tier"], row["manual_tier"], row["direct_count"],
            row["frozen"]) == ("ann shop", ann_code, "regular", None, 1, False)
    assert row["month_sales_fen"] > 0 and row["wallet"]["pending_fen"] > 0
    assert set(row["wallet"]) == {"pending_fen", "frozen_fen", "available_fen", "withdrawing_fen", "withdrawn_fen"}
    assert [i["user_id"] for i in api.call("GET", "/v1/admin/distributors?frozen=true", token=admin)[1]["items"]] \
        == [bob]
    assert [i["user_id"] for i in api.call("GET", f"/v1/admin/distributors?q={ann_code}", token=admin)[1]["items"]] \
        == [ann]
    first = api.call("GET", "/v1/admin/distributors?limit=1", token=admin)[1]
    second = api.call("GET", f"/v1/admin/distributors?limit=1&next={first['next']}", token=admin)[1]
    assert [i["user_id"] for i in first["items"] + second["items"]] == [bob, ann]
    for query in ("tier=gold", "frozen=maybe", "limit=0", "limit=101", "q=", "colour=red", "next=%21%21"):
        status, answer = api.call("GET", f"/v1/admin/distributors?{query}", token=admin)
        assert status in (400, 422) and answer["error"]["code"] in ("VALIDATION_FAILED", "INVALID_CURSOR"), query


# The audit log --------------------------------------------------------------------------------------

def test_the_audit_log_newest_first_by_actor_and_action_over_shanghai_days(api, clock):
    admin, admin_id = api.login("admin")
    _, ann, _ = api.distributor("ann")
    api.call("POST", f"/v1/admin/users/{ann}/freeze", {"reason": "一"}, admin)
    clock.advance(seconds=1)
    api.call("POST", f"/v1/admin/users/{ann}/unfreeze", {"reason": "二"}, admin)
    clock.advance(seconds=1)
    api.call("POST", f"/v1/admin/users/{ann}/tier", {"tier": "senior", "reason": "三"}, admin)
    status, page = api.call("GET", "/v1/admin/audit", token=admin)
    assert status == 200 and [i["action"] for i in page["items"]] == ["user.tier", "user.unfreeze", "user.freeze"]
    item = page["items"][2]
    assert (item["actor_id"], item["target"], item["reason"], item["before"], item["after"]["frozen_at"]) == \
        (admin_id, f"user#{ann}", "一", {"frozen_at": None}, item["at"])
    assert item["entry_id"]
    by_action = api.call("GET", "/v1/admin/audit?action=user.unfreeze", token=admin)[1]["items"]
    assert [i["reason"] for i in by_action] == ["二"]
    both = api.call("GET", f"/v1/admin/audit?actor={admin_id}&action=user.tier", token=admin)[1]["items"]
    assert [i["reason"] for i in both] == ["三"]
    assert api.call("GET", "/v1/admin/audit?actor=u-someone-else", token=admin)[1]["items"] == []
    seen, cursor = [], None
    for _ in range(5):
        path = "/v1/admin/audit?limit=1" + (f"&next={cursor}" if cursor else "")
        got = api.call("GET", path, token=admin)[1]
        seen += [i["reason"] for i in got["items"]]
        cursor = got["next"]
        if not cursor:
            break
    assert seen == ["三", "二", "一"]
    for actor in (None, admin_id):
        path = "/v1/admin/audit?limit=2" + (f"&actor={actor}" if actor else "")
        first = api.call("GET", path, token=admin)[1]
        rest = api.call("GET", f"{path}&next={first['next']}", token=admin)[1]
        assert [i["reason"] for i in first["items"] + rest["items"]] == ["三", "二", "一"] and rest["next"] is None
    today = clock().date().isoformat()  # 2026-11 in UTC and in Shanghai: the same day here
    assert len(api.call("GET", f"/v1/admin/audit?from={today}&to={today}", token=admin)[1]["items"]) == 3
    assert api.call("GET", "/v1/admin/audit?from=2026-01-01&to=2026-01-31", token=admin)[1]["items"] == []


@pytest.mark.parametrize(("query", "status", "code"), [
    ("action=user.delete", 422, "VALIDATION_FAILED"),
    ("from=2026-13-01", 422, "INVALID_DATE"),
    ("to=yesterday", 422, "INVALID_DATE"),
    ("from=2026-11-10&to=2026-11-01", 422, "INVALID_DATE_RANGE"),
    ("from=2026-01-01&to=2026-11-01", 422, "INVALID_DATE_RANGE"),
    ("limit=0", 422, "VALIDATION_FAILED"),
    ("next=bm90LW91cnM", 400, "INVALID_CURSOR"),
    ("other=1", 422, "VALIDATION_FAILED"),
])
def test_bad_audit_filters_are_4xx(api, query, status, code):
    admin, _ = api.login("admin")
    got, answer = api.call("GET", f"/v1/admin/audit?{query}", token=admin)
    assert (got, answer["error"]["code"]) == (status, code), answer


def test_a_user_cannot_read_the_audit_log_or_the_distributors(api):
    token, _ = api.login("someone")
    for path in ("/v1/admin/audit", "/v1/admin/distributors"):
        refused(api, "GET", path, None, token, 403, "FORBIDDEN")


# Every admin route that changes state writes exactly one audit entry ---------------------------------

# Routes of the other lanes of issue 15, not yet audited on this branch: the lead empties this
# list at merge (each then gets a case in CASES below).
NOT_YET_COVERED: set[str] = set()
# Admin routes that change no table of ours: nothing to audit.
WRITES_NOTHING = {
    "POST /v1/admin/dashboard/links": "hands out a signed, short-lived ticket (a JWT); stores nothing",
}

Setup = Callable[[Any, World, Any], tuple[dict[str, str], Any]]


def _lexicon_version(api: Any, w: World) -> int:
    return api.call("GET", "/v1/admin/lexicon", token=w.admin)[1]["current_version"]


def _held_review(api: Any, w: World, _: Any) -> tuple[dict[str, str], Any]:
    status, held = api.call("POST", "/v1/admin/materials", {"title": "面膜", "text": "最好的面膜"}, w.admin)
    assert status == 202, held
    return {"review_id": held["review_id"]}, {"note": "ok"}


def _reviewing_withdrawal(api: Any, w: World, deps: Any) -> tuple[dict[str, str], Any]:
    token, user_id, _ = api.distributor(f"payee-{uuid.uuid4().hex[:6]}")
    assert api.call("POST", "/v1/me/real-name", {"name": "李四", "id_number": id_number(42)}, token)[0] == 200
    seed_available(user_id, "2001-02", 60_000, deps.clock())
    status, w_ = api.call("POST", "/v1/me/withdrawals", {"amount_fen": 55_000}, token,
                          headers={"Idempotency-Key": "audit-case"})
    assert status == 201 and w_["status"] == "reviewing", w_
    return {"withdrawal_id": w_["withdrawal_id"]}, None


def _paid_order(api: Any, w: World, _: Any) -> str:
    pid = product(api, w.admin)["product_id"]
    oid = order(api, w.victim, [{"product_id": pid, "quantity": 1}])[1]["order_id"]
    assert api.call("POST", f"/v1/dev/pay/{oid}")[1]["status"] == "paid"
    return str(oid)


def _ship_one(api: Any, w: World, deps: Any) -> tuple[dict[str, str], Any]:
    return {"order_id": _paid_order(api, w, deps)}, {"carrier": "SF", "tracking_no": "SF7654321"}


def _ship_batch(api: Any, w: World, deps: Any) -> tuple[dict[str, str], Any]:
    """A batch of one line: each line writes its own entry (tests/api/test_fulfilment_api.py)."""
    return {}, {"shipments": [{"order_id": _paid_order(api, w, deps), "carrier": "ZTO", "tracking_no": "ZT7654321"}]}


def _conversation(body: dict[str, str]) -> Setup:
    """The victim writes to customer service (a push as WeChat sends it), so the operator can act."""
    def setup(api: Any, w: World, _: Any) -> tuple[dict[str, str], Any]:
        status, pushed = api.call("POST", "/v1/dev/support/messages", {"openid": "dev:victim", "text": "在吗"})
        assert status == 200 and pushed["status"] == "taken", pushed
        return {"user_id": w.victim_id}, body
    return setup


def _requested_case(api: Any, w: World, deps: Any, kind: str = "refund_only") -> str:
    order_id = _paid_order(api, w, deps)
    api.call("POST", f"/v1/admin/orders/{order_id}/ship", {"carrier": "SF", "tracking_no": "SF7654322"}, w.admin)
    product_id = api.call("GET", f"/v1/orders/{order_id}", token=w.victim)[1]["items"][0]["product_id"]
    status, case = api.call("POST", f"/v1/orders/{order_id}/after-sales", {
        "kind": kind, "lines": [{"product_id": product_id, "quantity": 1}], "reason": "破损"}, w.victim)
    assert status == 201, case
    return str(case["case_id"])


def _approved_return(api: Any, w: World, deps: Any) -> tuple[dict[str, str], Any]:
    case_id = _requested_case(api, w, deps, "return_refund")
    assert api.call("POST", f"/v1/admin/after-sales/{case_id}/approve", {}, w.admin)[0] == 200
    return {"case_id": case_id}, None


_MEMBER_DAY = {"kind": "member_day", "title": "会员日", "weekday": 3, "discount_bp": 500, "categories": ["none-such"]}

CASES: dict[str, Setup] = {
    # a refund only: approved and refunded at once, one entry (the refund writes none of its own)
    "POST /v1/admin/after-sales/{case_id}/approve": lambda api, w, d: ({"case_id": _requested_case(api, w, d)}, {}),
    "POST /v1/admin/after-sales/{case_id}/reject": lambda api, w, d: ({"case_id": _requested_case(api, w, d)},
                                                                      {"reason": "超出售后范围"}),
    "POST /v1/admin/after-sales/{case_id}/receive": _approved_return,
    "POST /v1/admin/orders/{order_id}/ship": _ship_one,
    "POST /v1/admin/orders/ship": _ship_batch,
    "POST /v1/admin/users/{user_id}/promoter": lambda api, w, d: ({"user_id": w.victim_id}, None),
    "POST /v1/admin/users/{user_id}/tier": lambda api, w, d: ({"user_id": w.victim_id},
                                                              {"tier": "senior", "reason": "x"}),
    "POST /v1/admin/users/{user_id}/freeze": lambda api, w, d: ({"user_id": w.victim_id}, {"reason": "x"}),
    "POST /v1/admin/users/{user_id}/unfreeze": lambda api, w, d: (
        {"user_id": w.attacker_id},
        api.call("POST", f"/v1/admin/users/{w.attacker_id}/freeze", {"reason": "x"}, w.admin) and {"reason": "y"}),
    "POST /v1/admin/materials": lambda api, w, d: ({}, {"title": "新品", "text": "好用的面膜"}),
    "POST /v1/admin/reviews/{review_id}/approve": _held_review,
    "POST /v1/admin/reviews/{review_id}/reject": _held_review,
    "PUT /v1/admin/lexicon": lambda api, w, d: ({}, {"base_version": _lexicon_version(api, w), "entries": [
        {"word": "躺赚", "category": "income", "verdict": "block", "suggestion": "分享奖励"}]}),
    "POST /v1/admin/lexicon/edits": lambda api, w, d: ({}, {"base_version": _lexicon_version(api, w), "add": [
        {"word": "暴富", "category": "income", "verdict": "block"}], "remove": []}),
    "POST /v1/admin/withdrawals/{withdrawal_id}/approve": _reviewing_withdrawal,
    "POST /v1/admin/withdrawals/{withdrawal_id}/reject": lambda api, w, d: (
        {"withdrawal_id": w.ids["withdrawal_id"]}, {"reason": "资料不全"}),
    "POST /v1/admin/products": lambda api, w, d: ({}, {"name": "衬衫", "category": "apparel", "cost_fen": 3_000,
                                                       "price_fen": 10_000, "stock": 5,
                                                       "skus": [{"specs": {"尺码": "M"}}, {"specs": {"尺码": "L"}}]}),
    # a body with stock_delta and other fields is two changes, two entries (docs/catalogue.md)
    "PATCH /v1/admin/products/{product_id}": lambda api, w, d: ({"product_id": w.ids["product_id"]},
                                                                 {"stock_delta": 3}),
    "PUT /v1/admin/settings": lambda api, w, d: ({}, _settings_edit(api, w)),
    "POST /v1/admin/settings/rollback": lambda api, w, d: ({}, {"version": 1, "reason": "back to the seed"}),
    # an upload handed out changes no table: its entry is put alone (store/audit.record_alone)
    "POST /v1/admin/uploads": lambda api, w, d: ({}, {"content_type": "image/png", "size_bytes": 2_048,
                                                      "purpose": "product_image"}),
    "POST /v1/admin/support/conversations/{user_id}/reply": _conversation({"text": "您好"}),
    "POST /v1/admin/support/conversations/{user_id}/close": _conversation({"reason": "已电话联系"}),
    # the confirmation of a console sign-in scanned in the mini-program (docs/console.md)
    "POST /v1/console/logins/{scene}/confirm": lambda api, w, d: ({"scene": console.start_sign_in(d).scene}, None),
    # promotions (issue 19): a member day of a category nobody sells passes any margin guard
    "POST /v1/admin/promotions": lambda api, w, d: ({}, _MEMBER_DAY),
    "POST /v1/admin/promotions/{promotion_id}/end": lambda api, w, d: (
        {"promotion_id": api.call("POST", "/v1/admin/promotions", _MEMBER_DAY, w.admin)[1]["promotion_id"]}, None),
}


def _settings_edit(api: Any, w: World) -> dict[str, Any]:
    now = api.call("GET", "/v1/admin/settings", token=w.admin)[1]
    rules = {**now["rules"], "orders": {**now["rules"]["orders"], "payment_minutes": 20}}
    return {"rules": rules, "expected_version": now["version"]}


def test_every_admin_route_that_changes_state_has_a_case_or_is_listed():
    changing = {label(r) for r in ROUTES if r.auth == "admin" and r.method != "GET"}
    assert changing - set(CASES) - NOT_YET_COVERED - set(WRITES_NOTHING) == set()
    assert set(CASES) | NOT_YET_COVERED | set(WRITES_NOTHING) <= changing  # no stale names


def test_every_admin_route_that_changes_state_writes_exactly_one_audit_entry(api, world, deps, clock):  # noqa: F811
    routes = {label(r): r for r in ROUTES}
    for name, setup in CASES.items():
        route = routes[name]
        params, body = setup(api, world, deps)
        clock.advance(seconds=1)
        before = {i.sk for i in entries()}
        path = route.path.format(**params)
        status, answer = api.call(route.method, path, body, world.admin)
        assert 200 <= status < 300, f"{name} -> {status} {answer}"
        new = [i for i in entries() if i.sk not in before]
        assert len(new) == 1, f"{name} wrote {len(new)} audit entries"
        assert new[0].actor == world.admin_id and new[0].at == clock(), name


def test_an_approval_of_a_frozen_distributors_withdrawal_is_403_and_changes_nothing(api, deps):
    admin, _ = api.login("admin")
    token, user_id, _ = api.distributor("big")
    assert api.call("POST", "/v1/me/real-name", {"name": "王五", "id_number": id_number(9)}, token)[0] == 200
    seed_available(user_id, "2001-04", 60_000, deps.clock())
    status, queued = api.call("POST", "/v1/me/withdrawals", {"amount_fen": 55_000}, token,
                              headers={"Idempotency-Key": "big-1"})
    assert status == 201 and queued["status"] == "reviewing"
    api.call("POST", f"/v1/admin/users/{user_id}/freeze", {"reason": "调查"}, admin)
    refused(api, "POST", f"/v1/admin/withdrawals/{queued['withdrawal_id']}/approve", None, admin, 403,
            "ACCOUNT_FROZEN")
    status, rejected = api.call("POST", f"/v1/admin/withdrawals/{queued['withdrawal_id']}/reject",
                                {"reason": "冻结中"}, admin)
    assert status == 200 and rejected["status"] == "returned"

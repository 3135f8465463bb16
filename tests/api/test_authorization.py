"""Authorisation over every route: tokens, roles and other people's objects (OWASP API1, API2, API5).

The route lists come from ``chalicelib.api.http.ROUTES``, so a new route is covered the day it
is declared:

- every route that needs a session (``auth="user"`` or ``"admin"``) answers 401 to a missing,
  malformed, expired, not-yet-valid, forged (wrong key), ``alg: none`` or tampered token;
- every admin route answers 403 to a user token, on real objects, and the same request with the
  admin token gets past authorisation (so the 403 came from the role);
- every simulator route is 404 outside simulator mode;
- every user route whose path names an object (``{order_id}``, ``{group_id}``...) has an owner
  case below (OWNER_CASES): another user's object is 403/404, or, where sharing it is the point
  (a group link, a published material), the answer carries nothing of the owner's. A route with
  a path id and no owner case fails ``test_every_user_route_with_a_path_id_has_an_owner_case``.

Every refusal is checked to change nothing: all DynamoDB tables are read before and after.
"""
from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

import app  # noqa: F401  (registers every route in ROUTES)
from chalicelib.api.http import ROUTES, RouteSpec
from chalicelib.config import Mode
from chalicelib.services import console
from chalicelib.services.sessions import ALGORITHM, ISSUER, Caller, issue_token
from tests.api.test_orders import ADDRESS, order, product
from tests.api.test_wallet import KNOWN

PARAM = re.compile(r"{(\w+)}")


def routes(*auths: str) -> list[RouteSpec]:
    return [r for r in ROUTES if r.auth in auths]


def label(route: RouteSpec) -> str:
    return f"{route.method} {route.path}"


# ---------------------------------------------------------------------------------------------
# The world: a victim who owns one object of every kind, an attacker, the admin
# ---------------------------------------------------------------------------------------------


@dataclass
class World:
    admin: str
    admin_id: str
    victim: str
    victim_id: str
    attacker: str
    attacker_id: str
    ids: dict[str, str]  # path parameter name -> a real object (the victim's where it has an owner)
    orders: dict[str, str] = field(default_factory=dict)  # the victim's orders by status

    def path(self, route: RouteSpec) -> str:
        missing = [name for name in PARAM.findall(route.path) if name not in self.ids]
        assert not missing, f"{label(route)}: no object for {missing}: add one to the world fixture"
        return PARAM.sub(lambda m: self.ids[m.group(1)], route.path)


@pytest.fixture
def world(api: Any, deps: Any) -> World:
    admin, admin_id = api.login("admin")
    victim, victim_id, victim_code = api.distributor("victim")
    attacker, attacker_id, _ = api.distributor("attacker")
    big = product(api, admin, cost_fen=100_000, price_fen=300_000, level1_rate_bp=2_000, level2_rate_bp=0,
                  group_buy={"size": 3, "discount_bp": 3_000, "ttl_hours": 24})["product_id"]
    orders = victim_orders(api, admin, victim, big)
    withdrawals = victim_withdrawals(api, admin, victim, victim_code, big)
    status, group = api.call("POST", "/v1/groups", {"product_id": big, "address": ADDRESS}, victim,
                             headers={"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, group
    status, material = api.call("POST", "/v1/admin/materials", {"title": "面膜", "text": "好用的面膜"}, admin)
    assert status == 201, material
    status, held = api.call("POST", "/v1/admin/materials", {"title": "面膜", "text": "最好的面膜"}, admin)
    assert status == 202 and held["review_id"], held
    status, case = api.call("POST", f"/v1/orders/{orders['shipped']}/after-sales", {
        "kind": "return_refund", "lines": [{"product_id": big, "quantity": 1}], "reason": "破损"}, victim)
    assert status == 201, case
    status, promotion = api.call("POST", "/v1/admin/promotions", {  # issue 19: a coupon users may claim
        "kind": "coupon", "title": "券", "amount_fen": 100, "min_spend_fen": 0, "valid_days": 7, "total": 100,
        "per_user": 5}, admin)
    assert status == 201, promotion
    ids = {"order_id": orders["paid"], "group_id": group["group_id"], "product_id": big, "case_id": case["case_id"],
           "material_id": material["material_id"], "review_id": held["review_id"], "user_id": victim_id,
           "withdrawal_id": withdrawals["reviewing"], "job": "settle_commissions", "name": "home_layout", "board": "sales",
           "subject": f"order-{orders['shipped']}", "scene": console.start_sign_in(deps).scene,
           "promotion_id": promotion["promotion_id"]}
    return World(admin, admin_id, victim, victim_id, attacker, attacker_id, ids, {**orders, "group": group["order_id"],
                                                                           **withdrawals})


def victim_orders(api: Any, admin: str, victim: str, product_id: str) -> dict[str, str]:
    """The victim's own orders: pending payment, paid, shipped."""
    placed = {status: order(api, victim, [{"product_id": product_id, "quantity": 1}])[1]["order_id"]
              for status in ("pending_payment", "paid", "shipped")}
    for status in ("paid", "shipped"):
        assert api.call("POST", f"/v1/dev/pay/{placed[status]}")[1]["status"] == "paid"
    shipped = api.call("POST", f"/v1/admin/orders/{placed['shipped']}/ship",
                       {"carrier": "SF", "tracking_no": "SF1234567"}, admin)
    assert shipped[0] == 200, shipped
    return placed


def victim_withdrawals(api: Any, admin: str, victim: str, victim_code: str, product_id: str) -> dict[str, str]:
    """A buyer bound to the victim buys; the commission (60,000 fen) settles; the victim
    withdraws twice: one small (paid out at once), one above the review threshold (queued)."""
    buyer, _ = api.login("victims-buyer")
    assert api.call("POST", "/v1/referrals/bind", {"invite_code": victim_code}, buyer)[0] == 200
    oid = order(api, buyer, [{"product_id": product_id, "quantity": 1}])[1]["order_id"]
    api.call("POST", f"/v1/dev/pay/{oid}")
    api.call("POST", f"/v1/admin/orders/{oid}/ship", {"carrier": "SF", "tracking_no": "SF1234567"}, admin)
    api.call("POST", f"/v1/orders/{oid}/confirm", token=buyer)
    api.call("POST", "/v1/dev/jobs/settle_commissions", {"now": "2026-11-20T00:00:00Z"})
    assert api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": KNOWN}, victim)[0] == 200
    made = {}
    for name, amount in (("small", 1_000), ("reviewing", 55_000)):
        status, w = api.call("POST", "/v1/me/withdrawals", {"amount_fen": amount}, victim,
                             headers={"Idempotency-Key": f"w-{name}"})
        assert status == 201, w
        made[name] = w["withdrawal_id"]
    return made


def snapshot() -> dict[str, list[str]]:
    """Every item of every table of ours (moto), to show that a refused call changed nothing. The
    simulators' table is WeChat's memory, not ours: a payment WeChat took and refunded is in it."""
    import boto3

    from chalicelib.config import get_settings

    client = boto3.client("dynamodb")
    tables: dict[str, list[str]] = {}
    for name in client.list_tables()["TableNames"]:
        if name == get_settings().simulator_state:
            continue
        items: list[str] = []
        for page in client.get_paginator("scan").paginate(TableName=name):
            items += [json.dumps(item, sort_keys=True) for item in page["Items"]]
        tables[name] = sorted(items)
    return tables


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def claims(user_id: str, role: str, now_s: int, ttl: int = 3600) -> dict[str, Any]:
    return {"sub": user_id, "role": role, "iss": ISSUER, "iat": now_s, "exp": now_s + ttl}


def bad_tokens(world: World, deps: Any) -> dict[str, str | None]:
    """Authorization header values that must all be refused with 401."""
    import jwt

    settings, now = deps.settings, deps.clock()
    now_s = int(now.timestamp())
    valid = issue_token(Caller(world.attacker_id, "user"), settings, now)
    head, _, signature = valid.split(".")
    expired = issue_token(Caller(world.attacker_id, "user"), settings,
                          now - timedelta(seconds=settings.token_ttl_seconds + 1))
    future = jwt.encode(claims(world.attacker_id, "user", now_s + 3600), settings.jwt_secret, algorithm=ALGORITHM)
    forged = jwt.encode(claims(world.attacker_id, "admin", now_s), "another-key-" + "x" * 32, algorithm=ALGORITHM)
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(world.attacker_id, 'admin', now_s))}."
    tampered = f"{head}.{b64(claims(world.victim_id, 'admin', now_s))}.{signature}"
    other_alg = jwt.encode(claims(world.attacker_id, "admin", now_s), settings.jwt_secret, algorithm="HS512")
    no_issuer = jwt.encode({k: v for k, v in claims(world.attacker_id, "user", now_s).items() if k != "iss"},
                           settings.jwt_secret, algorithm=ALGORITHM)
    bad_role = jwt.encode(claims(world.attacker_id, "root", now_s), settings.jwt_secret, algorithm=ALGORITHM)
    board_ticket = board_ticket_of(world, deps)
    return {
        "missing": None, "empty bearer": "Bearer ", "basic scheme": f"Basic {valid}", "garbage": "Bearer not.a.jwt",
        "expired": f"Bearer {expired}", "not yet valid": f"Bearer {future}", "forged with another key": f"Bearer {forged}",
        "alg none": f"Bearer {unsigned}", "tampered payload": f"Bearer {tampered}",
        "HS512 instead of HS256": f"Bearer {other_alg}", "no issuer": f"Bearer {no_issuer}",
        "unknown role": f"Bearer {bad_role}", "an admin's board ticket": f"Bearer {board_ticket}",
    }


def board_ticket_of(world: World, deps: Any) -> str:
    """A valid data-board ticket (an admin's, signed with the session key): it opens the board
    page only, never serves as a session token."""
    from chalicelib.services.dashboard import issue_ticket

    return issue_ticket(Caller(world.admin_id, "admin"), deps)[0]


def call_with_header(api: Any, route: RouteSpec, path: str, authorization: str | None) -> tuple[int, Any]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return api.call(route.method, path, {} if route.method != "GET" else None, headers=headers)


@pytest.mark.filterwarnings("ignore:The HMAC key")  # the HS512 token is meant to be refused anyway
def test_every_route_needing_a_session_refuses_missing_expired_forged_and_tampered_tokens(api, world, deps):
    guarded = routes("user", "admin")
    assert len(guarded) >= 30 and all(r.auth != "public" for r in guarded)
    before = snapshot()
    wrong = []
    for kind, authorization in bad_tokens(world, deps).items():
        for route in guarded:
            status, body = call_with_header(api, route, world.path(route), authorization)
            if status != 401 or body["error"]["code"] != "UNAUTHENTICATED":
                wrong.append(f"{kind}: {label(route)} -> {status} {body}")
    assert not wrong, "\n".join(wrong)
    assert snapshot() == before


def test_a_valid_token_gets_past_authentication_on_every_user_route(api, world):
    """The control of the test above: the same requests with a good token are not 401."""
    for route in routes("user"):
        status, body = call_with_header(api, route, world.path(route), f"Bearer {world.attacker}")
        assert status != 401, f"{label(route)} -> {status} {body}"


def test_every_admin_route_refuses_a_user_token_with_403_and_changes_nothing(api, world):
    admin_routes = routes("admin")
    assert admin_routes
    before = snapshot()
    for route in admin_routes:
        status, body = call_with_header(api, route, world.path(route), f"Bearer {world.victim}")
        assert (status, body["error"]["code"]) == (403, "FORBIDDEN"), f"{label(route)} -> {status} {body}"
    assert snapshot() == before
    for route in admin_routes:  # the control: the admin gets past authorisation on the same objects
        status, body = call_with_header(api, route, world.path(route), f"Bearer {world.admin}")
        assert status not in (401, 403), f"{label(route)} as admin -> {status} {body}"


def test_every_simulator_route_is_404_outside_simulator_mode(api, world, deps):
    deps.settings = deps.settings.model_copy(update={"mode": Mode.LIVE, "wechat_app_secret": "s"})
    before = snapshot()
    for route in routes("simulator"):
        status, body = call_with_header(api, route, world.path(route), f"Bearer {world.admin}")
        assert (status, body["error"]["code"]) == (404, "NOT_FOUND"), f"{label(route)} -> {status} {body}"
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# Other people's objects: one owner case per user route with a path id
# ---------------------------------------------------------------------------------------------

OwnerCase = Callable[[Any, World, Any], None]
OWNER_CASES: dict[str, OwnerCase] = {}


def owner_case(method: str, path: str) -> Callable[[OwnerCase], OwnerCase]:
    def register(case: OwnerCase) -> OwnerCase:
        OWNER_CASES[f"{method} {path}"] = case
        return case

    return register


def refused_unchanged(api: Any, method: str, path: str, token: str, codes: set[str], body: Any = None) -> None:
    """The call is 403/404 with one of ``codes`` and no table changed."""
    before = snapshot()
    status, answer = api.call(method, path, body, token)
    assert status in (403, 404) and answer["error"]["code"] in codes, (method, path, status, answer)
    assert snapshot() == before, f"{method} {path} changed something"


@owner_case("GET", "/v1/orders/{order_id}")
def another_users_order_is_not_found(api, world, deps):
    for order_id in (world.orders["pending_payment"], world.orders["paid"], world.orders["group"]):
        refused_unchanged(api, "GET", f"/v1/orders/{order_id}", world.attacker, {"ORDER_NOT_FOUND"})
    assert api.call("GET", f"/v1/orders/{world.orders['paid']}", token=world.victim)[0] == 200


@owner_case("POST", "/v1/orders/{order_id}/confirm")
def another_user_cannot_confirm_receipt(api, world, deps):
    shipped = world.orders["shipped"]
    refused_unchanged(api, "POST", f"/v1/orders/{shipped}/confirm", world.attacker, {"ORDER_NOT_FOUND"})
    assert api.call("POST", f"/v1/orders/{shipped}/confirm", token=world.victim)[1]["status"] == "completed"


@owner_case("POST", "/v1/orders/{order_id}/refund")
def another_user_cannot_refund(api, world, deps):
    paid = world.orders["paid"]
    refused_unchanged(api, "POST", f"/v1/orders/{paid}/refund", world.attacker, {"ORDER_NOT_FOUND"},
                      {"reason": "not mine"})
    assert deps.pay.query(paid).trade_state == "SUCCESS"  # no money went back at WeChat either
    assert api.call("POST", f"/v1/orders/{paid}/refund", {"reason": "mine"}, world.victim)[1]["status"] == "refunded"


@owner_case("GET", "/v1/me/withdrawals/{withdrawal_id}")
def another_users_withdrawal_is_not_found(api, world, deps):
    for withdrawal_id in (world.orders["small"], world.orders["reviewing"]):
        refused_unchanged(api, "GET", f"/v1/me/withdrawals/{withdrawal_id}", world.attacker, {"WITHDRAWAL_NOT_FOUND"})
    assert api.call("GET", f"/v1/me/withdrawals/{world.orders['small']}", token=world.victim)[0] == 200


@owner_case("POST", "/v1/orders/{order_id}/after-sales")
def another_user_cannot_open_a_case_on_an_order_not_theirs(api, world, deps):
    shipped = world.orders["shipped"]
    line = {"kind": "refund_only", "lines": [{"product_id": world.ids["product_id"], "quantity": 1}], "reason": "x"}
    refused_unchanged(api, "POST", f"/v1/orders/{shipped}/after-sales", world.attacker, {"ORDER_NOT_FOUND"}, line)
    # the victim's own: refused only because their case is open
    assert api.call("POST", f"/v1/orders/{shipped}/after-sales", line, world.victim)[1]["error"]["code"] == "CASE_OPEN"


@owner_case("GET", "/v1/after-sales/{case_id}")
def another_users_case_is_not_found(api, world, deps):
    refused_unchanged(api, "GET", f"/v1/after-sales/{world.ids['case_id']}", world.attacker, {"CASE_NOT_FOUND"})
    assert api.call("GET", f"/v1/after-sales/{world.ids['case_id']}", token=world.victim)[0] == 200


@owner_case("POST", "/v1/after-sales/{case_id}/cancel")
def another_user_cannot_cancel_a_case(api, world, deps):
    refused_unchanged(api, "POST", f"/v1/after-sales/{world.ids['case_id']}/cancel", world.attacker,
                      {"CASE_NOT_FOUND"})
    assert api.call("POST", f"/v1/after-sales/{world.ids['case_id']}/cancel", token=world.victim)[1]["status"] == \
        "cancelled"


@owner_case("POST", "/v1/after-sales/{case_id}/return")
def another_user_cannot_ship_a_return(api, world, deps):
    path = f"/v1/after-sales/{world.ids['case_id']}"
    assert api.call("POST", f"/v1/admin{path.removeprefix('/v1')}/approve", {}, world.admin)[0] == 200
    shipment = {"carrier": "SF", "tracking_no": "SF1111111"}
    refused_unchanged(api, "POST", f"{path}/return", world.attacker, {"CASE_NOT_FOUND"}, shipment)
    assert api.call("POST", f"{path}/return", shipment, world.victim)[1]["status"] == "returning"


@owner_case("GET", "/v1/groups/{group_id}")
def a_group_is_shown_to_anyone_with_the_link_without_its_members_orders(api, world, deps):
    """Sharing the group page is how a group fills; it names members by user id only."""
    status, group = api.call("GET", f"/v1/groups/{world.ids['group_id']}", token=world.attacker)
    assert status == 200 and [m["user_id"] for m in group["members"]] == [world.victim_id]
    text = json.dumps(group, ensure_ascii=False)
    assert world.orders["group"] not in text and ADDRESS["phone"] not in text and "dev:victim" not in text


@owner_case("POST", "/v1/groups/{group_id}/join")
def joining_a_group_makes_the_joiners_own_order_and_leaves_the_leaders_untouched(api, world, deps):
    """Joining someone's group is the point of a group; what must hold is that the joiner gets
    an order of their own and no handle on the leader's."""
    leader_order = api.call("GET", f"/v1/orders/{world.orders['group']}", token=world.victim)[1]
    status, joined = api.call("POST", f"/v1/groups/{world.ids['group_id']}/join", {}, world.attacker,
                              headers={"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201 and joined["order_id"] != world.orders["group"]
    assert api.call("GET", f"/v1/orders/{joined['order_id']}", token=world.attacker)[0] == 200
    assert api.call("GET", f"/v1/orders/{joined['order_id']}", token=world.victim)[0] == 404
    assert api.call("GET", f"/v1/orders/{world.orders['group']}", token=world.victim)[1] == leader_order
    refused_unchanged(api, "GET", f"/v1/orders/{world.orders['group']}", world.attacker, {"ORDER_NOT_FOUND"})


@owner_case("GET", "/v1/materials/{material_id}/share")
def a_shared_material_carries_the_callers_invite_code_never_anothers(api, world, deps):
    mine = api.call("GET", "/v1/me", token=world.attacker)[1]["invite_code"]
    theirs = api.call("GET", "/v1/me", token=world.victim)[1]["invite_code"]
    status, shared = api.call("GET", f"/v1/materials/{world.ids['material_id']}/share", token=world.attacker)
    assert status == 200 and mine in json.dumps(shared) and theirs not in json.dumps(shared)
    outsider = api.login("not-a-distributor")[0]
    refused_unchanged(api, "GET", f"/v1/materials/{world.ids['material_id']}/share", outsider, {"NOT_A_DISTRIBUTOR"})


@owner_case("GET", "/v1/products/{product_id}")
def a_product_page_is_the_malls_the_same_for_everyone_and_without_cost(api, world, deps):
    """The path names a product of the mall, no user's object: every user sees the same page
    (less the commission preview, which is the caller's own), never its cost; an unlisted one is
    nobody's to see."""
    path = f"/v1/products/{world.ids['product_id']}"
    (status, seen), (_, theirs) = api.call("GET", path, token=world.attacker), api.call("GET", path, token=world.victim)
    assert status == 200 and {**seen, "commission_preview_fen": 0} == {**theirs, "commission_preview_fen": 0}
    assert "cost_fen" not in json.dumps(seen)
    hidden = api.call("POST", "/v1/admin/products", {"name": "下架", "category": "beauty", "cost_fen": 1_000,
                                                      "price_fen": 5_000, "stock": 3}, world.admin)[1]["product_id"]
    assert api.call("PATCH", f"/v1/admin/products/{hidden}", {"listed": False}, world.admin)[0] == 200
    refused_unchanged(api, "GET", f"/v1/products/{hidden}", world.attacker, {"PRODUCT_NOT_FOUND"})


@owner_case("GET", "/v1/experiments/{name}/variant")
def an_experiment_variant_is_the_callers_own_and_records_nothing_for_others(api, world, deps):
    """The path names an experiment, not anyone's object: the answer is the caller's own hashed
    variant (whatever else the request says), and the exposure is recorded for the caller only."""
    from chalicelib.domain.experiments import assign

    name = world.ids["name"]
    theirs = api.call("GET", f"/v1/experiments/{name}/variant", token=world.victim)[1]["variant"]
    recorded = deps.experiments.exposure(world.victim_id, name)
    status, answer = api.call("GET", f"/v1/experiments/{name}/variant?user_id={world.victim_id}",
                              token=world.attacker, headers={"X-User-Id": world.victim_id})
    definition = deps.settings.rules.experiment_definitions()[name]
    assert status == 200 and answer == {"experiment": name, "variant": assign(definition, world.attacker_id)}
    assert deps.experiments.exposure(world.victim_id, name) == recorded and recorded.variant == theirs
    refused_unchanged(api, "GET", "/v1/experiments/no_such_test/variant", world.attacker, {"EXPERIMENT_NOT_FOUND"})


@owner_case("GET", "/v1/leaderboards/{board}")
def a_leaderboard_shows_others_masked_and_only_the_callers_own_rank(api, world, deps):
    """The path names a board, not anyone's object: every caller sees the same ranking with the
    others' nicknames masked, and ``me`` is the caller's own whatever else the request says."""
    theirs = api.call("GET", "/v1/leaderboards/sales", token=world.victim)[1]
    status, mine = api.call("GET", f"/v1/leaderboards/sales?user_id={world.victim_id}", token=world.attacker,
                            headers={"X-User-Id": world.victim_id})
    assert status == 422  # no such query field: nothing names another user
    status, mine = api.call("GET", "/v1/leaderboards/sales", token=world.attacker, headers={"X-User-Id": world.victim_id})
    assert status == 200 and mine["items"] == [{**row, "nickname": row["nickname"][:1] + "**"} for row in theirs["items"]]
    from chalicelib.domain.leaderboards import Board

    assert mine["me"]["value"] == max(deps.leaderboards.value(world.attacker_id, Board.SALES, mine["month"]), 0)
    assert theirs["me"]["value"] == deps.leaderboards.value(world.victim_id, Board.SALES, theirs["month"]) > 0
    refused_unchanged(api, "GET", "/v1/leaderboards/victims", world.attacker, {"LEADERBOARD_NOT_FOUND"})


@owner_case("POST", "/v1/promotions/{promotion_id}/claim")
def a_claim_makes_the_callers_own_coupon_and_leaves_anothers_untouched(api, world, deps):
    """The path names a promotion anyone may claim from (issue 19): the coupon is the caller's
    own, whatever the request says, and another user's coupons do not change."""
    path = f"/v1/promotions/{world.ids['promotion_id']}/claim"
    assert api.call("POST", path, token=world.victim)[0] == 201
    theirs = api.call("GET", "/v1/me/coupons", token=world.victim)[1]["items"]
    status, coupon = api.call("POST", f"{path}?user_id={world.victim_id}", token=world.attacker,
                              headers={"X-User-Id": world.victim_id})
    assert status == 201, coupon
    assert api.call("GET", "/v1/me/coupons", token=world.victim)[1]["items"] == theirs
    assert [c["coupon_id"] for c in api.call("GET", "/v1/me/coupons", token=world.attacker)[1]["items"]] == [
        coupon["coupon_id"]]
    refused_unchanged(api, "POST", "/v1/promotions/pm-none/claim", world.attacker, {"PROMOTION_NOT_FOUND"})


# ---------------------------------------------------------------------------------------------
# Public routes: each checks another credential than a session, or serves nothing private
# ---------------------------------------------------------------------------------------------

PUBLIC_CASES: dict[str, OwnerCase] = {}


def public_case(method: str, path: str) -> Callable[[OwnerCase], OwnerCase]:
    def register(case: OwnerCase) -> OwnerCase:
        PUBLIC_CASES[f"{method} {path}"] = case
        return case

    return register


def refused_with(api: Any, method: str, path: str, status: int, code: str, body: Any = None, raw: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
    before = snapshot()
    got, answer = api.call(method, path, body, raw=raw, headers=headers)
    assert (got, answer["error"]["code"]) == (status, code), (method, path, got, answer)
    assert snapshot() == before, f"{method} {path} changed something"


@public_case("POST", "/v1/auth/login")
def login_refuses_a_code_wechat_refuses(api, world, deps):
    refused_with(api, "POST", "/v1/auth/login", 401, "WECHAT_LOGIN_FAILED", {"code": "stolen-or-made-up"})


def genuine_pay_notification(world: World, deps: Any) -> tuple[dict[str, str], str]:
    headers, body = deps.pay.build_payment_notification(world.orders["pending_payment"], deps.clock())
    return dict(headers), body.decode()


@public_case("POST", "/v1/wechat/pay/notify")
def pay_notifications_need_wechat_pays_signature(api, world, deps):
    headers, body = genuine_pay_notification(world, deps)
    forged = {**headers, "Wechatpay-Signature": base64.b64encode(b"x" * 256).decode()}
    for raw, sent in ((body, forged), (body, {"Content-Type": "application/json"}),
                      (body.replace('"id":"', '"id":"x'), headers)):
        refused_with(api, "POST", "/v1/wechat/pay/notify", 401, "INVALID_SIGNATURE", raw=raw, headers=sent)
    assert api.call("GET", f"/v1/orders/{world.orders['pending_payment']}", token=world.victim)[1]["status"] == \
        "pending_payment"


@public_case("POST", "/v1/wechat/transfer/notify")
def transfer_notifications_need_wechat_pays_signature(api, world, deps):
    headers, _ = genuine_pay_notification(world, deps)  # signed, but over another body
    made_up = json.dumps({"id": "EV-1", "event_type": "MCHTRANSFER.BILL.FINISHED", "resource_type": "encrypt-resource",
                          "resource": {"out_bill_no": world.orders["small"], "state": "SUCCESS"}})
    for sent in (headers, {"Content-Type": "application/json"}):
        refused_with(api, "POST", "/v1/wechat/transfer/notify", 401, "INVALID_SIGNATURE", raw=made_up, headers=sent)
    assert api.call("GET", f"/v1/me/withdrawals/{world.orders['small']}", token=world.victim)[1]["status"] != "paid"


@public_case("POST", "/v1/tracking/kuaidi100/{subject}")
def carrier_pushes_need_the_parcels_own_salt(api, world, deps):
    from urllib.parse import urlencode

    from chalicelib.carriers.kuaidi100 import push_param, step_entry
    from chalicelib.domain.tracking import push_sign, salt_for

    subject = f"order-{world.orders['shipped']}"
    tracking = deps.tracking.get(subject)
    param = push_param("shutdown", tracking.company, tracking.tracking_no, 3, [step_entry(deps.clock(), "已签收", "签收")])
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for sign in ("", "0" * 32, push_sign(param, salt_for("order-another", deps.tracking_salt_key())),
                 push_sign(param, salt_for(subject, "not-our-key"))):
        refused_with(api, "POST", f"/v1/tracking/kuaidi100/{subject}", 401, "INVALID_SIGNATURE",
                     raw=urlencode({"param": param, "sign": sign}), headers=form)
    order = api.call("GET", f"/v1/orders/{world.orders['shipped']}", token=world.victim)[1]
    assert order["delivered_at"] is None and order["tracking"]["state"] == "waiting"


@public_case("GET", "/v1/dashboard")
def the_board_link_needs_an_admins_unexpired_board_ticket(api, world, deps):
    import jwt

    from chalicelib.services.dashboard import TICKET_AUDIENCE

    now_s = int(deps.clock().timestamp())
    ticket = {**claims(world.admin_id, "admin", now_s, ttl=300), "aud": TICKET_AUDIENCE}
    key = deps.settings.jwt_secret
    refused = {
        "a session token": world.admin,
        "expired": jwt.encode({**ticket, "iat": now_s - 900, "exp": now_s - 600}, key, algorithm=ALGORITHM),
        "another key": jwt.encode(ticket, "another-key-" + "x" * 32, algorithm=ALGORITHM),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(ticket)}.",
        "garbage": "not-a-ticket",
    }
    for kind, value in refused.items():
        status, body = api.call("GET", f"/v1/dashboard?ticket={value}")
        assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED"), (kind, status, body)
    user_ticket = jwt.encode({**ticket, "sub": world.victim_id, "role": "user"}, key, algorithm=ALGORITHM)
    status, body = api.call("GET", f"/v1/dashboard?ticket={user_ticket}")
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    assert api.call("GET", f"/v1/dashboard?ticket={board_ticket_of(world, deps)}")[0] == 200  # the control


@public_case("GET", "/v1/partner-board")
def the_partner_board_link_needs_a_partner_board_ticket(api, world, deps):
    import jwt

    from chalicelib.services.partner_board import TICKET_AUDIENCE

    now_s = int(deps.clock().timestamp())
    ticket = {"sub": world.victim_id, "iss": ISSUER, "aud": TICKET_AUDIENCE, "iat": now_s, "exp": now_s + 300}
    key = deps.settings.jwt_secret
    refused = {
        "a session token": world.victim,
        "the admin board's ticket": board_ticket_of(world, deps),
        "expired": jwt.encode({**ticket, "iat": now_s - 900, "exp": now_s - 600}, key, algorithm=ALGORITHM),
        "another key": jwt.encode(ticket, "another-key-" + "x" * 32, algorithm=ALGORITHM),
        "garbage": "not-a-ticket",
    }
    for kind, value in refused.items():
        status, body = api.call("GET", f"/v1/partner-board?ticket={value}")
        assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED"), (kind, status, body)
    status, body = api.call("GET", f"/v1/partner-board?ticket={jwt.encode(ticket, key, algorithm=ALGORITHM)}")
    assert (status, body["error"]["code"]) == (403, "NOT_A_PARTNER")  # a valid ticket of someone not a partner


@public_case("GET", "/v1/wechat/message")
def the_message_push_url_check_needs_our_token(api, world, deps):
    from urllib.parse import urlencode

    from chalicelib.wechat.message_push import sha1_signature

    made_up = {"signature": sha1_signature("a-guessed-token", "1", "2"), "timestamp": "1", "nonce": "2", "echostr": "e"}
    refused_with(api, "GET", "/v1/wechat/message?" + urlencode(made_up), 401, "INVALID_SIGNATURE")


@public_case("POST", "/v1/wechat/message")
def the_message_push_needs_our_token_and_aes_key(api, world, deps):
    from urllib.parse import urlencode

    from chalicelib.services.support import push_keys
    from chalicelib.wechat.message_push import PushKeys, new_encoding_aes_key, seal_push

    message = {"ToUserName": "gh_1", "FromUserName": "dev:victim", "CreateTime": 1, "MsgType": "text",
               "Content": "forged", "MsgId": 1}
    ours = push_keys(deps)
    for keys in (PushKeys("a-guessed-token", ours.encoding_aes_key, ours.app_id),
                 PushKeys(ours.token, new_encoding_aes_key(), ours.app_id),
                 PushKeys(ours.token, ours.encoding_aes_key, "wx-another-app")):
        query, body = seal_push(keys, message, 1)
        refused_with(api, "POST", "/v1/wechat/message?" + urlencode(query), 401, "INVALID_SIGNATURE", raw=body.decode())


@public_case("GET", "/v1/products/{product_id}/recommendations")
def product_recommendations_show_catalogue_data_only(api, world, deps):
    status, answer = api.call("GET", f"/v1/products/{world.ids['product_id']}/recommendations")
    assert status == 200
    text = json.dumps(answer)
    assert world.victim_id not in text and world.attacker_id not in text and "dev:" not in text
    refused_with(api, "GET", "/v1/products/no-such-product/recommendations", 404, "PRODUCT_NOT_FOUND")


def test_every_public_route_has_a_case_saying_what_it_checks_instead_of_a_session():
    public = {label(r) for r in routes("public")}
    assert public == set(PUBLIC_CASES), f"public routes without a case: {sorted(public - set(PUBLIC_CASES))}; " \
                                        f"cases without a route: {sorted(set(PUBLIC_CASES) - public)}"


@pytest.mark.parametrize("route", sorted(PUBLIC_CASES))
def test_a_public_route(api, world, deps, route):
    PUBLIC_CASES[route](api, world, deps)


def user_routes_with_ids() -> list[str]:
    return sorted(label(r) for r in routes("user") if PARAM.search(r.path))


def test_every_user_route_with_a_path_id_has_an_owner_case():
    missing = sorted(set(user_routes_with_ids()) - set(OWNER_CASES))
    assert not missing, f"write an owner case (another user's object) for: {missing}"
    assert not set(OWNER_CASES) - set(user_routes_with_ids()), "an owner case names a route that no longer exists"


@pytest.mark.parametrize("route", sorted(OWNER_CASES))
def test_another_users_object(api, world, deps, route):
    OWNER_CASES[route](api, world, deps)

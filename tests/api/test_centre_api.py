"""The distributor's centre through HTTP (API.md v1.1): the ledger, the promotion orders, the team
by level with what each member bought, the invitation ladder and its gift pack. Every refusal
leaves the state as it was."""
from __future__ import annotations

import pytest

from chalicelib.config import Rules
from chalicelib.domain.invitations import Milestone
from tests.api.test_orders import ADDRESS, order, product


@pytest.fixture
def admin(api):
    return api.login("admin")[0]


@pytest.fixture
def tree(api):
    """top (a distributor) → mid (a distributor bound to top) → zhang (a buyer bound to mid)."""
    top_token, top, top_code = api.distributor("top")
    mid_token, mid, mid_code = api.distributor("mid")
    api.call("POST", "/v1/referrals/bind", {"invite_code": top_code}, mid_token)
    buyer, buyer_id = api.login("zhang")
    api.call("POST", "/v1/referrals/bind", {"invite_code": mid_code}, buyer)
    return {"top": top_token, "top_id": top, "mid": mid_token, "mid_id": mid, "buyer": buyer, "buyer_id": buyer_id}


def paid(api, token, product_id, quantity=1):
    oid = order(api, token, [{"product_id": product_id, "quantity": quantity}])[1]["order_id"]
    assert api.call("POST", f"/v1/dev/pay/{oid}")[0] == 200
    return oid


def test_the_contract_fields_of_the_centre_are_in_the_schemas(api):
    schemas = api.call("GET", "/v1/openapi.json")[1]["components"]["schemas"]
    assert set(schemas["LedgerLineOut"]["properties"]) >= {"entry_id", "kind", "amount_fen", "at", "order_id", "note"}
    assert set(schemas["PromotionOrderOut"]["properties"]) >= {
        "order_id", "paid_at", "status", "amount_fen", "level", "commission_fen", "commission_status",
        "buyer_nickname"}
    assert set(schemas["InvitationsAnswer"]["properties"]) == {"qualified_invitees", "milestones"}
    assert set(schemas["MilestoneOut"]["properties"]) >= {"invitees", "reward", "reached_at", "fulfilment"}
    assert "month_spent_fen" in schemas["DirectMemberOut"]["properties"]


def test_the_ledger_lists_commissions_and_their_reversal_newest_first_with_balances(api, admin, tree, clock):
    pid = product(api, admin)["product_id"]
    kept = paid(api, tree["buyer"], pid)
    clock.advance(seconds=1)
    refunded = paid(api, tree["buyer"], pid)
    clock.advance(seconds=1)
    assert api.call("POST", f"/v1/orders/{refunded}/refund", {"reason": "x"}, tree["buyer"])[0] == 200
    status, page = api.call("GET", "/v1/me/ledger?limit=2", token=tree["mid"])
    assert status == 200 and [i["kind"] for i in page["items"]] == ["reversal", "commission"]
    assert page["items"][0]["order_id"] == refunded and page["items"][0]["from_bucket"] == "pending"
    wallet = api.call("GET", "/v1/me/wallet", token=tree["mid"])[1]
    assert page["items"][0]["balances"] == wallet
    rest = api.call("GET", f"/v1/me/ledger?limit=2&next={page['next']}", token=tree["mid"])[1]
    assert [i["kind"] for i in rest["items"]] == ["commission"] and rest["next"] is None
    assert rest["items"][0]["order_id"] == kept and rest["items"][0]["balances"]["pending_fen"] == 3_000
    only = api.call("GET", "/v1/me/ledger?kind=reversal", token=tree["mid"])[1]["items"]
    assert [(i["kind"], i["balances"]) for i in only] == [("reversal", None)]
    # the level-2 distributor's own lines; a buyer has none
    assert [i["kind"] for i in api.call("GET", "/v1/me/ledger", token=tree["top"])[1]["items"]] == \
        ["reversal", "commission", "commission"]
    assert api.call("GET", "/v1/me/ledger", token=tree["buyer"])[1] == {"items": [], "next": None}


@pytest.mark.parametrize(("query", "status", "code"), [
    ("kind=bonus", 422, "VALIDATION_FAILED"), ("limit=0", 422, "VALIDATION_FAILED"),
    ("limit=101", 422, "VALIDATION_FAILED"), ("next=bm90LW91cnM", 400, "INVALID_CURSOR"),
    ("next=%25%25", 400, "INVALID_CURSOR"),
])
def test_bad_ledger_queries_are_refused_with_a_stable_code(api, tree, query, status, code):
    answer = api.call("GET", f"/v1/me/ledger?{query}", token=tree["mid"])
    assert (answer[0], answer[1]["error"]["code"]) == (status, code)


def test_promotion_orders_by_level_show_the_callers_commission_and_a_masked_buyer(api, admin, tree, clock):
    pid = product(api, admin)["product_id"]
    first = paid(api, tree["buyer"], pid)
    clock.advance(seconds=1)
    unpaid = order(api, tree["buyer"], [{"product_id": pid, "quantity": 2}])[1]["order_id"]
    assert api.call("POST", f"/v1/orders/{first}/refund", {"reason": "x"}, tree["buyer"])[0] == 200
    status, level1 = api.call("GET", "/v1/me/promotion-orders?level=1", token=tree["mid"])
    assert status == 200 and [i["order_id"] for i in level1["items"]] == [unpaid, first]
    newest, refunded = level1["items"]
    assert (newest["status"], newest["commission_status"], newest["commission_fen"], newest["paid_at"]) == \
        ("pending_payment", None, 0, None)
    assert (refunded["status"], refunded["commission_status"], refunded["amount_fen"], refunded["level"]) == \
        ("refunded", "reversed", 15_000, 1)
    assert refunded["buyer_nickname"] == "z**" and refunded["reversed_fen"] == 3_000
    level2 = api.call("GET", "/v1/me/promotion-orders?level=2&limit=1", token=tree["top"])[1]
    assert [(i["order_id"], i["level"]) for i in level2["items"]] == [(unpaid, 2)] and level2["next"]
    following = api.call("GET", f"/v1/me/promotion-orders?level=2&next={level2['next']}", token=tree["top"])[1]
    assert [i["order_id"] for i in following["items"]] == [first]
    assert api.call("GET", "/v1/me/promotion-orders?level=2", token=tree["mid"])[1]["items"] == []
    for bad in ("level=3", "level=0", "level=x"):
        answer = api.call("GET", f"/v1/me/promotion-orders?{bad}", token=tree["mid"])
        assert (answer[0], answer[1]["error"]["code"]) == (422, "VALIDATION_FAILED")


def test_the_team_by_level_shows_what_each_member_bought_this_month_kept_by_payments_and_refunds(
        api, admin, tree):
    pid = product(api, admin)["product_id"]
    paid(api, tree["buyer"], pid)
    refunded = paid(api, tree["buyer"], pid, 2)
    paid(api, tree["mid"], pid)  # mid buys for themselves too
    status, level1 = api.call("GET", "/v1/me/team", token=tree["top"])
    assert status == 200 and [(m["user_id"], m["month_spent_fen"]) for m in level1["direct"]] == \
        [(tree["mid_id"], 15_000)]
    level2 = api.call("GET", "/v1/me/team?level=2", token=tree["top"])[1]
    assert [(m["user_id"], m["month_spent_fen"], m["parent_id"]) for m in level2["direct"]] == \
        [(tree["buyer_id"], 45_000, tree["mid_id"])]
    assert api.call("POST", f"/v1/orders/{refunded}/refund", {"reason": "x"}, tree["buyer"])[0] == 200
    assert api.call("GET", "/v1/me/team?level=2", token=tree["top"])[1]["direct"][0]["month_spent_fen"] == 15_000
    assert api.call("GET", "/v1/me/team?level=2", token=tree["mid"])[1]["direct"] == []
    answer = api.call("GET", "/v1/me/team?level=3", token=tree["top"])
    assert (answer[0], answer[1]["error"]["code"]) == (422, "VALIDATION_FAILED")


# The invitation ladder and its gift pack --------------------------------------------------------

LADDER = [Milestone(invitees=2, reward="gift_pack"), Milestone(invitees=3, reward="cash", cash_fen=800)]


@pytest.fixture
def gift(api, admin, deps):
    """A gift product (stock 5) configured as the ladder's gift pack, at 2 qualified invitees."""
    pid = product(api, admin, name="礼包", stock=5)["product_id"]
    rules = Rules(invitation_ladder=LADDER, gift_pack={"product_id": pid})
    deps.settings = deps.settings.model_copy(update={"rules": rules})
    return pid


def qualify(api, admin, code, name, pid):
    """A new invitee bound to ``code`` whose first order is paid, shipped and received."""
    token, _ = api.login(name)
    api.call("POST", "/v1/referrals/bind", {"invite_code": code}, token)
    oid = paid(api, token, pid)
    ship = {"shipments": [{"order_id": oid, "carrier": "SF", "tracking_no": f"SF{oid[-8:]}"}]}
    assert api.call("POST", "/v1/admin/orders/ship", ship, admin)[0] == 200
    assert api.call("POST", f"/v1/orders/{oid}/confirm", token=token)[0] == 200


def stock(api, admin, pid):
    return api.call("GET", f"/v1/admin/products?q={pid}", token=admin)[1]["items"][0]["stock"]


def test_the_gift_milestone_waits_for_an_address_then_creates_one_zero_price_order(api, admin, gift):
    pid = product(api, admin)["product_id"]
    alice, _, code = api.distributor("alice")
    before = api.call("GET", "/v1/me/invitations", token=alice)[1]
    assert before == {"qualified_invitees": 0, "milestones": [
        {"invitees": 2, "reward": "gift_pack", "cash_fen": 0, "reached_at": None, "fulfilment": None},
        {"invitees": 3, "reward": "cash", "cash_fen": 800, "reached_at": None, "fulfilment": None}]}
    answer = api.call("POST", "/v1/me/invitations/gift", {"invitees": 2, "address": ADDRESS}, alice)
    assert (answer[0], answer[1]["error"]["code"]) == (404, "GIFT_NOT_FOUND")  # not reached yet
    for name in ("inv-a", "inv-b"):
        qualify(api, admin, code, name, pid)
    view = api.call("GET", "/v1/me/invitations", token=alice)[1]
    assert view["qualified_invitees"] == 2 and view["milestones"][0]["reached_at"]
    assert view["milestones"][0]["fulfilment"] == {"state": "address_needed", "order_id": None, "order_status": None}
    assert stock(api, admin, gift) == 5
    bad = api.call("POST", "/v1/me/invitations/gift", {"invitees": 2, "address": {"name": "x"}}, alice)
    assert (bad[0], bad[1]["error"]["code"]) == (422, "VALIDATION_FAILED")
    status, sent = api.call("POST", "/v1/me/invitations/gift", {"invitees": 2, "address": ADDRESS}, alice)
    assert status == 200 and sent["fulfilment"]["state"] == "ordered"
    order_id = sent["fulfilment"]["order_id"]
    again = api.call("POST", "/v1/me/invitations/gift", {"invitees": 2, "address": ADDRESS}, alice)[1]
    assert again["fulfilment"]["order_id"] == order_id and stock(api, admin, gift) == 4  # once
    gift_order = api.call("GET", f"/v1/orders/{order_id}", token=alice)[1]
    assert (gift_order["status"], gift_order["amount_fen"], gift_order["items"][0]["product_id"]) == \
        ("paid", 0, gift)
    assert api.call("GET", "/v1/me/ledger", token=alice)[1]["items"][0]["order_id"] != order_id  # no money
    refused = api.call("POST", f"/v1/orders/{order_id}/refund", {"reason": "x"}, alice)  # nothing was paid
    assert (refused[0], refused[1]["error"]["code"]) == (409, "WRONG_ORDER_STATUS")
    assert api.call("GET", f"/v1/orders/{order_id}", token=alice)[1]["status"] == "paid"
    ship = {"shipments": [{"order_id": order_id, "carrier": "SF", "tracking_no": "SF99887766"}]}
    assert api.call("POST", "/v1/admin/orders/ship", ship, admin)[1]["results"][0]["status"] == "shipped"
    case = {"kind": "refund_only", "lines": [{"product_id": gift, "quantity": 1}], "reason": "damaged"}
    no_case = api.call("POST", f"/v1/orders/{order_id}/after-sales", case, alice)  # nor after shipment
    assert (no_case[0], no_case[1]["error"]["code"]) == (409, "WRONG_ORDER_STATUS")
    view = api.call("GET", "/v1/me/invitations", token=alice)[1]
    assert view["milestones"][0]["fulfilment"] == {"state": "ordered", "order_id": order_id, "order_status": "shipped"}
    # received: it qualifies alice for nobody (a gift is no purchase)
    assert api.call("POST", f"/v1/orders/{order_id}/confirm", token=alice)[1]["status"] == "completed"


def test_a_distributor_with_an_address_on_file_gets_the_gift_order_at_the_milestone(api, admin, gift, deps):
    pid = product(api, admin)["product_id"]
    bob, _, code = api.distributor("bob")
    paid(api, bob, pid)  # an order of bob's own: his address on file
    for name in ("inv-c", "inv-d"):
        qualify(api, admin, code, name, pid)
    fulfilment = api.call("GET", "/v1/me/invitations", token=bob)[1]["milestones"][0]["fulfilment"]
    assert fulfilment["state"] == "ordered" and fulfilment["order_status"] == "paid"
    assert api.call("GET", f"/v1/orders/{fulfilment['order_id']}", token=bob)[1]["address"]["name"] == ADDRESS["name"]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"invitees": 3, "address": ADDRESS}, 404, "GIFT_NOT_FOUND"),  # a cash milestone, and not reached
    ({"invitees": 2}, 404, "GIFT_NOT_FOUND"),  # not reached
    ({"invitees": "abc"}, 422, "VALIDATION_FAILED"),
    ({"invitees": 0}, 422, "VALIDATION_FAILED"),
    ({"address": ADDRESS}, 422, "VALIDATION_FAILED"),
    ({"invitees": 2, "address": ADDRESS, "extra": 1}, 422, "VALIDATION_FAILED"),
])
def test_a_gift_request_naming_no_reached_gift_is_refused(api, gift, body, status, code):
    token, _, _ = api.distributor("carol")
    answer = api.call("POST", "/v1/me/invitations/gift", body, token)
    assert (answer[0], answer[1]["error"]["code"]) == (status, code)


def test_without_a_gift_product_the_milestone_waits_pending_and_the_route_says_why(api, admin, deps):
    pid = product(api, admin)["product_id"]
    deps.settings = deps.settings.model_copy(update={"rules": Rules(invitation_ladder=LADDER)})
    dan, _, code = api.distributor("dan")
    for name in ("inv-e", "inv-f"):
        qualify(api, admin, code, name, pid)
    assert api.call("GET", "/v1/me/invitations", token=dan)[1]["milestones"][0]["fulfilment"]["state"] == "pending"
    answer = api.call("POST", "/v1/me/invitations/gift", {"invitees": 2, "address": ADDRESS}, dan)
    assert (answer[0], answer[1]["error"]["code"]) == (409, "GIFT_NOT_CONFIGURED")
    assert api.call("GET", "/v1/me/invitations", token=dan)[1]["milestones"][0]["fulfilment"]["state"] == "pending"

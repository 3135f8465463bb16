"""The partner's own back office over HTTP (docs/tier-rights.md): a partner sees their team's
figures and products only, never another team's; a non-partner is 403 NOT_A_PARTNER; the
web-view link opens the partner's own board and nothing else."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.api.test_orders import order, product


def page(response: tuple[int, Any]) -> str:
    status, body = response
    assert status == 200, body
    return str(body)


def make_partner(api: Any, admin: str, user_id: str) -> None:
    status, body = api.call("POST", f"/v1/admin/users/{user_id}/tier", {"tier": "partner", "reason": "签约"}, admin)
    assert status == 200, body


def buy(api: Any, token: str, product_id: str, quantity: int = 1) -> str:
    status, placed = order(api, token, [{"product_id": product_id, "quantity": quantity}])
    assert status == 201, placed
    assert api.call("POST", f"/v1/dev/pay/{placed['order_id']}")[1]["status"] == "paid"
    return str(placed["order_id"])


@pytest.fixture
def teams(api: Any) -> dict[str, Any]:
    """Two partners, each with a direct invitee who buys: A's buyer a serum twice, B's a tea."""
    admin = api.login("admin")[0]
    serum = product(api, admin, name="A队精华")["product_id"]
    tea = product(api, admin, name="B队花茶", category="food", cost_fen=2_000, price_fen=8_000)["product_id"]
    teams: dict[str, Any] = {"admin": admin}
    for name, product_id, quantity in (("a", serum, 2), ("b", tea, 1)):
        token, user_id, code = api.distributor(f"partner-{name}")
        make_partner(api, admin, user_id)
        buyer, _ = api.login(f"buyer-{name}")
        api.call("POST", "/v1/referrals/bind", {"invite_code": code}, buyer)
        buy(api, buyer, product_id, quantity)
        teams[name] = token
    return teams


def test_a_partner_sees_their_teams_figures_and_products(api: Any, teams: dict[str, Any]) -> None:
    html = page(api.call("GET", "/v1/me/board?days=7", token=teams["a"]))
    assert "合伙人看板" in html and "A队精华" in html
    assert "¥300.00" in html  # two serums at ¥150: the team's GMV
    assert "100.00%" in html  # one member, and they paid


def test_a_partner_never_sees_another_team(api: Any, teams: dict[str, Any]) -> None:
    html_a = page(api.call("GET", "/v1/me/board", token=teams["a"]))
    html_b = page(api.call("GET", "/v1/me/board", token=teams["b"]))
    assert "B队花茶" not in html_a and "¥80.00" not in html_a
    assert "A队精华" not in html_b and "¥300.00" not in html_b


def test_a_non_partner_is_refused_and_gets_no_link(api: Any, teams: dict[str, Any]) -> None:
    regular, _, _ = api.distributor("regular")
    shopper, _ = api.login("shopper")
    for token in (regular, shopper):
        status, body = api.call("GET", "/v1/me/board", token=token)
        assert (status, body["error"]["code"]) == (403, "NOT_A_PARTNER")
        status, body = api.call("POST", "/v1/me/board/links", {"days": 7}, token)
        assert (status, body["error"]["code"]) == (403, "NOT_A_PARTNER")


def test_the_link_opens_the_partners_own_board_for_five_minutes(api: Any, teams: dict[str, Any], clock: Any) -> None:
    status, link = api.call("POST", "/v1/me/board/links", {"days": 7}, teams["a"])
    assert status == 201 and link["url"].startswith("/v1/partner-board?")
    assert parse_qs(urlparse(link["url"]).query)["days"] == ["7"]
    html = page(api.call("GET", link["url"]))
    assert "A队精华" in html and "B队花茶" not in html
    clock.advance(minutes=5)
    status, body = api.call("GET", link["url"])
    assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")


def test_a_link_stops_working_once_the_partner_is_no_longer_one(api: Any, teams: dict[str, Any]) -> None:
    _, link = api.call("POST", "/v1/me/board/links", {"days": 7}, teams["a"])
    me = api.call("GET", "/v1/me", token=teams["a"])[1]
    status, _ = api.call("POST", f"/v1/admin/users/{me['user_id']}/tier", {"tier": "regular", "reason": "降级"},
                         teams["admin"])
    assert status == 200
    status, body = api.call("GET", link["url"])
    assert (status, body["error"]["code"]) == (403, "NOT_A_PARTNER")


@pytest.mark.parametrize(("query", "code"), [("days=3", "VALIDATION_FAILED"), ("days=abc", "VALIDATION_FAILED"),
                                             ("colour=red", "VALIDATION_FAILED")])
def test_bad_board_queries_are_422(api: Any, teams: dict[str, Any], query: str, code: str) -> None:
    status, body = api.call("GET", f"/v1/me/board?{query}", token=teams["a"])
    assert (status, body["error"]["code"]) == (422, code)

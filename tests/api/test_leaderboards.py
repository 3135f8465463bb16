"""The monthly leaderboards through HTTP: the board and the caller's rank, the month's close paid
once (the dev job route), the operator's view of any month, and every refusal changing nothing."""
from __future__ import annotations

import pytest

from tests.api.test_authorization import snapshot
from tests.api.test_orders import order, product
from tests.api.test_orders import shop as orders_shop

shop = pytest.fixture(orders_shop.__wrapped__)  # type: ignore[attr-defined]
CLOSE = {"now": "2026-11-30T16:50:00Z"}  # 00:50 on December 1st in Shanghai


@pytest.fixture
def admin(api):
    return api.login("admin")[0]


def paid(api, admin, shop, quantity=1):
    pid = product(api, admin, level2_rate_bp=0)["product_id"]
    oid = order(api, shop["buyer"], [{"product_id": pid, "quantity": quantity}])[1]["order_id"]
    assert api.call("POST", f"/v1/dev/pay/{oid}")[0] == 200
    return oid


def test_a_distributor_sees_the_board_live_with_their_own_rank(api, admin, shop):
    paid(api, admin, shop, quantity=2)
    status, body = api.call("GET", "/v1/leaderboards/sales", token=shop["level1_token"])
    assert status == 200 and body == {"month": "2026-11", "items": [{"rank": 1, "nickname": "level1", "value": 30_000}],
                                      "me": {"rank": 1, "value": 30_000}}
    status, body = api.call("GET", "/v1/leaderboards/new_customers?month=2026-11", token=shop["buyer"])
    assert status == 200 and body == {"month": "2026-11", "items": [{"rank": 1, "nickname": "l**", "value": 1}],
                                      "me": {"rank": None, "value": 0}}


def test_the_close_pays_once_and_the_operator_sees_the_awards(api, admin, shop):
    paid(api, admin, shop)
    runs = [api.call("POST", "/v1/dev/jobs/leaderboard_rewards", CLOSE)[1] for _ in range(2)]
    assert [(r["paid"], r["paid_fen"]) for r in runs] == [(2, 80_000), (0, 0)]
    assert api.call("GET", "/v1/me/wallet", token=shop["level1_token"])[1]["pending_fen"] == 80_000 + 3_000
    status, body = api.call("GET", "/v1/admin/leaderboards/sales?month=2026-11", token=admin)
    assert status == 200 and body["closed"] is True
    assert body["items"] == [{"rank": 1, "user_id": shop["level1"], "nickname": "level1", "value": 15_000}]
    assert body["awards"] == [{"rank": 1, "user_id": shop["level1"], "value": 15_000, "reward_fen": 50_000,
                               "status": "pending", "amount_fen": 50_000}]
    customers = api.call("GET", "/v1/admin/leaderboards/new_customers", token=admin)[1]  # the current month
    assert (customers["month"], [a["reward_fen"] for a in customers["awards"]]) == ("2026-11", [30_000])
    before = api.call("GET", "/v1/admin/leaderboards/sales?month=2026-09", token=admin)[1]
    assert (before["closed"], before["items"], before["awards"]) == (False, [], [])  # never closed: no awards


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/v1/leaderboards/heads", 404, "LEADERBOARD_NOT_FOUND"),
    ("/v1/leaderboards/sales?month=2026-13", 422, "VALIDATION_FAILED"),
    ("/v1/leaderboards/sales?month=11-2026", 422, "VALIDATION_FAILED"),
    ("/v1/leaderboards/sales?month=2026-12", 422, "MONTH_OUT_OF_RANGE"),
    ("/v1/leaderboards/sales?month=2025-10", 422, "MONTH_OUT_OF_RANGE"),
    ("/v1/leaderboards/sales?top=5", 422, "VALIDATION_FAILED"),
    ("/v1/admin/leaderboards/sales?month=2027-01", 422, "MONTH_OUT_OF_RANGE"),
    ("/v1/admin/leaderboards/heads", 404, "LEADERBOARD_NOT_FOUND"),
])
def test_bad_boards_and_months_are_refused_and_change_nothing(api, admin, shop, path, status, code):
    paid(api, admin, shop)
    token = admin if path.startswith("/v1/admin") else shop["level1_token"]
    before = snapshot()
    answer = api.call("GET", path, token=token)
    assert (answer[0], answer[1]["error"]["code"]) == (status, code)
    assert snapshot() == before


def test_the_operators_board_is_refused_to_a_distributor(api, shop):
    before = snapshot()
    status, body = api.call("GET", "/v1/admin/leaderboards/sales", token=shop["level1_token"])
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN") and snapshot() == before

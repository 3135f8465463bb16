"""DynamoDB calls of the distributor's centre (docs/distributor-centre.md): the ledger's first and
next page, a page of promotion orders and the team's level 2, measured like ``bench/api.py``'s
requests (same meter, through the app), each next to the minimum its keys allow. ``make bench``
runs them with the money scenarios; ``python -m bench.centre`` runs only these against a fresh
DynamoDB Local.

The world is placed through the app once: 30 orders of 6 buyers bound to a distributor of its
own (under distributor B of the tree, so B earns level 2), all paid, 5 refunded: the
distributor's ledger holds 35 lines, more than a page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.api import BENCH_PRODUCT, Api, Minimum, Request, Tree, _paid, run_alone

ORDERS, REFUNDED, PAGE = 30, 5, 20

LEDGER_FIRST = Minimum({"GetItem": 1, "Query": 1},
                       "the wallet (the balances after the newest line) and one Query of the sparse index lines "
                       "(pk = user, <at>#<key>), newest first, projected with what a line shows")
LEDGER_NEXT = Minimum({"Query": 1},
                      "one Query from the cursor, which carries the balances after the page's first line: no "
                      "wallet read")
PROMOTION_ORDERS = Minimum({"Query": 1, "BatchGetItem": 2},
                           "by_level1 (keys only), then the orders and the caller's commissions in one BatchGetItem "
                           "across both tables (their keys follow from the order ids), then the buyers' nicknames "
                           "(known only from the orders)")
TEAM_LEVEL2 = Minimum({"GetItem": 1, "Query": 1, "BatchGetItem": 1},
                      "the caller's profile (counters, tier), one Query of by_grandparent, and the page's "
                      "spent#<month> counters in one BatchGetItem")


@dataclass
class _World:
    token: str = ""
    top: str = ""
    cursor: str = ""
    orders: list[str] = field(default_factory=list)


_world = _World()


def _seed(api: Api, tree: Tree) -> _World:
    if _world.token:
        return _world
    _world.token = api.login("centre-distributor")
    code = api.open_shop(_world.token, "centre shop")
    api.bind(_world.token, tree.code_b)
    _world.top = api.login("tree-b")
    for n in range(ORDERS):
        token = api.login(f"centre-buyer-{n % 6}")
        api.bind(token, code)
        placed = api.order(token, BENCH_PRODUCT, f"bench-centre-{n}")
        _paid(api, placed)()
        if n < REFUNDED:
            api.call("POST", f"/v1/orders/{placed['order_id']}/refund", token, {"reason": "bench"})
    first = api.call("GET", f"/v1/me/ledger?limit={PAGE}", _world.token)
    _world.cursor = first["next"]
    return _world


def _get(path: str, who: str = "token", at_least: int = 1) -> Any:
    def prepare(api: Api, tree: Tree, i: int) -> Request:
        world = _seed(api, tree)
        full = path.format(cursor=world.cursor)
        token = world.token if who == "token" else world.top

        def request() -> Any:
            answer = api.call("GET", full, token)
            items = answer.get("items", answer.get("direct"))
            if len(items) < at_least:
                raise AssertionError(f"{full} listed {len(items)}")
            return answer
        return request
    return prepare


SCENARIOS: list[tuple[str, str, Any, Minimum]] = [
    ("centre_ledger", "my ledger: first page of 20 (with balances)", _get(f"/v1/me/ledger?limit={PAGE}", at_least=PAGE),
     LEDGER_FIRST),
    ("centre_ledger_next", "my ledger: next page (cursor)", _get(f"/v1/me/ledger?limit={PAGE}&next={{cursor}}"),
     LEDGER_NEXT),
    ("centre_promotion_orders", "promotion orders: level 1, a page of 20",
     _get(f"/v1/me/promotion-orders?level=1&limit={PAGE}", at_least=PAGE), PROMOTION_ORDERS),
    ("centre_team_level2", "team: level 2 with month_spent_fen", _get("/v1/me/team?level=2", who="top"),
     TEAM_LEVEL2),
]


def main() -> int:
    """Only these scenarios, against a fresh DynamoDB Local (as ``make bench``'s request part)."""
    return run_alone(SCENARIOS)


if __name__ == "__main__":
    raise SystemExit(main())

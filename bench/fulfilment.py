"""DynamoDB calls of the operator's order list (a page of 20, each filter) and of a batch ship
line, measured like ``bench/api.py``'s requests (same meter, same table, through the app), each
next to the minimum its index design allows. ``make bench`` runs them with the money scenarios;
``python -m bench.fulfilment`` runs only these against a fresh DynamoDB Local.

The orders are placed through the app once (the first scenario's preparation): 24 orders of
buyers under distributor B (level 1) and A (level 2), all paid; 3 shipped with WeChat down, so
their reports are pending, then given up by hand (failed). The clock is the process's: every
order is created today, so the day-keyed lists fill a page from today's 16 shards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.api import BENCH_PRODUCT, Api, Minimum, Request, Tree, _paid, run_alone

ORDERS, FAILED, PAGE = 24, 3, 20

SHARDS_PAGE = Minimum({"Query": 16, "BatchGetItem": 1},
                      "a day's orders are spread over 16 index partitions (<day>#<shard>, issue 14: no partition "
                      "takes every order): one Query per shard, each for the page's 20 newest keys, merged "
                      "newest first, then the 20 orders in one BatchGetItem (the indexes are keys only: written "
                      "once per order, or per status change, at the size of a key)")
TRACKED_PAGE = Minimum({"Query": 16, "BatchGetItem": 2},
                       "the 16 shards of the sparse index, the page's orders in one BatchGetItem, and the carrier "
                       "tracking of its shipped orders in one more (docs/delivery.md: a parcel's steps are their own "
                       "item, not the order's)")
BUYER_PAGE = Minimum({"Query": 1},
                     "one buyer's orders are one by_buyer partition, projected whole: one Query could answer; the "
                     "list reads the page's orders again in one consistent BatchGetItem (+1), as every filter does, "
                     "so an index entry that lags its order (eventually consistent) is never shown stale")
DISTRIBUTOR_PAGE = Minimum({"Query": 2, "BatchGetItem": 1},
                           "the orders paying a distributor at level 1 (by_level1) and at level 2 (by_level2): one "
                           "Query each, merged, then the page's orders in one BatchGetItem (a page holding shipped "
                           "orders: their carrier tracking in one more)")
SHIP_LINE = Minimum({"GetItem": 3, "TransactWriteItems": 2, "UpdateItem": 2},
                    "the order (status, payee, address), then order + audit entry + the parcel's tracking in one "
                    "transaction, the shipped fact on the day's counters (a transaction, docs/metrics.md), the "
                    "buyer's openid for WeChat, the report's outcome in one conditioned update (WeChat's "
                    "upload_shipping_info in between), the tracking read and its subscription's outcome in one "
                    "conditioned update (快递100's poll in between, docs/delivery.md); the answer is the order as "
                    "written, not read again")


@dataclass
class _World:
    admin: str = ""
    buyer_id: str = ""
    distributor_id: str = ""
    unshipped: list[str] = field(default_factory=list)


_world = _World()


def _seed(api: Api, tree: Tree) -> _World:
    """The orders every list scenario reads, placed once."""
    if _world.admin:
        return _world
    from chalicelib.bootstrap import default_deps
    from chalicelib.services.sessions import verify_token

    deps = default_deps()
    _world.admin = api.login("admin")
    b_token = api.login("tree-b")
    _world.distributor_id = verify_token(b_token, deps.settings, deps.clock()).user_id
    for n in range(ORDERS):
        token = api.login(f"list-buyer-{n % 4}")
        api.bind(token, tree.code_b)
        placed = api.order(token, BENCH_PRODUCT, f"bench-list-{n}")
        _paid(api, placed)()
        _world.unshipped.append(placed["order_id"])
        _world.buyer_id = verify_token(token, deps.settings, deps.clock()).user_id
    for order_id in _world.unshipped[:FAILED]:
        deps.shipping.fail(-1, times=1)  # type: ignore[attr-defined]
        api.call("POST", f"/v1/admin/orders/{order_id}/ship", _world.admin, {"carrier": "ZTO", "tracking_no":
                                                                             f"ZT{order_id[-8:]}"})
        _give_up(order_id, deps)
    del _world.unshipped[:FAILED]
    return _world


def _give_up(order_id: str, deps: Any) -> None:
    from chalicelib.domain.fulfilment import ReportState, ShippingReport

    report = deps.orders.get(order_id).shipping_report
    deps.orders.record_report(order_id, ShippingReport(ReportState.FAILED, report.attempts, "bench"), report.attempts)


def _list(query: str) -> Any:
    def prepare(api: Api, tree: Tree, i: int) -> Request:
        world = _seed(api, tree)
        path = "/v1/admin/orders?limit=20" + query.format(buyer=world.buyer_id, distributor=world.distributor_id,
                                                          today=_today())

        def request() -> Any:
            answer = api.call("GET", path, world.admin)
            if not answer["items"]:
                raise AssertionError(f"{path} listed nothing")
            return answer
        return request
    return prepare


def _today() -> str:
    from chalicelib.bootstrap import default_deps
    from chalicelib.domain.clock import business_date

    return business_date(default_deps().clock()).isoformat()


def _ship_line(api: Api, tree: Tree, i: int) -> Request:
    world = _seed(api, tree)
    order_id = world.unshipped.pop()
    body = {"shipments": [{"order_id": order_id, "carrier": "SF", "tracking_no": f"SF{order_id[-10:]}"}]}

    def request() -> Any:
        answer = api.call("POST", "/v1/admin/orders/ship", world.admin, body)
        if answer["results"][0].get("status") != "shipped":
            raise AssertionError(f"the line was not shipped: {answer}")
        return answer
    return request


SCENARIOS: list[tuple[str, str, Any, Minimum]] = [
    ("orders_list", "admin orders: a page of 20, no filter (today's 16 shards)", _list(""), SHARDS_PAGE),
    ("orders_list_day", "admin orders: from=to=today", _list("&from={today}&to={today}"), SHARDS_PAGE),
    ("orders_list_status", "admin orders: status=paid (by_status, today)", _list("&status=paid"), SHARDS_PAGE),
    ("orders_list_buyer", "admin orders: buyer_id (by_buyer)", _list("&buyer_id={buyer}"), BUYER_PAGE),
    ("orders_list_distributor", "admin orders: distributor_id (level 1 or 2)", _list("&distributor_id={distributor}"),
     DISTRIBUTOR_PAGE),
    ("orders_list_report", "admin orders: shipping_report=failed (16 shards, sparse)",
     _list("&shipping_report=failed"), TRACKED_PAGE),
    ("orders_ship_line", "batch ship: one line, reported to WeChat", _ship_line, SHIP_LINE),
]


def main() -> int:
    """Only these scenarios, against a fresh DynamoDB Local (as ``make bench``'s request part)."""
    return run_alone(SCENARIOS)


if __name__ == "__main__":
    raise SystemExit(main())

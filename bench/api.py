"""DynamoDB round trips and consumed capacity per request, and single-thread throughput.

Every request goes through the real app (``chalice.test.Client``: routing, JWT, validation,
services, store, PynamoDB, botocore) against DynamoDB Local; ``bench.meter`` counts what
reaches DynamoDB.
"""
from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.meter import DynamoMeter, Snapshot
from chalicelib.services.demo import ADMIN_INVITE_CODE

REPEATS = 5  # each scenario runs this many times, on fresh actors; counts must agree
INVITEES_FOR_WALK = 3  # direct invitees of the user who binds in "bind: user with invitees"
TEAM_SIZE = 20  # direct invitees in the team view (one page at the default limit of 20)
THROUGHPUT_N = 200


@dataclass(frozen=True)
class Minimum:
    """The fewest round trips the data model allows for a request, and why."""

    calls: dict[str, int]
    why: str

    def describe(self) -> str:
        return ", ".join(f"{name}×{n}" for name, n in sorted(self.calls.items()))


MIN_LOGIN = Minimum({"UpdateItem": 1},
                    "an upsert keyed by hash(openid) with ReturnValues=ALL_OLD creates or touches the user and "
                    "tells which")
MIN_LOGIN_NEW = Minimum({"UpdateItem": 1, "TransactWriteItems": 1},
                        "the upsert, then the new user counted on the day's analytics counters (fact marker + "
                        "counter + the user's registration day, one transaction; docs/metrics.md)")
MIN_OPEN_SHOP = Minimum({"GetItem": 1, "TransactWriteItems": 1},
                        "the profile, for the domain's promoter-policy decision (kept out of condition expressions), "
                        "then profile update + invite-code claim in one transaction; the answer needs no re-read")
MIN_BIND = Minimum({"BatchGetItem": 1, "GetItem": 1, "TransactWriteItems": 2},
                   "me + the code's claim in one batch, then its owner (the claim holds only the owner id) for "
                   "the owner's parent, then one conditional transaction; then the binding counted on the day's "
                   "analytics counters (fact marker + counter, one transaction)")
MIN_BIND_WALK = Minimum({"BatchGetItem": 1, "GetItem": 2, "Query": 1, "TransactWriteItems": 2},
                        "as bind, + 1 GetItem per two levels above the inviter's grandparent (loop check; inviter at "
                        "depth 2 -> the root) + 1 by_parent Query for the invitees whose grandparent moves; + the "
                        "binding counted (one transaction)")
MIN_CHECKOUT = Minimum({"BatchGetItem": 1, "TransactWriteItems": 1},
                       "buyer (both upline levels on their item) + products + the Idempotency-Key claim in one "
                       "batch across tables, then order + key claim + stock reservations in one transaction")
MIN_NOTIFY = Minimum({"GetItem": 1, "BatchGetItem": 2, "TransactWriteItems": 2},
                     "the order (names level 1 and 2), then the buyer, level 1 (tier uplift, month counter) and "
                     "level 2 (each payee's freeze) in one batch, then order + commissions + wallets + entries + "
                     "counters in one transaction; then the payment counted: the buyer's and payees' analytics "
                     "states in one batch, then fact marker + "
                     "day and product counters + changed states + basket in one transaction (docs/metrics.md)")
MIN_GROUP_JOIN = Minimum({"BatchGetItem": 1, "TransactWriteItems": 1},
                         "buyer + the group (its seats, and the line its members buy: no product read) + the "
                         "Idempotency-Key claim in one batch across tables, then order + key claim + stock + seat "
                         "(conditioned on a free seat, the group open, the caller not a member) in one transaction")
MIN_GROUP_COMPLETE = Minimum({"GetItem": 1, "BatchGetItem": 2, "TransactWriteItems": 2},
                             "the order (names its group and payees), then buyer + level 1 + the group in one "
                             "batch across tables, then order + seat + the group's completion + commissions + "
                             "wallets + entries + counters in one transaction; then the payment counted (one "
                             "batch of analytics states, one transaction)")
MIN_CHECKOUT_SKU = Minimum({"BatchGetItem": 1, "TransactWriteItems": 1},
                           "as checkout: buyer + the product (its SKUs' prices) + each line's SKU stock item (its key "
                           "is the product and SKU the line names) + the Idempotency-Key claim in one batch across "
                           "tables, then order + key claim + each SKU's stock take in one transaction")
MIN_PRODUCT_PAGE = Minimum({"BatchGetItem": 1, "GetItem": 1},
                           "the caller's tier (commission preview) and the product in one batch, then its SKUs' "
                           "stock items (their ids are in the product) in one batch")
MIN_DISTRIBUTORS = Minimum({"Query": 16, "BatchGetItem": 2},
                           "one page of the sparse shops index from each of its 16 shards (no partition takes a write "
                           "per shop opened by the whole mall), merged; then the page's profiles and their wallets "
                           "(two tables, one consistent BatchGetItem each)")
MIN_AUDIT = Minimum({"Query": 1}, "the newest day's partition of the admin table holds the page")
MIN_TEAM = Minimum({"GetItem": 1, "Query": 1}, "the caller's counters, then one page of the by_parent index")
MIN_PRODUCTS = Minimum({"GetItem": 1, "Query": 1},
                       "the caller's tier (commission preview), then one page of the listing index")


class BenchError(RuntimeError):
    pass


class Api:
    """The handful of requests the bench makes, through chalice's test client."""

    def __init__(self, http: Any) -> None:
        self._http = http

    def call(self, method: str, path: str, token: str | None = None, body: Any = None,
             expect: int = 200) -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else b""
        response = self._http.request(method, path, headers=headers, body=data)
        if response.status_code != expect:
            raise BenchError(f"{method} {path} answered {response.status_code}: {response.body[:300]!r}")
        return response.json_body

    def login(self, name: str) -> str:
        return str(self.call("POST", "/v1/auth/login", body={"code": f"dev:{name}"})["token"])

    def open_shop(self, token: str, shop_name: str) -> str:
        return str(self.call("POST", "/v1/me/distributor", token, {"shop_name": shop_name}, expect=201)["invite_code"])

    def bind(self, token: str, invite_code: str) -> None:
        self.call("POST", "/v1/referrals/bind", token, {"invite_code": invite_code})

    def team(self, token: str) -> Any:
        return self.call("GET", "/v1/me/team", token)

    def order(self, token: str, product_id: str, key: str) -> Any:
        body = {"items": [{"product_id": product_id, "quantity": 1}],
                "address": {"name": "bench", "phone": "13800000000", "detail": "bench"}}
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", "Idempotency-Key": key}
        response = self._http.request("POST", "/v1/orders", headers=headers, body=json.dumps(body).encode())
        if response.status_code != 201:
            raise BenchError(f"POST /v1/orders answered {response.status_code}: {response.body[:300]!r}")
        return response.json_body

    def notify(self, headers: dict[str, str], body: bytes) -> Any:
        response = self._http.request("POST", "/v1/wechat/pay/notify", headers=headers, body=body)
        if response.status_code != 200:
            raise BenchError(f"notify answered {response.status_code}: {response.body[:300]!r}")
        return response.json_body

    def keyed(self, token: str, path: str, body: Any, key: str) -> Any:
        """A POST with an Idempotency-Key that must answer 201."""
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", "Idempotency-Key": key}
        response = self._http.request("POST", path, headers=headers, body=json.dumps(body).encode())
        if response.status_code != 201:
            raise BenchError(f"POST {path} answered {response.status_code}: {response.body[:300]!r}")
        return response.json_body

    def products(self, token: str) -> Any:
        return self.call("GET", "/v1/products", token)


@dataclass
class Tree:
    """Distributors the scenarios bind under: root (the demo admin's shop) <- A <- B."""

    root_code: str
    code_a: str  # depth 1
    code_b: str  # depth 2


def build_tree(api: Api) -> Tree:
    a = api.login("tree-a")
    code_a = api.open_shop(a, "A shop")
    api.bind(a, ADMIN_INVITE_CODE)
    b = api.login("tree-b")
    code_b = api.open_shop(b, "B shop")
    api.bind(b, code_a)
    return Tree(ADMIN_INVITE_CODE, code_a, code_b)


Request = Callable[[], Any]
Prepare = Callable[[Api, Tree, int], Request]  # sets up actors for repetition i, returns the request


def _login_new(api: Api, tree: Tree, i: int) -> Request:
    return lambda: api.login(f"new-{i}")


def _login_returning(api: Api, tree: Tree, i: int) -> Request:
    api.login(f"back-{i}")
    return lambda: api.login(f"back-{i}")


def _login_distributor(api: Api, tree: Tree, i: int) -> Request:
    """A returning user who has a shop and a parent: their profile is in both GSIs."""
    token = api.login(f"dist-{i}")
    api.open_shop(token, f"Dist {i}")
    api.bind(token, tree.code_a)
    return lambda: api.login(f"dist-{i}")


def _open_shop(api: Api, tree: Tree, i: int) -> Request:
    token = api.login(f"shop-{i}")
    return lambda: api.open_shop(token, f"Shop {i}")


def _bind_to(code: Callable[[Tree], str], who: str) -> Prepare:
    def prepare(api: Api, tree: Tree, i: int) -> Request:
        token = api.login(f"{who}-{i}")
        return lambda: api.bind(token, code(tree))
    return prepare


def _bind_with_invitees(api: Api, tree: Tree, i: int) -> Request:
    token = api.login(f"walk-{i}")
    own_code = api.open_shop(token, f"Walk {i}")
    for j in range(INVITEES_FOR_WALK):
        api.bind(api.login(f"walk-{i}-kid-{j}"), own_code)
    return lambda: api.bind(token, tree.code_b)


def _team_view(api: Api, tree: Tree, i: int) -> Request:
    token = api.login(f"team-{i}")
    own_code = api.open_shop(token, f"Team {i}")
    for j in range(TEAM_SIZE):
        api.bind(api.login(f"team-{i}-m-{j}"), own_code)

    def request() -> Any:
        answer = api.team(token)
        if len(answer["direct"]) != TEAM_SIZE:
            raise BenchError(f"team view listed {len(answer['direct'])} invitees, expected {TEAM_SIZE}")
        return answer
    return request


BENCH_PRODUCT = "p-mask"  # from the demo catalogue (stock 1,000)


def _checkout(api: Api, tree: Tree, i: int) -> Request:
    token = api.login(f"buyer-{i}")
    api.bind(token, tree.code_b)
    return lambda: api.order(token, BENCH_PRODUCT, f"bench-checkout-{i}")


def _notify(api: Api, tree: Tree, i: int) -> Request:
    from chalicelib.bootstrap import default_deps

    token = api.login(f"payer-{i}")
    api.bind(token, tree.code_b)
    placed = api.order(token, BENCH_PRODUCT, f"bench-notify-{i}")
    deps = default_deps()
    headers, body = deps.pay.build_payment_notification(  # type: ignore[attr-defined]
        placed["order_id"], deps.clock(), amount_fen=placed["amount_fen"])
    return lambda: api.notify(dict(headers), body)


def _paid(api: Api, placed: Any) -> Request:
    from chalicelib.bootstrap import default_deps

    deps = default_deps()
    headers, body = deps.pay.build_payment_notification(  # type: ignore[attr-defined]
        placed["order_id"], deps.clock(), amount_fen=placed["amount_fen"])
    return lambda: api.notify(dict(headers), body)


def _open_group(api: Api, tree: Tree, who: str) -> str:
    leader = api.login(f"{who}-leader")
    api.bind(leader, tree.code_b)
    return str(api.keyed(leader, "/v1/groups", {"product_id": BENCH_PRODUCT}, f"{who}-open")["group_id"])


def _group_join(api: Api, tree: Tree, i: int) -> Request:
    group_id = _open_group(api, tree, f"gj-{i}")
    token = api.login(f"gj-{i}-member")
    api.bind(token, tree.code_b)
    return lambda: api.keyed(token, f"/v1/groups/{group_id}/join", {}, f"gj-{i}-join")


def _group_complete(api: Api, tree: Tree, i: int) -> Request:
    """The payment that fills a 3-person group's last seat (the other two paid already)."""
    group_id = _open_group(api, tree, f"gc-{i}")
    placed = []
    for m in range(2):
        token = api.login(f"gc-{i}-m{m}")
        api.bind(token, tree.code_b)
        placed.append(api.keyed(token, f"/v1/groups/{group_id}/join", {}, f"gc-{i}-m{m}"))
    from chalicelib.bootstrap import default_deps

    deps = default_deps()
    leader_order = deps.groups.get(group_id).members()[0][1].order_id  # type: ignore[union-attr]
    for order in [{"order_id": leader_order, "amount_fen": placed[0]["amount_fen"]}, placed[0]]:
        _paid(api, order)()
    return _paid(api, placed[1])  # tests/race/test_group_races.py shows it completes the group


_SKU_PRODUCT: dict[str, Any] = {}


def _sku_product(api: Api) -> dict[str, Any]:
    """A product with three SKUs (颜色 × 尺码), created once by the admin."""
    if not _SKU_PRODUCT:
        body = {"name": "bench 衬衫", "category": "beauty", "cost_fen": 1_500, "price_fen": 5_000, "stock": 100_000,
                "skus": [{"specs": {"颜色": "红", "尺码": size}} for size in ("S", "M", "L")]}
        _SKU_PRODUCT.update(api.call("POST", "/v1/admin/products", api.login("admin"), body, expect=201))
    return _SKU_PRODUCT


def _checkout_sku(api: Api, tree: Tree, i: int) -> Request:
    """Two lines, two SKUs of one product."""
    product = _sku_product(api)
    token = api.login(f"sku-buyer-{i}")
    api.bind(token, tree.code_b)
    items = [{"product_id": product["product_id"], "sku_id": sku["sku_id"], "quantity": 1}
             for sku in product["skus"][:2]]
    body = {"items": items, "address": {"name": "bench", "phone": "13800000000", "detail": "bench"}}
    return lambda: api.keyed(token, "/v1/orders", body, f"bench-sku-checkout-{i}")


def _product_page(api: Api, tree: Tree, i: int) -> Request:
    product = _sku_product(api)
    token = api.login(f"page-{i}")
    return lambda: api.call("GET", f"/v1/products/{product['product_id']}", token)


def _product_list(api: Api, tree: Tree, i: int) -> Request:
    token = api.login(f"shopper-{i}")
    return lambda: api.products(token)


def _distributor_list(api: Api, tree: Tree, i: int) -> Request:
    """The operator's first page (20) of every distributor (20 shops opened for it, and the others')."""
    admin = api.login("admin")
    if i == 0:
        for j in range(20):
            api.open_shop(api.login(f"listed-{j}"), f"Listed {j}")

    def request() -> Any:
        answer = api.call("GET", "/v1/admin/distributors", admin)
        if len(answer["items"]) != 20:
            raise BenchError(f"the distributor list gave {len(answer['items'])} items, expected 20")
        return answer
    return request


def _audit_page(api: Api, tree: Tree, i: int) -> Request:
    """The operator's first page of the audit log, after a freeze and an unfreeze (today's)."""
    admin = api.login("admin")
    token = api.login(f"audited-{i}")
    user_id = api.call("GET", "/v1/me", token)["user_id"]
    api.open_shop(token, f"Audited {i}")
    for action in ("freeze", "unfreeze"):
        api.call("POST", f"/v1/admin/users/{user_id}/{action}", admin, {"reason": "bench"})
    return lambda: api.call("GET", "/v1/admin/audit?limit=2", admin)


SCENARIOS: list[tuple[str, str, Prepare, Minimum]] = [
    ("login_new", "login: new user", _login_new, MIN_LOGIN_NEW),
    ("login_returning", "login: returning user", _login_returning, MIN_LOGIN),
    ("login_distributor", "login: returning bound distributor", _login_distributor, MIN_LOGIN),
    ("open_shop", "open shop", _open_shop, MIN_OPEN_SHOP),
    ("bind_root", "bind: inviter at the root", _bind_to(lambda t: t.root_code, "bind-root"), MIN_BIND),
    ("bind_depth2", "bind: inviter two levels deep", _bind_to(lambda t: t.code_b, "bind-deep"), MIN_BIND),
    ("bind_with_invitees", f"bind: user with {INVITEES_FOR_WALK} invitees, inviter depth 2", _bind_with_invitees,
     MIN_BIND_WALK),
    ("team_view", f"team view ({TEAM_SIZE} direct invitees)", _team_view, MIN_TEAM),
    ("checkout", "checkout: bound buyer, one line", _checkout, MIN_CHECKOUT),
    ("checkout_sku", "checkout: bound buyer, two SKUs of one product", _checkout_sku, MIN_CHECKOUT_SKU),
    ("notify", "payment notification (2 payees)", _notify, MIN_NOTIFY),
    ("product_list", "product list", _product_list, MIN_PRODUCTS),
    ("product_page", "product page (3 SKUs)", _product_page, MIN_PRODUCT_PAGE),
    ("group_join", "group-buy: join (bound member)", _group_join, MIN_GROUP_JOIN),
    ("group_complete", "group-buy: the payment that completes a group (2 payees)", _group_complete,
     MIN_GROUP_COMPLETE),
    ("admin_distributors", "admin: distributor list (a page of 20)", _distributor_list, MIN_DISTRIBUTORS),
    ("admin_audit", "admin: audit log (a page of today's)", _audit_page, MIN_AUDIT),
]


def _same(snapshots: list[Snapshot]) -> bool:
    first = snapshots[0]
    return all(s.calls == first.calls and s.items == first.items and s.rcu == first.rcu and s.wcu == first.wcu
               and s.index_wcu == first.index_wcu
               for s in snapshots[1:])


def rules_just_read() -> None:
    """The business rules' version read now, outside the measured request: a process re-reads it
    once per ``rules_refresh_seconds`` (docs/settings.md), a read per process, not per request."""
    from chalicelib.bootstrap import default_deps

    deps = default_deps()
    deps.rules_cache.invalidate()
    deps.rules_in_force()
    deps.promotions.invalidate()  # the running promotions: the same per-process list (docs/promotions.md)
    deps.promotions.running(deps.clock())


def run_scenarios(api: Api, meter: DynamoMeter, tree: Tree, repeats: int = REPEATS,
                  extra: list[tuple[str, str, Prepare, Minimum]] | None = None,
                  only: list[tuple[str, str, Prepare, Minimum]] | None = None) -> list[dict[str, Any]]:
    """Each scenario (``SCENARIOS``, then ``extra``: bench/money.py, bench/fulfilment.py; ``only``:
    these instead) ``repeats`` times on fresh actors."""
    results = []
    for key, label, prepare, minimum in (SCENARIOS + (extra or []) if only is None else only):
        snapshots, millis = [], []
        for i in range(repeats):
            request = prepare(api, tree, i)
            rules_just_read()
            meter.reset()
            started = time.perf_counter()
            request()
            millis.append((time.perf_counter() - started) * 1000)
            snapshots.append(meter.take())
        snap = snapshots[0]
        results.append({
            "key": key, "label": label, "calls": dict(snap.calls), "items": dict(snap.items),
            "described": snap.describe_calls(), "round_trips": snap.round_trips, "rcu": snap.rcu, "wcu": snap.wcu,
            "index_rcu": snap.index_rcu, "index_wcu": snap.index_wcu, "http_attempts": snap.attempts, "errors": dict(snap.errors),
            "consistent_over_repeats": _same(snapshots), "repeats": repeats,
            "all_round_trips": [s.round_trips for s in snapshots],
            "median_ms": statistics.median(millis),
            "minimum": minimum.calls, "minimum_described": minimum.describe(), "minimum_why": minimum.why,
            "minimum_round_trips": sum(minimum.calls.values()),
            "extra_round_trips": snap.round_trips - sum(minimum.calls.values()),
        })
    return results


def run_throughput(api: Api, meter: DynamoMeter, tree: Tree, n: int = THROUGHPUT_N) -> dict[str, Any]:
    """n logins of new users, then the same n users bind under distributor A (depth 1), one at a time."""
    tokens: list[str] = []
    meter.reset()
    started = time.perf_counter()
    for i in range(n):
        tokens.append(api.login(f"tp-{i}"))
    login_seconds = time.perf_counter() - started
    login_snap = meter.take()

    started = time.perf_counter()
    for token in tokens:
        api.bind(token, tree.code_a)
    bind_seconds = time.perf_counter() - started
    bind_snap = meter.take()
    return {"n": n, "login": _rate(n, login_seconds, login_snap), "bind": _rate(n, bind_seconds, bind_snap)}


def _rate(n: int, seconds: float, snap: Snapshot) -> dict[str, Any]:
    return {"seconds": seconds, "per_second": n / seconds, "mean_ms": seconds / n * 1000,
            "round_trips_per_request": snap.round_trips / n, "calls": dict(snap.calls),
            "share_in_dynamodb": snap.seconds_in_calls / seconds if seconds else 0.0,
            "errors": dict(snap.errors)}


def run_alone(only: list[tuple[str, str, Prepare, Minimum]]) -> int:
    """Only these scenarios, against a fresh DynamoDB Local (as ``make bench``'s request part): the
    ``main`` of bench/centre.py, bench/fulfilment.py and bench/pricing.py."""
    from bench.env import REPO_ROOT, apply_in_process

    apply_in_process()
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from scripts import dynamodb_local

    with dynamodb_local.start() as db:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = db.endpoint
        from chalice.test import Client

        import app
        from bench import report
        from bench.meter import DynamoMeter
        from chalicelib.bootstrap import Deps, set_default_deps
        from chalicelib.services.demo import seed_demo
        from chalicelib.store.tables import all_models, ensure_tables, reset_connections

        reset_connections()
        ensure_tables()
        meter = DynamoMeter()
        meter.attach_models(all_models())
        seed_demo(Deps())
        set_default_deps(Deps())
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
                Client(app.app, stage_name="test", project_dir=str(REPO_ROOT)) as client:
            http = Api(client.http)
            http.products(http.login("warm-up"))
            tree = build_tree(http)
            results = run_scenarios(http, meter, tree, 3, only=only)
        set_default_deps(None)
    print(report.api_section(results, db.backend))
    return 0

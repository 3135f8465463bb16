"""DynamoDB calls and capacity of the money operations after payment: a refund, a withdrawal
request and a settlement run, measured like ``bench/api.py``'s requests (same meter, same
table), each next to the minimum its data model allows.

The state a scenario needs but does not measure is made through the services or the stores
(available money for a withdrawal is a month's team bonus, frozen commissions are seeded as in
``bench/settlement.py``); the measured call goes through the app where it is a request.
"""
from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bench.api import Api, Minimum, Prepare, Request, Tree, _paid

SETTLE_ENTRIES, SETTLE_USERS = 100, 10

MIN_REFUND = Minimum({"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1},
                     "the order (status, lines, payees), then the payees' commissions and level 1's month counter "
                     "in one batch, then order + stock + each commission with its wallet and entry + counters + "
                     "the refund day's analytics counters in one transaction (WeChat's refund in between)")
MIN_WITHDRAW = Minimum({"BatchGetItem": 1, "TransactWriteItems": 1, "UpdateItem": 1},
                       "the key's withdrawal, the wallet, the day's count and the user (real name, openid) in one "
                       "batch across tables, then withdrawal + wallet + entry + day count in one transaction, then "
                       "the bill WeChat answered (state, package for the user) in one update")
MIN_SETTLE = Minimum({"Query": 18, "TransactWriteItems": 26, "PutItem": 17, "UpdateItem": 17, "GetItem": 1},
                     f"the job's own: one settle_queue Query per shard (16), then {SETTLE_ENTRIES} commissions of "
                     f"{SETTLE_USERS} users (users 0-9: shards 0-9) in one transaction of ≤ 100 items per shard "
                     "(2 per commission, 1 per wallet, 1 day counter); the engine's (docs/jobs.md): the run put, "
                     "per part its slice put, its done transaction and a finish claim, then the run's slices read "
                     "and the run marked finished, and the summary read (run + slices)")


def _id_number(n: int) -> str:
    from chalicelib.domain.identity import check_char

    first17 = f"110105{date(1970, 1, 1) + timedelta(days=n):%Y%m%d}{n % 1000:03d}"
    return first17 + check_char(first17)


def _refund(api: Api, tree: Tree, i: int) -> Request:
    token = api.login(f"refund-{i}")
    api.bind(token, tree.code_b)
    placed = api.order(token, "p-mask", f"bench-refund-{i}")
    _paid(api, placed)()
    return lambda: api.call("POST", f"/v1/orders/{placed['order_id']}/refund", token, {"reason": "不想要了"})


def _withdraw(api: Api, tree: Tree, i: int) -> Request:
    from bench.settlement import seed_available
    from chalicelib.bootstrap import default_deps
    from chalicelib.services.sessions import verify_token

    token = api.login(f"withdraw-{i}")
    api.call("POST", "/v1/me/real-name", token, {"name": "张三", "id_number": _id_number(20_000 + i)})
    deps = default_deps()
    user_id = verify_token(token, deps.settings, deps.clock()).user_id
    seed_available(user_id, f"2001-{i % 12 + 1:02d}", 5_000, deps.clock())
    body = json.dumps({"amount_fen": 2_000}).encode()

    def request() -> Any:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                   "Idempotency-Key": f"bench-withdraw-{i}"}
        response = api._http.request("POST", "/v1/me/withdrawals", headers=headers, body=body)
        assert response.status_code == 201, response.body
        return response.json_body
    return request


def _settle(api: Api, tree: Tree, i: int) -> Request:
    from bench.settlement import seed_frozen
    from chalicelib.bootstrap import default_deps
    from chalicelib.domain.clock import SHANGHAI
    from chalicelib.jobs import run_job

    deps = default_deps()
    midnight = datetime.combine(deps.clock().astimezone(SHANGHAI).date(), time(0), tzinfo=SHANGHAI)
    seed_frozen(SETTLE_ENTRIES, SETTLE_USERS, prefix=f"b{uuid.uuid4().hex[:6]}", available_at=midnight.astimezone(UTC))

    def request() -> Any:
        summary = run_job("settle_commissions", deps.clock(), deps)
        assert summary["settled"] == SETTLE_ENTRIES, summary
        return summary
    return request


SCENARIOS: list[tuple[str, str, Prepare, Minimum]] = [
    ("refund", "refund: paid order, 2 payees (the buyer asks)", _refund, MIN_REFUND),
    ("withdraw", "withdrawal: request, transfer bill created", _withdraw, MIN_WITHDRAW),
    ("settle", f"settlement job: {SETTLE_ENTRIES} due commissions of {SETTLE_USERS} users", _settle, MIN_SETTLE),
]

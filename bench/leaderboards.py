"""DynamoDB calls of a leaderboard read (``GET /v1/leaderboards/sales``), measured like
``bench/api.py``'s requests, next to the minimum the board's keys allow (docs/leaderboards.md).

A board of ``BOARD_SIZE`` distributors spread over the 16 shards is seeded straight into the
``boards`` index's items (as the payments would leave them) for the current month; the caller is
read once in the top and once far below it (its rank then counted shard by shard).
"""
from __future__ import annotations

import uuid

from bench.api import Api, Minimum, Request, Tree

BOARD_SIZE = 400

MIN_TOP = Minimum({"Query": 16, "GetItem": 1, "BatchGetItem": 1},
                  "the board's head: one Query of the top N per shard of `<board>#<month>#<shard>` (16, merged), "
                  "the caller's value (GetItem), the ranked rows' nicknames (one BatchGetItem)")
MIN_OUTSIDE = Minimum({"Query": 32, "GetItem": 1, "BatchGetItem": 1},
                      "as in the top, plus the caller's rank: one counted Query above the caller's value per shard "
                      "(16; each reads the keys above it, ~10,000 per 1 MB page)")


def _seed(caller: str, caller_value: int) -> None:
    from chalicelib.bootstrap import default_deps
    from chalicelib.domain.clock import business_month
    from chalicelib.domain.leaderboards import Board, part_key
    from chalicelib.domain.shards import shard_of
    from chalicelib.store.leaderboards import board_sk
    from chalicelib.store.ledger import LedgerItem

    month = business_month(default_deps().clock())
    prefix = uuid.uuid4().hex[:6]
    users = [(f"bench-lb-{prefix}-{n:04d}-{n % 16:x}", 100_000 + n * 137) for n in range(BOARD_SIZE)]
    with LedgerItem.batch_write() as batch:
        for user_id, value in [*users, (caller, caller_value)]:
            batch.save(LedgerItem(user_id, board_sk(Board.SALES, month), board_value=value,
                                  board_part=part_key(Board.SALES, month, shard_of(user_id))))


def _reader(api: Api, i: int, value: int) -> Request:
    from chalicelib.bootstrap import default_deps
    from chalicelib.services.sessions import verify_token

    token = api.login(f"lb-reader-{value}-{i}")
    deps = default_deps()
    _seed(verify_token(token, deps.settings, deps.clock()).user_id, value)
    return lambda: api.call("GET", "/v1/leaderboards/sales", token)


def _in_top(api: Api, tree: Tree, i: int) -> Request:
    return _reader(api, i, 900_000_000 + i)


def _outside(api: Api, tree: Tree, i: int) -> Request:
    return _reader(api, i, 100)


SCENARIOS = [
    ("leaderboard_top", "leaderboard read: caller in the top", _in_top, MIN_TOP),
    ("leaderboard_outside", f"leaderboard read: caller below the top ({BOARD_SIZE}+ distributors)", _outside,
     MIN_OUTSIDE),
]

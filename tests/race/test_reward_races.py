"""Rewards under concurrency, on DynamoDB Local: two team-bonus runs at once pay each partner once."""
from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.tiers import Tier
from chalicelib.services import rewards, settlement, shops
from chalicelib.store.ledger import LedgerItem, team_sales_key
from tests.race.concurrency import login, race

pytestmark = pytest.mark.race


def test_two_team_bonus_runs_at_once_pay_each_partner_exactly_once(deps):
    year = 2040 + random.randrange(500)  # a month no other test uses (the database is shared)
    month, now = f"{year}-05", datetime(year, 6, 1, 16, 30, tzinfo=UTC)  # June 2nd, 00:30 Shanghai
    partners = []
    for i in range(6):
        user_id = login(deps, "partner")
        shops.open_shop(user_id, "shop", deps)
        assert deps.users.set_tier(user_id, Tier.PARTNER, month, expected=Tier.REGULAR)
        LedgerItem(user_id, team_sales_key(month), amount_fen=100_000 * (i + 1)).save()
        partners.append(user_id)
    runs = race([lambda: rewards.team_bonus(now, Deps()) for _ in range(2)])
    assert all(isinstance(r, dict) for r in runs), runs
    assert sum(r["paid"] for r in runs) == 6
    assert sum(r["paid_fen"] for r in runs) == 3_000 * 21
    for i, user_id in enumerate(partners):
        assert deps.ledger.wallet(user_id)["available"] == 3_000 * (i + 1)
        assert [e["kind"] for e in deps.ledger.entries(user_id)] == ["team_bonus"]
        assert settlement.wallet_differences(user_id, deps) == {}
    assert rewards.team_bonus(now, deps)["paid"] == 0

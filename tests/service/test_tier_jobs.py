"""The two monthly jobs of this area on the engine, on moto: ``evaluate_tiers`` (the month change:
16 shards of the distributors above the base tier) writes only the distributors it re-decides and
reads 16 empty pages on every later run of the month; ``team_bonus`` (16 shards of the month's
partner roll) pays once, marks a shard done only when none of its partners was deferred, and
retries only what is left. Both end in the same state when every slice does a single page."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.domain.shards import SHARDS, shard_of
from chalicelib.domain.tiers import Tier
from chalicelib.jobs import run_job
from chalicelib.services import rewards, tiers
from chalicelib.store.jobs import JobItem
from chalicelib.store.ledger import LedgerItem, team_sales_key
from chalicelib.store.tables import all_models
from chalicelib.store.users import PROFILE, UserItem
from tests.faults import normalised, restore, snapshot
from tests.service.test_orders import distributor

NOVEMBER = "2026-11"
DECEMBER_1ST = datetime(2026, 11, 30, 16, 5, tzinfo=UTC)  # 00:05 Shanghai: the month change's schedule
BONUS_RUN = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 Shanghai: the team bonus's


class UserWrites:
    """Write calls that touch the users table, by operation (a botocore hook on every client)."""

    WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")

    def __init__(self) -> None:
        self.writes: Counter[str] = Counter()
        self.reads: Counter[str] = Counter()
        clients = {id(c): c for c in (m._get_connection().connection.client for m in all_models())}
        for client in clients.values():
            client.meta.events.register("before-parameter-build.dynamodb.*", self._count)

    def _count(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        table = UserItem.Meta.table_name
        tables = {params.get("TableName")} | set(params.get("RequestItems", {}))
        for item in params.get("TransactItems", ()):
            tables |= {part.get("TableName") for part in item.values()}
        if table in tables:
            (self.writes if model.name in self.WRITES else self.reads)[model.name] += 1

    def reset(self) -> None:
        self.writes.clear()
        self.reads.clear()


def decided(deps: Deps, name: str, tier: Tier, month: str, direct: int = 10, team: int = 10,
            sales_month: str = NOVEMBER, sales: int = 0) -> str:
    """A distributor whose ``tier`` was decided in ``month``, with these figures."""
    user_id, _ = distributor(deps, name)
    if tier is not Tier.REGULAR:
        assert deps.users.set_tier(user_id, tier, month, expected=Tier.REGULAR, now=deps.clock())
    UserItem(user_id, PROFILE).update(actions=[
        UserItem.direct_count.set(direct), UserItem.team_count.set(team), UserItem.sales_month.set(sales_month),
        UserItem.month_sales_fen.set(sales)])
    return user_id


def in_shard(prefix: str, shard: str, n: int) -> list[str]:
    """``n`` login names whose users fall in ``shard`` (so that one part has several pages)."""
    from chalicelib.store.users import user_id_for

    return [name for name in (f"{prefix}{i}" for i in range(400)) if shard_of(user_id_for(f"dev:{name}")) == shard][:n]


@pytest.fixture
def world(deps: Deps) -> dict[str, str]:
    """Six regular distributors, seniors of November kept (its figures qualify: three of them in
    one shard) or downgraded, a partner of November downgraded to senior, one senior decided for
    December already."""
    people = {f"regular{i}": decided(deps, f"regular{i}", Tier.REGULAR, NOVEMBER, sales=900_000) for i in range(6)}
    people |= {f"kept{i}": decided(deps, name, Tier.SENIOR, NOVEMBER, sales=500_000)
               for i, name in enumerate(in_shard("kept", "a", 3))}
    people |= {f"short{i}": decided(deps, f"short{i}", Tier.SENIOR, NOVEMBER, sales=499_999) for i in range(2)}
    people["partner"] = decided(deps, "partner", Tier.PARTNER, NOVEMBER, team=49, sales=10_000_000)
    people["early"] = decided(deps, "early", Tier.SENIOR, "2026-12", sales_month="2026-12", sales=600_000)
    return people


def test_the_month_change_writes_only_the_distributors_it_re_decides_and_later_runs_read_16_empty_pages(
        deps, world, monkeypatch):
    meter = UserWrites()
    stored: list[str] = []
    original = deps.users.store_tier
    monkeypatch.setattr(deps.users, "store_tier", lambda change, now: stored.append(change.user_id) or
                        original(change, now))
    first = run_job("evaluate_tiers", DECEMBER_1ST, deps)
    assert (first["evaluated"], first["kept"], first["downgraded"], first["parts"]) == (6, 3, 3, 16)
    assert sorted(stored) == sorted(world[n] for n in ("kept0", "kept1", "kept2", "short0", "short1", "partner"))
    assert meter.writes == {"UpdateItem": 5, "TransactWriteItems": 1}  # the partner's: November's roll with it
    tiers_now = {name: deps.users.get(user_id).tier for name, user_id in world.items()}
    assert tiers_now == {**{f"regular{i}": Tier.REGULAR for i in range(6)}, **{f"kept{i}": Tier.SENIOR for i in range(3)},
                         "short0": Tier.REGULAR, "short1": Tier.REGULAR, "partner": Tier.SENIOR, "early": Tier.SENIOR}
    meter.reset()
    stored.clear()
    again = run_job("evaluate_tiers", DECEMBER_1ST + timedelta(days=14), deps)
    assert (again["evaluated"], stored, meter.writes) == (0, [], Counter())
    assert meter.reads == {"Query": 16}  # one empty page a shard, nothing else


def test_the_month_change_under_never_keeps_every_tier_and_moves_the_month(deps, world):
    from chalicelib.config import Rules

    deps.settings = deps.settings.model_copy(update={"rules": Rules(tier_downgrade="never")})
    run = run_job("evaluate_tiers", DECEMBER_1ST, deps)
    assert (run["evaluated"], run["kept"], run["downgraded"]) == (6, 6, 0)
    assert {deps.users.get(u).tier_month for n, u in world.items() if not n.startswith("regular")} == {"2026-12"}


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page of one distributor or partner, so that parts take several slices."""
    monkeypatch.setattr(tiers, "PAGE", 1)
    monkeypatch.setattr(rewards, "PAGE", 1)


def end_state() -> dict[str, list[str]]:
    return {table: items for table, items in normalised(snapshot()).items() if table != JobItem.Meta.table_name}


def same_end_state_with_one_page_a_slice(deps: Deps, job: str, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``job`` from the same state with the default slice budget and with 0 (each slice stops
    after one page); the tables must end the same. Returns both summaries."""
    saved = snapshot()
    whole = run_job(job, now, deps)
    expected = end_state()
    restore(saved)
    sliced = run_job(job, now, deps, slice_budget=0)
    assert end_state() == expected
    return whole, sliced


def test_the_month_change_ends_the_same_when_every_slice_does_one_page(deps, world, small_pages):
    whole, sliced = same_end_state_with_one_page_a_slice(deps, "evaluate_tiers", DECEMBER_1ST)
    assert sliced["slices"] > whole["slices"] >= 16
    assert {k: whole[k] for k in ("evaluated", "kept", "downgraded")} == \
        {k: sliced[k] for k in ("evaluated", "kept", "downgraded")} == {"evaluated": 6, "kept": 3, "downgraded": 3}


@pytest.mark.parametrize("part", ["2026-13#a", "2026-12#g", "2026-12", "26-12#a", "all", "2026-12#a#b"])
def test_a_part_that_is_not_a_month_and_a_shard_is_refused(part):
    with pytest.raises(ValueError, match="not a part"):
        tiers.parse_part(part)


# Team bonus ------------------------------------------------------------------------------------

@pytest.fixture
def partners(deps: Deps) -> list[str]:
    """Five partners of November with team sales (10,000 fen × n: 3% = 300 fen × n), and a
    distributor made partner only for December."""
    ids = []
    for n, name in enumerate(in_shard("partner", "a", 3) + in_shard("partner", "b", 2), start=1):
        user_id, _ = distributor(deps, name)
        assert deps.users.set_tier(user_id, Tier.PARTNER, NOVEMBER, expected=Tier.REGULAR, now=deps.clock())
        LedgerItem(user_id, team_sales_key(NOVEMBER), amount_fen=10_000 * n).save()
        ids.append(user_id)
    later, _ = distributor(deps, "later")
    assert deps.users.set_tier(later, Tier.PARTNER, "2026-12", expected=Tier.REGULAR, now=deps.clock())
    LedgerItem(later, team_sales_key(NOVEMBER), amount_fen=10_000).save()
    return ids


def test_the_team_bonus_ends_the_same_when_every_slice_does_one_page(deps, partners, small_pages):
    whole, sliced = same_end_state_with_one_page_a_slice(deps, "team_bonus", BONUS_RUN)
    for summary in (whole, sliced):
        assert (summary["month"], summary["partners"], summary["paid"], summary["paid_fen"]) == (NOVEMBER, 5, 5, 4_500)
    assert sliced["slices"] > whole["slices"]
    assert deps.rewards.month_done(NOVEMBER)


@pytest.fixture
def busy(deps: Deps, partners: list[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The first partner's wallet is too busy to accrue (every attempt loses a race) until the
    test lets it go; yields that partner."""
    stuck = partners[0]
    original = deps.rewards.accrue_team_bonus

    def accrue(user_id: str, *args: Any) -> None:
        if user_id == stuck:
            raise ConcurrentUpdate("a concurrent change")
        original(user_id, *args)

    monkeypatch.setattr(deps.rewards, "accrue_team_bonus", accrue)
    monkeypatch.setattr("chalicelib.services.retry.backoff", lambda attempt: None)
    yield stuck
    monkeypatch.setattr(deps.rewards, "accrue_team_bonus", original)


def test_a_deferred_partner_leaves_its_shard_and_the_month_open_and_the_next_run_reads_only_that_shard(
        deps, partners, busy, monkeypatch):
    first = run_job("team_bonus", BONUS_RUN, deps)
    assert (first["paid"], first["deferred"], first["parts"]) == (4, 1, 16)
    assert not deps.rewards.month_done(NOVEMBER)
    assert deps.rewards.shards_done(NOVEMBER) == set(SHARDS) - {shard_of(busy)}
    monkeypatch.setattr(deps.rewards, "accrue_team_bonus", type(deps.rewards).accrue_team_bonus.__get__(deps.rewards))
    second = run_job("team_bonus", BONUS_RUN + timedelta(days=1), deps)  # the next day's run
    in_shard = [p for p in partners if shard_of(p) == shard_of(busy)]
    assert (second["parts"], second["partners"], second["paid"]) == (1, len(in_shard), 1)
    assert second["already_paid"] == len(in_shard) - 1
    assert deps.rewards.month_done(NOVEMBER)
    assert deps.ledger.wallet(busy)["pending"] == 300
    third = run_job("team_bonus", BONUS_RUN + timedelta(days=2), deps)
    assert (third["parts"], third["paid"], third["skipped"]) == (0, 0, "month already paid")


@pytest.mark.parametrize("cursor", ["not json", '{"after": 1, "deferred": false}', '{"after": "x"}', "[]"])
def test_a_team_bonus_cursor_it_did_not_write_is_refused(deps, cursor):
    from chalicelib.jobs.engine import Deadline

    with pytest.raises(ValueError, match=r"cursor|Expecting"):
        rewards.team_bonus_part("2026-11#a", cursor, BONUS_RUN, deps, Deadline.after(10))

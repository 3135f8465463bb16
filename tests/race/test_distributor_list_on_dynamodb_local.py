"""The operator's distributor list on DynamoDB Local, through the states the schemathesis e2e run
leaves behind (a 500 was once seen there for ``GET /v1/admin/distributors?limit=1&frozen=true``
and did not come back on a rerun): users frozen, unfrozen and frozen again, with a manual tier or
without, paged one row at a time by following ``next``, with ``tier`` and ``q``; and the list read
while freezes, unfreezes and manual tiers are written at the same moment. Every answer is a 200,
and a paging shows each distributor once, frozen ones newest freeze first.

The database is shared with the other race tests of the session (their distributors may be
listed too): the assertions are about this test's own distributors."""
from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.errors import DomainError
from chalicelib.domain.tiers import Tier
from chalicelib.services import distributors
from chalicelib.services.distributors import Filters
from tests.api.conftest import Api
from tests.conftest import MutableClock
from tests.race.test_tier_races import shop

pytestmark = pytest.mark.race

ADMIN = "u-admin"


@pytest.fixture
def clock() -> MutableClock:
    """Later than any other test's clock: this test's freezes are the newest in the shared index."""
    return MutableClock(datetime(2031, 3, 3, 4, 0, tzinfo=UTC))


@pytest.fixture
def api(local_env: Any, clock: MutableClock) -> Iterator[Api]:
    from chalice.test import Client

    import app
    from chalicelib.bootstrap import set_default_deps
    from chalicelib.store.tables import ensure_tables

    ensure_tables()
    set_default_deps(Deps(clock=clock))
    with Client(app.app, stage_name="test") as client:
        yield Api(client)
    set_default_deps(None)


def paged(api: Api, token: str, query: str, limit: int = 1) -> list[str]:
    """Every row of the list under ``query``, ``limit`` rows a page, following ``next``; each
    page a 200."""
    rows: list[str] = []
    cursor: str | None = None
    for _ in range(500):
        after = f"&next={cursor}" if cursor else ""
        status, page = api.call("GET", f"/v1/admin/distributors?limit={limit}{query and '&' + query}{after}",
                                token=token)
        assert status == 200, (query, cursor, page)
        rows += [row["user_id"] for row in page["items"]]
        cursor = page["next"]
        if cursor is None:
            return rows
    raise AssertionError(f"no end to the pages of {query!r}")


def ours(rows: list[str], mine: list[str]) -> list[str]:
    return [row for row in rows if row in mine]


def test_paging_one_row_at_a_time_through_freezes_unfreezes_and_refreezes(api, clock):
    admin, _ = api.login("admin")
    tag = uuid.uuid4().hex[:6]
    made = {name: api.distributor(f"{name}{tag}") for name in ("ann", "bob", "cat", "dan", "eve")}
    ann, bob, cat, dan, eve = (made[name][1] for name in ("ann", "bob", "cat", "dan", "eve"))
    mine = [ann, bob, cat, dan, eve]

    def hold(action: str, user_id: str, body: dict[str, Any] | None = None) -> None:
        clock.advance(seconds=3)
        status, answer = api.call("POST", f"/v1/admin/users/{user_id}/{action}", body or {"reason": "x"}, admin)
        assert status == 200, answer

    hold("freeze", ann)
    hold("freeze", bob)
    hold("freeze", cat)
    hold("tier", cat, {"tier": "partner", "reason": "x"})
    hold("unfreeze", bob)  # frozen, then not
    hold("unfreeze", ann)
    hold("freeze", ann)  # frozen again: listed by the new freeze, once
    hold("freeze", dan)
    hold("unfreeze", dan)
    hold("freeze", dan)
    hold("tier", eve, {"tier": "senior", "reason": "x"})  # never frozen, above the base tier

    frozen = ours(paged(api, admin, "frozen=true"), mine)
    assert frozen == [dan, ann, cat]  # newest freeze first, each once
    assert frozen == ours(paged(api, admin, "frozen=true", limit=2), mine)
    assert sorted(ours(paged(api, admin, "frozen=false"), mine)) == sorted([bob, eve])
    everyone = ours(paged(api, admin, ""), mine)
    assert sorted(everyone) == sorted(mine) and len(everyone) == len(set(everyone))
    assert ours(paged(api, admin, "frozen=true&tier=partner"), mine) == [cat]
    assert ours(paged(api, admin, "frozen=true&tier=regular"), mine) == [dan, ann]
    assert ours(paged(api, admin, "frozen=false&tier=senior"), mine) == [eve]
    assert ours(paged(api, admin, "frozen=true&tier=senior"), mine) == []
    for user_id, code in ((ann, made["ann"][2]), (bob, made["bob"][2])):
        expected = [user_id] if user_id in frozen else []
        assert paged(api, admin, f"frozen=true&q={user_id}") == expected
        assert paged(api, admin, f"frozen=true&q={code}") == expected
    assert ours(paged(api, admin, f"frozen=true&q=cat{tag}"), mine) == [cat]  # a part of the shop name
    assert ours(paged(api, admin, f"frozen=true&tier=regular&q=bob{tag}"), mine) == []


def test_the_frozen_list_read_while_freezes_unfreezes_and_tiers_are_written(deps: Deps):
    """Readers page ``frozen=true`` one row at a time while writers freeze, unfreeze and set
    manual tiers on the same distributors: no read fails, each row is a frozen distributor, and
    no paging shows a distributor twice (a refreeze is newer than any cursor handed out)."""
    users = [shop(deps, f"lst{n}")[0] for n in range(3)]
    writing = threading.Event()
    writing.set()
    failures: list[str] = []
    pagings = [0]

    def write(user_id: str) -> None:
        rnd = random.Random(user_id)
        try:
            for _ in range(12):
                try:
                    op = rnd.choice(("freeze", "unfreeze", "tier"))
                    if op == "freeze":
                        distributors.freeze(user_id, "x", ADMIN, deps)
                    elif op == "unfreeze":
                        distributors.unfreeze(user_id, "x", ADMIN, deps)
                    else:
                        distributors.set_tier(user_id, rnd.choice((Tier.PARTNER, Tier.REGULAR, None)), "x", ADMIN,
                                              deps)
                except DomainError:
                    pass  # already frozen, not frozen: a refusal, not a failure
        except Exception as exc:  # noqa: BLE001 -- collected and asserted below
            failures.append(f"write {user_id}: {exc!r}")

    def read() -> None:
        from chalicelib.api.admin_schemas import DistributorOut

        while writing.is_set():
            try:
                seen: list[str] = []
                cursor: str | None = None
                for _ in range(100):
                    page, cursor = distributors.distributors(Filters(frozen=True), 1, cursor, deps)
                    for row in page:
                        assert row.user.frozen, row.user
                        DistributorOut.of(row.user, row.month_sales_fen, row.wallet)
                    seen += [row.user.user_id for row in page]
                    if cursor is None:
                        break
                assert len(seen) == len(set(seen)), seen
                pagings[0] += 1
            except Exception as exc:  # noqa: BLE001 -- collected and asserted below
                failures.append(f"read: {exc!r}")
                return

    writers = [threading.Thread(target=write, args=(u,)) for u in users]
    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    writing.clear()
    for thread in readers:
        thread.join()
    assert not failures, failures
    assert pagings[0] > 0

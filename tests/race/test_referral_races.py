"""Concurrent callers against DynamoDB Local, whose requests are atomic like DynamoDB's own."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.services import auth, referrals, shops
from tests.race.concurrency import race

pytestmark = pytest.mark.race


def name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def user(deps: Deps, prefix: str = "u") -> str:
    return auth.login(f"dev:{name(prefix)}", deps).user.user_id


def distributor(deps: Deps) -> tuple[str, str]:
    user_id = user(deps, "d")
    code = shops.open_shop(user_id, "shop", deps).invite_code
    assert code
    return user_id, code


def test_ten_concurrent_binds_of_one_user_to_ten_inviters_bind_exactly_once(deps):
    inviters = [distributor(deps) for _ in range(10)]
    me = user(deps)
    outcomes = race([lambda code=code: referrals.bind(me, code, deps) for _, code in inviters])
    codes = Counter(o if isinstance(o, str) else "BOUND" for o in outcomes)
    assert codes == {"BOUND": 1, "ALREADY_BOUND": 9}
    parent = deps.users.get(me).member.parent_id
    counts = {i: deps.users.get(i).member.direct_count for i, _ in inviters}
    assert counts[parent] == 1 and sum(counts.values()) == 1


def test_two_distributors_binding_under_each_other_at_once_never_make_a_loop(deps):
    for _ in range(5):
        a, a_code = distributor(deps)
        b, b_code = distributor(deps)
        for parent_code in (a_code, b_code):  # each has a downline, so a loop is possible
            referrals.bind(user(deps), parent_code, deps)
        outcomes = race(
            [
                lambda a=a, b_code=b_code: referrals.bind(a, b_code, deps),
                lambda b=b, a_code=a_code: referrals.bind(b, a_code, deps),
            ]
        )
        assert sorted(o if isinstance(o, str) else "BOUND" for o in outcomes) == [
            "BOUND",
            "REFERRAL_CYCLE",
        ]
        parents = (deps.users.get(a).member.parent_id, deps.users.get(b).member.parent_id)
        assert parents in ((b, None), (None, a))


def test_twenty_invitees_binding_at_once_are_all_counted(deps):
    top, top_code = distributor(deps)
    middle, middle_code = distributor(deps)
    referrals.bind(middle, top_code, deps)
    invitees = [user(deps) for _ in range(20)]
    outcomes = race([lambda i=i: referrals.bind(i, middle_code, deps) for i in invitees])
    assert all(not isinstance(o, str) for o in outcomes), outcomes
    assert (
        deps.users.get(middle).member.direct_count,
        deps.users.get(middle).member.team_count,
    ) == (20, 20)
    assert (deps.users.get(top).member.direct_count, deps.users.get(top).member.team_count) == (
        1,
        21,
    )


def test_a_shop_opened_from_five_devices_at_once_gets_one_invite_code(deps):
    me = user(deps)
    outcomes = race([lambda: shops.open_shop(me, "shop", deps) for _ in range(5)])
    codes = Counter(o if isinstance(o, str) else "OPENED" for o in outcomes)
    assert codes == {"OPENED": 1, "ALREADY_DISTRIBUTOR": 4}


def test_a_first_login_from_several_devices_at_once_creates_one_new_user(deps):
    code = f"dev:{name('n')}"
    results = race([lambda: auth.login(code, deps) for _ in range(6)])
    assert sum(r.new_user for r in results) == 1
    assert len({r.user.user_id for r in results}) == 1

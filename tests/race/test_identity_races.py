"""Real-name verification under concurrency, on DynamoDB Local: one identity, one account."""
from __future__ import annotations

from collections import Counter

import pytest

from chalicelib.domain.identity import IdNumber
from chalicelib.services import identity
from chalicelib.services.identity import id_number_hash
from tests.race.concurrency import login, race
from tests.race.test_withdrawal_races import id_number

pytestmark = pytest.mark.race


def test_two_accounts_verifying_the_same_number_at_once_exactly_one_succeeds(deps):
    number = id_number()
    users = [login(deps, "idrace") for _ in range(2)]
    for _ in range(3):  # the first round decides; later rounds: the owner again (fine), the other refused
        results = race([lambda u=u: identity.verify_real_name(u, "王五", number, deps) for u in users])
        assert Counter("ok" if isinstance(r, IdNumber) else r for r in results) == {"ok": 1, "ID_NUMBER_IN_USE": 1}
    owner = deps.users.id_number_owner(id_number_hash(number, deps.settings.id_hash_key))
    verified = [u for u in users if deps.users.get(u).real_name_verified]
    assert verified == [owner]


def test_five_accounts_racing_for_one_number_and_the_owner_reverifying_leave_one_owner(deps):
    number = id_number()
    users = [login(deps, "idrace5") for _ in range(5)]
    results = race([lambda u=u: identity.verify_real_name(u, "王五", number, deps) for u in users])
    assert Counter(r if isinstance(r, str) else "ok" for r in results) == {"ok": 1, "ID_NUMBER_IN_USE": 4}
    [owner] = [u for u, r in zip(users, results, strict=True) if isinstance(r, IdNumber)]
    again = race([lambda: identity.verify_real_name(owner, "王五", number, deps) for _ in range(3)])
    assert all(isinstance(r, IdNumber) for r in again), again  # idempotent, even at once
    assert deps.users.id_number_owner(id_number_hash(number, deps.settings.id_hash_key)) == owner
    assert [u for u in users if deps.users.get(u).real_name_verified] == [owner]


def test_both_refusals_at_once_answer_the_callers_own_state_first_on_dynamodb_local(deps):
    """DynamoDB names every refused item of a cancelled transaction; the store reads them by key."""
    mine, theirs = id_number(), id_number()
    me, other = login(deps, "idboth"), login(deps, "idboth")
    identity.verify_real_name(me, "王五", mine, deps)
    identity.verify_real_name(other, "赵六", theirs, deps)
    with pytest.raises(identity.RealNameAlreadyVerified):
        identity.verify_real_name(me, "赵六", theirs, deps)
    fresh = login(deps, "idboth")
    with pytest.raises(identity.IdNumberInUse):
        identity.verify_real_name(fresh, "赵六", theirs, deps)
    assert deps.users.id_number_owner(id_number_hash(theirs, deps.settings.id_hash_key)) == other

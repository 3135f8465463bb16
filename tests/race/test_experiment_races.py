"""Experiments on DynamoDB Local under concurrency: one exposure per user however many first
calls race, every user counted on sharded counters, one conversion per user however many
payments race."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import Rules
from chalicelib.services import experiments
from tests.race.concurrency import login, race

pytestmark = pytest.mark.race


def fresh_experiment(deps: Deps) -> str:
    """A uniquely named experiment (the database lives for the whole session)."""
    name = f"race_{uuid.uuid4().hex[:8]}"
    rules = Rules.model_validate({"experiments": {name: {"variants": {"A": 50, "B": 50}}}})
    deps.settings = deps.settings.model_copy(update={"rules": rules})
    return name


def test_sixteen_first_calls_of_one_user_record_one_exposure(deps: Deps):
    name = fresh_experiment(deps)
    user = login(deps, "racer")
    answers = race([lambda: experiments.variant_for(name, user, deps) for _ in range(16)])
    assert len(set(answers)) == 1 and answers[0] in ("A", "B")
    counts = deps.experiments.counts(name)
    assert sum(c.exposures for c in counts.values()) == 1


def test_forty_users_at_once_are_each_counted_once(deps: Deps):
    name = fresh_experiment(deps)
    users = [login(deps, "crowd") for _ in range(40)]
    answers = race([lambda u=u: experiments.variant_for(name, u, deps) for u in users])
    counts = deps.experiments.counts(name)
    assert {v: c.exposures for v, c in counts.items()} == {v: answers.count(v) for v in set(answers)}
    assert sum(c.exposures for c in counts.values()) == 40


def test_payments_racing_convert_a_user_once(deps: Deps):
    name = fresh_experiment(deps)
    user = login(deps, "buyer")
    variant = experiments.variant_for(name, user, deps)
    paid_at = deps.clock() + timedelta(seconds=1)
    converted = race([lambda: experiments.record_conversions(user, paid_at, deps) for _ in range(12)])
    assert sum(converted) == 1
    assert deps.experiments.counts(name)[variant].conversions == 1

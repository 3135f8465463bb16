"""Concurrent admins against DynamoDB Local: review decisions and lexicon edits happen once."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.materials import MaterialStatus
from chalicelib.services import auth, materials, moderation, shops
from tests.race.concurrency import race

pytestmark = pytest.mark.race


def admins(deps: Deps, n: int) -> list[str]:
    return [auth.login(f"dev:admin{uuid.uuid4().hex[:6]}", deps).user.user_id for _ in range(n)]


def test_admins_deciding_the_same_material_at_once_decide_it_exactly_once(deps):
    deciders = admins(deps, 6)
    for _ in range(3):
        held = materials.publish(deciders[0], "本周上新", "模拟审核：好物推荐", None, (), deps)
        assert held.review_id
        outcomes = race([lambda a=a, i=i, review_id=held.review_id: moderation.decide(review_id, i % 2 == 0, a, deps)
                         for i, a in enumerate(deciders)])
        codes = Counter(o if isinstance(o, str) else o.status.value for o in outcomes)
        assert codes["ALREADY_DECIDED"] == len(deciders) - 1, codes
        (decided,) = [o for o in outcomes if not isinstance(o, str)]
        material = deps.content.get_material(held.material.material_id)
        expected = MaterialStatus.PUBLISHED if decided.status.value == "approved" else MaterialStatus.REJECTED
        assert material.status is expected


def test_two_admins_approving_a_held_shop_name_at_once_apply_it_once(deps):
    owner = auth.login(f"dev:{uuid.uuid4().hex[:8]}", deps).user.user_id
    opened = shops.open_shop_moderated(owner, "模拟审核小店", deps)
    outcomes = race([lambda a=a: moderation.decide(opened.name_review_id, True, a, deps) for a in admins(deps, 2)])
    assert sorted(o if isinstance(o, str) else "APPROVED" for o in outcomes) == ["ALREADY_DECIDED", "APPROVED"]
    assert deps.users.get(owner).shop.name == "模拟审核小店"


def test_concurrent_lexicon_edits_on_the_same_version_save_one_and_refuse_the_others(deps):
    base = deps.content.current_lexicon_version(consistent=True)
    words = [f"禁词{i}" for i in range(4)]
    outcomes = race([lambda w=w: moderation.edit_lexicon(
        [{"word": w, "category": "custom", "verdict": "block"}], [], base, "admin", deps) for w in words])
    saved = [o for o in outcomes if not isinstance(o, str)]
    assert [o for o in outcomes if isinstance(o, str)] == ["LEXICON_CHANGED"] * (len(words) - 1)
    assert [version for version, _ in saved] == [base + 1]
    current = moderation.get_lexicon(None, deps)
    assert current.version == base + 1
    assert len({e.word for e in current.entries} & set(words)) == 1  # no lost update mixed two edits

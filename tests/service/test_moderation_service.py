"""Two-stage moderation, the review queue, lexicon versions and the material library, on moto."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.errors import (
    AlreadyDecided,
    ContentBlocked,
    LexiconChanged,
    MaterialNotFound,
    NotADistributor,
    ReviewNotFound,
    TextTooLong,
)
from chalicelib.domain.materials import MaterialStatus, ReviewKind, ReviewStatus
from chalicelib.domain.moderation import Verdict
from chalicelib.services import auth, materials, moderation, shops, versions


def login(deps: Deps, name: str | None = None) -> str:
    return auth.login(f"dev:{name or uuid.uuid4().hex[:8]}", deps).user.user_id


def admin(deps: Deps) -> str:
    return login(deps, "admin")


def distributor(deps: Deps) -> tuple[str, str]:
    user_id = login(deps)
    user = shops.open_shop(user_id, "好物小店", deps)
    assert user.invite_code
    return user_id, user.invite_code


# Shop names


def test_a_blocked_shop_name_opens_no_shop(deps):
    alice = login(deps)
    with pytest.raises(ContentBlocked) as blocked:
        shops.open_shop(alice, "躺 赚小店", deps)
    assert blocked.value.details["hits"][0]["word"] == "躺赚"
    assert deps.users.get(alice).invite_code is None


def test_a_name_wechat_finds_risky_is_blocked_too(deps):
    with pytest.raises(ContentBlocked) as blocked:
        shops.open_shop(login(deps), "模拟违规小店", deps)
    assert blocked.value.details == {"hits": [], "wechat": "risky"}


@pytest.mark.parametrize(("name", "reason"), [("模拟审核小店", "wechat"), ("全城第一小店", "lexicon"),
                                              ("模拟故障小店", "wechat_unavailable")])
def test_a_held_shop_name_opens_the_shop_under_a_placeholder_until_approved(deps, name, reason):
    alice = login(deps)
    opened = shops.open_shop_moderated(alice, name, deps)
    code = opened.user.invite_code
    assert code and opened.name_review_id and deps.users.get(alice).shop.name == f"小店{code}"
    (review,), _ = moderation.pending_reviews(10, None, deps)
    assert (review.kind, review.ref, review.text, review.reason) == (ReviewKind.SHOP_NAME, alice, name, reason)

    decided = moderation.decide(review.review_id, True, admin(deps), deps)
    assert decided.status is ReviewStatus.APPROVED and deps.users.get(alice).shop.name == name
    assert moderation.pending_reviews(10, None, deps)[0] == []


def test_a_rejected_shop_name_leaves_the_placeholder(deps):
    alice = login(deps)
    opened = shops.open_shop_moderated(alice, "模拟审核小店", deps)
    moderation.decide(opened.name_review_id, False, admin(deps), deps)
    assert deps.users.get(alice).shop.name == f"小店{opened.user.invite_code}"


def test_an_item_is_decided_exactly_once(deps):
    opened = shops.open_shop_moderated(login(deps), "模拟审核小店", deps)
    moderation.decide(opened.name_review_id, True, admin(deps), deps)
    for approve in (True, False):
        with pytest.raises(AlreadyDecided):
            moderation.decide(opened.name_review_id, approve, admin(deps), deps)
    with pytest.raises(ReviewNotFound):
        moderation.decide("nope", True, admin(deps), deps)


# Product copy: the hook the catalogue calls


def test_product_copy_is_checked_held_and_published_through_the_registered_publisher(deps, monkeypatch):
    published = []
    monkeypatch.setattr(moderation, "_PUBLISHERS", {})
    moderation.register_publisher(ReviewKind.PRODUCT, lambda review, ok, d: published.append((review.ref, ok)))
    context = moderation.PublishContext(ReviewKind.PRODUCT, "p-1", admin(deps))
    assert not moderation.check_publishable("补水面膜一盒十片", deps, context).held
    with pytest.raises(ContentBlocked):
        moderation.check_publishable("用了就能根治痘痘", deps, context)
    outcome = moderation.check_publishable("销量第一的面膜", deps, context)
    assert outcome.held and outcome.verdict is Verdict.REVIEW
    review_id = moderation.hold("销量第一的面膜", context, outcome, deps)
    moderation.decide(review_id, True, admin(deps), deps)
    assert published == [("p-1", True)]


# Lexicon versions


def entry(word: str, verdict: str = "block", suggestion: str | None = None) -> dict[str, object]:
    return {"word": word, "category": "custom", "verdict": verdict, "suggestion": suggestion}


def test_a_saved_version_takes_effect_at_once_here_and_after_the_refresh_interval_elsewhere(deps, monkeypatch):
    elsewhere = Deps(clock=deps.clock)  # another Lambda container: its own cache
    assert moderation.moderate({"text": "快买神仙水"}, elsewhere, None).verdict is Verdict.PASS
    version, count = moderation.edit_lexicon([entry("神仙水", suggestion="爽肤水")], [], 1, admin(deps), deps)
    assert version == 2 and count == len(moderation.get_lexicon(1, deps).entries) + 1
    assert moderation.moderate({"text": "快买神仙水"}, deps, None).verdict is Verdict.BLOCK
    assert moderation.moderate({"text": "快买神仙水"}, elsewhere, None).verdict is Verdict.PASS  # cached, for now
    later = versions.time.monotonic() + deps.settings.lexicon_refresh_seconds + 1
    monkeypatch.setattr(versions.time, "monotonic", lambda: later)
    outcome = moderation.moderate({"text": "快买神仙水"}, elsewhere, None)
    assert outcome.verdict is Verdict.BLOCK and outcome.lexicon_version == 2 and outcome.suggested["text"] == "快买爽肤水"


def test_an_edit_on_a_stale_version_is_refused_and_changes_nothing(deps):
    moderation.edit_lexicon([entry("神仙水")], [], 1, admin(deps), deps)
    with pytest.raises(LexiconChanged):
        moderation.edit_lexicon([entry("仙女水")], [], 1, admin(deps), deps)
    view = moderation.get_lexicon(None, deps)
    assert view.version == view.current_version == 2 and "仙女水" not in {e.word for e in view.entries}


def test_removing_a_word_and_replacing_the_lexicon_make_new_versions(deps):
    moderation.edit_lexicon([], ["第一"], 1, admin(deps), deps)
    assert moderation.moderate({"text": "销量第一"}, deps, None).verdict is Verdict.PASS
    assert moderation.save_lexicon([entry("只有我")], 2, admin(deps), deps) == (3, 1)
    assert moderation.moderate({"text": "躺赚只有我"}, deps, None).hits[0][1].word == "只有我"
    assert moderation.get_lexicon(2, deps).version == 2  # old versions stay readable


# The material library


def publish(deps: Deps, text: str = "本周上新：补水面膜买二送一", title: str = "面膜上新") -> materials.Published:
    return materials.publish(admin(deps), title, text, "p-1", ("https://cdn.example.com/1.jpg",), deps)


def test_a_published_material_is_new_this_week_and_shared_with_the_distributors_invite_link(deps):
    material = publish(deps).material
    dist, code = distributor(deps)
    page = materials.week_materials(dist, False, "current", 20, None, deps)
    assert page.week == "2026-W46" and [m.material_id for m in page.materials] == [material.material_id]
    payload = materials.share(dist, material.material_id, deps)
    assert payload.text == material.text and payload.invite_code == code
    assert payload.invite_link == f"/pages/index/index?invite_code={code}&material_id={material.material_id}"
    assert payload.media_urls == ("https://cdn.example.com/1.jpg",)


def test_weeks_are_asia_shanghai_weeks(deps, clock):
    clock.at = datetime(2026, 11, 15, 15, 59, tzinfo=UTC)  # Sunday 23:59 in Shanghai: week 46
    sunday = publish(deps).material
    clock.at = datetime(2026, 11, 15, 16, 1, tzinfo=UTC)  # Monday 00:01 in Shanghai: week 47
    monday = publish(deps).material
    dist, _ = distributor(deps)
    assert [m.material_id for m in materials.week_materials(dist, False, "current", 20, None, deps).materials] == [
        monday.material_id]
    assert [m.material_id for m in materials.week_materials(dist, False, "previous", 20, None, deps).materials] == [
        sunday.material_id]
    assert materials.week_materials(dist, False, "2026-W46", 20, None, deps).week == "2026-W46"


def test_the_library_pages_newest_first(deps, clock):
    ids = []
    for _ in range(5):
        ids.append(publish(deps).material.material_id)
        clock.advance(minutes=1)
    dist, _ = distributor(deps)
    first = materials.week_materials(dist, False, "current", 3, None, deps)
    second = materials.week_materials(dist, False, "current", 3, first.next_cursor, deps)
    assert [m.material_id for m in first.materials + second.materials] == ids[::-1]


def test_a_held_material_is_hidden_until_approved_and_a_rejected_one_never_shows(deps):
    held = publish(deps, text="模拟审核：本周好物")
    rejected = publish(deps, text="销量第一的面膜")
    assert held.review_id and held.material.status is MaterialStatus.PENDING_REVIEW
    dist, _ = distributor(deps)
    assert materials.week_materials(dist, False, "current", 20, None, deps).materials == []
    with pytest.raises(MaterialNotFound):
        materials.share(dist, held.material.material_id, deps)
    moderation.decide(held.review_id, True, admin(deps), deps)
    moderation.decide(rejected.review_id, False, admin(deps), deps)
    listed = materials.week_materials(dist, False, "current", 20, None, deps).materials
    assert [(m.material_id, m.status) for m in listed] == [(held.material.material_id, MaterialStatus.PUBLISHED)]
    assert deps.content.get_material(rejected.material.material_id).status is MaterialStatus.REJECTED


def test_blocked_titles_and_texts_publish_nothing(deps):
    with pytest.raises(ContentBlocked) as blocked:
        publish(deps, title="躺赚秘籍", text="分享给朋友")
    assert blocked.value.details["hits"][0]["field"] == "title"
    with pytest.raises(TextTooLong):
        publish(deps, text="好" * 2001)
    dist, _ = distributor(deps)
    assert materials.week_materials(dist, False, "current", 20, None, deps).materials == []


def test_only_distributors_and_admins_see_the_library_and_only_distributors_share(deps):
    material = publish(deps).material
    shopper = login(deps)
    with pytest.raises(NotADistributor):
        materials.week_materials(shopper, False, "current", 20, None, deps)
    with pytest.raises(NotADistributor):
        materials.share(shopper, material.material_id, deps)
    assert materials.week_materials(shopper, True, "current", 20, None, deps).materials
    dist, _ = distributor(deps)
    with pytest.raises(MaterialNotFound):
        materials.share(dist, "unknown", deps)

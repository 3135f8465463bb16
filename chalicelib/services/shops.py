"""One-click shop opening (一键开店) and the user's own profile."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from chalicelib.domain import moderation
from chalicelib.domain.binding import check_may_promote
from chalicelib.domain.errors import AlreadyDistributor, ContentBlocked, NotFound
from chalicelib.domain.invite_codes import new_invite_code
from chalicelib.domain.materials import ReviewKind, placeholder_shop_name
from chalicelib.domain.moderation import SCENE_PROFILE
from chalicelib.domain.users import Shop, User
from chalicelib.services.moderation import PublishContext, hold
from chalicelib.services.moderation import check_publishable as check_publishable_two_stage
from chalicelib.services.retry import ReadAgain, Reads, run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

ATTEMPTS = 8


def profile(user_id: str, deps: Deps) -> User:
    user = deps.users.get(user_id)
    if user is None:
        raise NotFound("no such user; log in again")
    return user


def check_publishable(text: str) -> None:
    """The lexicon alone, with the default lexicon (kept for callers of the first version).
    Publishing code calls ``services.moderation.check_publishable``: stored lexicon + WeChat."""
    result = moderation.check_text(text)
    if result.verdict is moderation.Verdict.BLOCK:
        raise ContentBlocked("the text contains forbidden wording", hits=[h.as_dict() for h in result.hits])


@dataclass(frozen=True)
class ShopOpened:
    user: User
    name_review_id: str | None = None  # the chosen name waits for review; the shop shows a placeholder
    requested_name: str = ""


def open_shop(user_id: str, shop_name: str, deps: Deps) -> User:
    return open_shop_moderated(user_id, shop_name, deps).user


def open_shop_moderated(user_id: str, shop_name: str, deps: Deps) -> ShopOpened:
    """Make the user a distributor with a unique invite code, if the operator's rules allow.

    The name passes both moderation stages (scene "profile"): blocked → CONTENT_BLOCKED and no
    shop; held for review → the shop opens at once (one-click: the invite code works now) under
    a placeholder name, and the chosen name replaces it when an admin approves it.
    Opened from several devices at once, exactly one call opens the shop; the others read again
    and answer ALREADY_DISTRIBUTOR."""
    user = profile(user_id, deps)
    context = PublishContext(ReviewKind.SHOP_NAME, user_id, user_id, scene=SCENE_PROFILE, openid=user.openid or None)
    outcome = check_publishable_two_stage(shop_name, deps, context)
    read = Reads(user, lambda: profile(user_id, deps))

    def step() -> User:
        user = read()
        if user.invite_code:
            raise AlreadyDistributor("you already have a shop", invite_code=user.invite_code)
        check_may_promote(user.member, deps.settings.rules.binding.policy())
        code, now = new_invite_code(), deps.clock()
        name = placeholder_shop_name(code) if outcome.held else shop_name
        if deps.users.open_shop(user_id, name, code, now) is not None:
            raise ReadAgain("the shop opened meanwhile, or the drawn code was taken")
        return replace(user, invite_code=code, shop=Shop(name, now), member=replace(user.member, is_distributor=True))

    opened = run_until_committed(step, attempts=ATTEMPTS, what="this shop")
    review_id = hold(shop_name, context, outcome, deps) if outcome.held else None
    return ShopOpened(opened, review_id, shop_name)


def grant_promoter(user_id: str, admin_id: str, deps: Deps) -> None:
    """Admin: let a user open a shop under the ``assigned`` or ``spending`` policies; audited
    (``user.promoter``) in the same transaction. Granting again is allowed and audited again."""
    from chalicelib.domain.audit import Action, audit

    member = deps.users.get_member(user_id)
    if member is None:
        raise NotFound("no such user")
    entry = audit(admin_id, Action.USER_PROMOTER, f"user#{user_id}", deps.clock(),
                  {"promoter_granted": member.promoter_granted}, {"promoter_granted": True})
    if not deps.users.grant_promoter(user_id, entry):
        raise NotFound("no such user")

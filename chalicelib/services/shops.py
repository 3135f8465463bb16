"""One-click shop opening (一键开店) and the user's own profile."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.domain import moderation
from chalicelib.domain.binding import check_may_promote
from chalicelib.domain.errors import AlreadyDistributor, ConcurrentUpdate, ContentBlocked, NotFound, Unavailable
from chalicelib.domain.invite_codes import new_invite_code
from chalicelib.domain.users import Shop, User
from chalicelib.services.deps import Deps
from chalicelib.services.retry import backoff

ATTEMPTS = 8


def profile(user_id: str, deps: Deps) -> User:
    user = deps.users.get(user_id)
    if user is None:
        raise NotFound("no such user; log in again")
    return user


def check_publishable(text: str) -> None:
    """Every published text passes moderation first; blocked wording is refused with its hits."""
    result = moderation.check_text(text)
    if result.verdict is moderation.Verdict.BLOCK:
        raise ContentBlocked("the text contains forbidden wording", hits=[h.as_dict() for h in result.hits])


def open_shop(user_id: str, shop_name: str, deps: Deps) -> User:
    """Make the user a distributor with a unique invite code, if the operator's rules allow.

    Opened from several devices at once, exactly one call opens the shop; the others read again
    and answer ALREADY_DISTRIBUTOR."""
    check_publishable(shop_name)
    for attempt in range(ATTEMPTS):
        user = profile(user_id, deps)
        if user.invite_code:
            raise AlreadyDistributor("you already have a shop", invite_code=user.invite_code)
        check_may_promote(user.member, deps.settings.rules.binding.policy())
        code, now = new_invite_code(), deps.clock()
        try:
            outcome = deps.users.open_shop(user_id, shop_name, code, now)
        except ConcurrentUpdate:
            outcome = "conflict"
        if outcome is None:
            return replace(user, invite_code=code, shop=Shop(shop_name, now),
                           member=replace(user.member, is_distributor=True))
        backoff(attempt)  # lost a race, or the drawn code was taken: read again, draw again
    raise Unavailable("too many concurrent changes; retry")


def grant_promoter(user_id: str, deps: Deps) -> None:
    """Admin: let a user open a shop under the ``assigned`` or ``spending`` policies."""
    if not deps.users.grant_promoter(user_id):
        raise NotFound("no such user")

"""The operator's distributors (API.md v1.1 "Operator: settings, distributors, audit"): the list
with its search, the manual tier, the freeze. Each change writes its audit entry in its own
transaction (docs/audit.md); the rules of a manual tier and of a freeze are in docs/referrals.md
"Manual tier" and docs/wallet.md "Frozen distributors".

The list reads one sparse index of 16 shards, merged newest first (``UserStore.listed``):
``frozen_users`` for ``frozen=true``, ``above_base`` for ``tier=senior|partner``, else ``shops``;
then the page's profiles and wallets in one BatchGetItem each. A filter the index does not
decide (the tier within ``above_base``, ``tier=regular``, ``frozen=false``, a name search) is
applied to what was read, over at most ``SEARCH_PAGES`` index pages: such a page may come back
short (even empty) with a ``next`` to read on. ``q`` is first tried exactly as a user id and as
an invite code (direct reads); only when neither names a distributor is it a substring of the
nickname or shop name.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain.audit import Action, audit
from chalicelib.domain.clock import business_month, iso
from chalicelib.domain.distributors import AlreadyFrozen, DistributorNotFound, NotFrozen
from chalicelib.domain.invite_codes import looks_like_invite_code, normalise_invite_code
from chalicelib.domain.tier_moves import manual_change
from chalicelib.domain.tiers import Tier
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.domain.users import User

SEARCH_PAGES = 5  # index pages a filtered page reads at most before it answers (short) with a next


@dataclass(frozen=True)
class Filters:
    tier: Tier | None = None
    frozen: bool | None = None
    q: str | None = None

    def keeps(self, user: User) -> bool:
        if user.shop is None or user.invite_code is None:
            return False
        if self.tier is not None and user.tier is not self.tier:
            return False
        if self.frozen is not None and user.frozen != self.frozen:
            return False
        if self.q:
            needle = self.q.casefold()
            return needle in user.nickname.casefold() or needle in user.shop.name.casefold()
        return True


@dataclass(frozen=True)
class Distributor:
    user: User
    month_sales_fen: int
    wallet: dict[str, int]


def distributors(filters: Filters, limit: int, cursor: str | None, deps: Deps
                 ) -> tuple[list[Distributor], str | None]:
    """A page of distributors, newest shop (or freeze, or tier decision) first, and the next cursor."""
    if filters.q and not cursor:
        exact = _exact(filters.q, deps)
        if exact:
            return with_figures([u for u in exact if Filters(filters.tier, filters.frozen).keeps(u)], deps), None
    source = "frozen_users" if filters.frozen else "above_base" \
        if filters.tier in (Tier.SENIOR, Tier.PARTNER) else "shops"
    kept: list[User] = []
    for _ in range(SEARCH_PAGES):
        ids, cursor = deps.users.listed(source, cursor, limit - len(kept))
        found = deps.users.get_many(ids)
        kept += [found[i] for i in ids if i in found and filters.keeps(found[i])]
        if cursor is None or len(kept) == limit:
            break
    return with_figures(kept, deps), cursor


def _exact(q: str, deps: Deps) -> list[User]:
    """The distributor whose user id is ``q``, and the one whose invite code it is."""
    ids = [q.strip()]
    code = normalise_invite_code(q)
    if looks_like_invite_code(code):
        owner = deps.users.by_invite_code(code)
        if owner:
            ids.append(owner)
    found = deps.users.get_many([i for i in ids if i])
    return [u for u in found.values() if u.shop is not None]


def with_figures(users: list[User], deps: Deps) -> list[Distributor]:
    month = business_month(deps.clock())
    wallets = deps.ledger.wallets([u.user_id for u in users])
    return [Distributor(u, u.sales.of(month), wallets[u.user_id]) for u in users]


def _distributor(user_id: str, deps: Deps) -> User:
    user = deps.users.get(user_id)
    if user is None or user.invite_code is None:
        raise DistributorNotFound("no distributor has this id", user_id=user_id)
    return user


def set_tier(user_id: str, tier: Tier | None, reason: str, admin_id: str, deps: Deps) -> User:
    """Set a manual tier (kept until lifted), or lift it (``tier`` None: the rules' tier on the
    figures now, ``tier_moves.automatic_tier``); audited ``user.tier`` with the tier and the
    manual tier before and after. Setting the tier already manual is allowed (a new reason)."""

    def step() -> User:
        user = _distributor(user_id, deps)
        now = deps.clock()
        change = manual_change(deps.settings.rules.tier_rules(), user, tier, business_month(now))
        entry = audit(admin_id, Action.USER_TIER, f"user#{user_id}", now,
                      _tier_state(user.tier, user.manual_tier), _tier_state(change.tier, tier), reason)
        deps.users.store_manual_tier(change, tier, entry, now)
        return user

    run_until_committed(step, what="this distributor")
    return _distributor(user_id, deps)


def _tier_state(tier: Tier, manual: Tier | None) -> dict[str, str | None]:
    return {"tier": tier.value, "manual_tier": manual.value if manual is not None else None}


def freeze(user_id: str, reason: str, admin_id: str, deps: Deps) -> User:
    """Freeze a distributor (409 ALREADY_FROZEN when they are); audited ``user.freeze``."""

    def step() -> None:
        user = _distributor(user_id, deps)
        if user.frozen_at is not None:
            raise AlreadyFrozen("the distributor is frozen already", frozen_at=iso(user.frozen_at))
        now = deps.clock()
        entry = audit(admin_id, Action.USER_FREEZE, f"user#{user_id}", now, {"frozen_at": None},
                      {"frozen_at": iso(now)}, reason)
        deps.users.freeze(user_id, entry, now)

    run_until_committed(step, what="this distributor")
    return _distributor(user_id, deps)


def unfreeze(user_id: str, reason: str, admin_id: str, deps: Deps) -> User:
    """Lift a freeze (409 NOT_FROZEN when there is none); audited ``user.unfreeze``."""

    def step() -> None:
        user = _distributor(user_id, deps)
        if user.frozen_at is None:
            raise NotFrozen("the distributor is not frozen")
        entry = audit(admin_id, Action.USER_UNFREEZE, f"user#{user_id}", deps.clock(),
                      {"frozen_at": iso(user.frozen_at)}, {"frozen_at": None}, reason)
        deps.users.unfreeze(user_id, user.frozen_at, entry)

    run_until_committed(step, what="this distributor")
    return _distributor(user_id, deps)

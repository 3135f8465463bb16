"""The runtime rules (docs/settings.md): the operator's business rules as numbered, immutable
versions in the admin table, validated before they take effect, audited, and in force in every
process within ``rules_refresh_seconds`` (≤ 10 s) without a deploy.

* Version 1 is the seed: the rules of ``FENXIAO_RULES`` (``Settings.rules``) while nothing is
  saved; the first save stores it as it then is, so every version is immutable from then on.
* ``Deps.rules`` is the one way code reads the rules in force (``RulesCache`` below, on the shared
  ``VersionCache`` of services/versions.py). An order records the version it was placed under
  and every later step of it reads ``Deps.rules_at(order.rules_version)``; a job run reads the
  version in force when it was planned (jobs/engine.py pins it on every slice).
* A save is one transaction: the new version, ``current`` moved from the expected version, and
  the audit entry (store/settings.py); a stale ``expected_version`` is VERSION_CONFLICT.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from chalicelib.config import Rules
from chalicelib.domain.audit import Action, audit
from chalicelib.domain.errors import InvalidRules, SettingsVersionNotFound, VersionConflict
from chalicelib.domain.invariants import holds, present
from chalicelib.services.retry import ReadAgain, run_until_committed
from chalicelib.services.versions import VersionCache

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.bootstrap import Deps
    from chalicelib.store.settings import SettingsStore, Version

SEED = 1
# A version's JSON stays this small, so an audit entry holding the rules before and after fits its
# 100 KB bound (domain/audit.py MAX_STATE_BYTES) with room to spare.
MAX_RULES_BYTES = 45_000
# Versions a process keeps parsed: the one in force and those of orders still in flight.
KEPT_VERSIONS = 16
MAX_CHANGED_PATHS = 50


class RulesCache:
    """The process's rules: the number in force re-read at most every ``refresh_seconds``, each
    version parsed once. The seed is passed in by ``Deps`` (it is the environment's)."""

    def __init__(self) -> None:
        self._versions = VersionCache[Rules](keep=KEPT_VERSIONS)

    def current(self, store: SettingsStore, refresh_seconds: float) -> int:
        return self._versions.current(refresh_seconds, store.current_version)

    def at(self, version: int, store: SettingsStore, refresh_seconds: float, seed: Rules) -> Rules:
        """Version ``version``'s rules. Version 1 is the seed until a save stores it (in the same
        transaction that moves ``current`` past 1: while ``current`` is 1, it is not stored)."""
        if version == SEED and self.current(store, refresh_seconds) == SEED:
            return seed

        def load(number: int) -> Rules:
            stored = present(store.version(number), f"the settings version {number}")
            return Rules.model_validate(stored.rules)

        return self._versions.value(version, load)

    def invalidate(self) -> None:
        self._versions.invalidate()


@dataclass(frozen=True)
class SettingsView:
    version: int
    rules: dict[str, Any]
    updated_at: datetime | None
    updated_by: str | None


def as_json(rules: Rules) -> dict[str, Any]:
    return rules.model_dump(mode="json")


def parse_rules(raw: dict[str, Any]) -> Rules:
    """The rules of a JSON document (omitted fields take their defaults, as ``FENXIAO_RULES``
    does), or INVALID_RULES listing every reason: each field pydantic refuses with its path, and
    the cross-field checks (a tier ladder out of order, an invitation ladder, experiments).
    Strict, as JSON: a number given as a string is refused, not guessed at."""
    try:
        rules = Rules.model_validate_json(_dumps(raw), strict=True)
    except ValidationError as exc:
        reasons = [{"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                   for e in exc.errors(include_url=False, include_input=False)]
        raise InvalidRules("the rules are invalid", reasons=reasons) from exc
    size = len(_dumps(as_json(rules)).encode())
    if size > MAX_RULES_BYTES:
        raise InvalidRules("the rules are too large",
                           reasons=[{"path": "", "message": f"the rules are {size} bytes as JSON, over "
                                                            f"{MAX_RULES_BYTES}"}])
    return rules


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """The dotted paths of the leaves that differ (a list or a value counts as one leaf)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [path for key in sorted(set(before) | set(after))
                for path in changed_paths(before.get(key), after.get(key), f"{prefix}{key}.")]
    return [] if before == after else [prefix.rstrip(".")]


def current(deps: Deps) -> SettingsView:
    """``GET /v1/admin/settings``: the version in force now (read consistently, not cached)."""
    number = deps.settings_store.current_version(consistent=True)
    if number == SEED:  # nothing saved yet: the seed, from the environment
        return SettingsView(SEED, as_json(deps.rules_at(SEED)), None, None)
    stored = present(deps.settings_store.version(number), f"the settings version {number} in force")
    return SettingsView(stored.version, stored.rules, stored.at, stored.by)


def save(raw: dict[str, Any], expected_version: int, admin_id: str, deps: Deps, reason: str | None = None) -> int:
    """``PUT /v1/admin/settings``: validate (``parse_rules``, then the catalogue's margin guard:
    ``check_margins``), then save as version ``expected_version + 1``.
    VERSION_CONFLICT (409) when the version in force is not ``expected_version``; nothing
    changes on any refusal. Returns the new version."""
    rules = parse_rules(raw)
    check_margins(rules, deps)
    return _commit(as_json(rules), expected_version, admin_id, Action.SETTINGS_UPDATE, {}, reason, deps)


def _payout_levers(rules: Rules) -> tuple[int, int]:
    """What the margin guard of a product depends on in the rules: the top tier's uplift, the team bonus."""
    return max((r.uplift_bp for r in rules.tier_rules().rules), default=0), rules.commission.team_bonus_bp


def check_margins(rules: Rules, deps: Deps) -> None:
    """Refuse rules under which a listed product's largest payout (partner level 1 + level 2 +
    team bonus, domain/orders.check_margin) would exceed its margin: the guard that refuses such
    a product at creation holds for the catalogue as the rules change. Only read when the rules
    raise the top uplift or the team bonus (otherwise no product can newly break it): the listed
    catalogue, a page of 100 at a time. INVALID_RULES names each product (the first 20)."""
    from chalicelib.domain.orders import CommissionExceedsMargin, check_margin

    uplift, bonus = _payout_levers(rules)
    old_uplift, old_bonus = _payout_levers(deps.rules_at(deps.settings_store.current_version(consistent=True)))
    if uplift <= old_uplift and bonus <= old_bonus:
        return
    reasons: list[dict[str, str]] = []
    cursor: str | None = None
    while True:
        products, cursor = deps.products.list(None, 100, cursor)
        for product in products:
            try:
                check_margin(product, uplift, bonus)
            except CommissionExceedsMargin as exc:
                reasons.append({"path": "", "message": (
                    f"product {product.product_id} ({product.name}) would pay out up to "
                    f"{exc.details['largest_payout_fen']} fen at {exc.details['price_fen']} fen, over its margin of "
                    f"{exc.details['margin_fen']} fen (top uplift {uplift} bp, team bonus {bonus} bp)")})
        if cursor is None:
            break
    if reasons:
        raise InvalidRules(f"{len(reasons)} listed product(s) would pay out more than their margin",
                           reasons=reasons[:20], products_over_margin=len(reasons))


def rollback(version: int, admin_id: str, deps: Deps, reason: str | None = None) -> int:
    """``POST /v1/admin/settings/rollback``: a new version equal to version ``version`` (which
    stays as it was). SETTINGS_VERSION_NOT_FOUND (404) for a number never saved; INVALID_RULES
    when the catalogue listed since would break the margin guard under it (``check_margins``). A save landing
    meanwhile is no conflict here: the rollback reads the version in force again and applies."""
    target = _version(version, deps)
    check_margins(Rules.model_validate(target), deps)

    def step() -> int:
        expected = deps.settings_store.current_version(consistent=True)
        try:
            return _commit(target, expected, admin_id, Action.SETTINGS_ROLLBACK, {"rollback_of": version}, reason,
                           deps)
        except VersionConflict as exc:
            raise ReadAgain("another save landed meanwhile") from exc

    return run_until_committed(step, what="the settings")


def _version(version: int, deps: Deps) -> dict[str, Any]:
    """Version ``version``'s rules; the seed while nothing is saved. The first save stores version
    1 with it, so a version 1 missing while ``current`` has moved past it was saved meanwhile."""
    stored = deps.settings_store.version(version)
    if stored is None and version == SEED:
        if deps.settings_store.current_version(consistent=True) == SEED:
            return as_json(deps.rules_at(SEED))
        stored = deps.settings_store.version(SEED)
    if stored is None:
        raise SettingsVersionNotFound(f"no settings version {version}", version=version)
    return stored.rules


def _seed(expected: int, deps: Deps) -> dict[str, Any]:
    holds(expected == SEED, "a version in force is stored, but for the seed")
    return as_json(deps.rules_at(SEED))


def _commit(after: dict[str, Any], expected: int, admin_id: str, action: Action, changes: dict[str, Any],
            reason: str | None, deps: Deps) -> int:
    from chalicelib.store.settings import Version

    def step() -> int:
        in_force = deps.settings_store.current_version(consistent=True)
        if in_force != expected:
            raise VersionConflict(f"the settings are at version {in_force}, not {expected}; read them again and "
                                  "re-apply the edit", expected_version=expected, current_version=in_force)
        replaced = deps.settings_store.version(expected)
        before = replaced.rules if replaced is not None else _seed(expected, deps)
        # over the seed, version 1 is stored with this save (a first save meanwhile fails its condition)
        seed = before if replaced is None else None
        now, number = deps.clock(), expected + 1
        paths = changed_paths(before, after)
        new = Version(number, after, now, admin_id, {**changes, "changed": paths[:MAX_CHANGED_PATHS]})
        entry = audit(admin_id, action, f"settings#{number}", now, before, after, reason)
        deps.settings_store.save(expected, new, seed, entry)  # VERSION_CONFLICT, or a lost race: again
        return number

    number = run_until_committed(step, what="the settings")
    deps.rules_cache.invalidate()
    return number


def history(limit: int, cursor: str | None, deps: Deps) -> tuple[list[Version], str | None]:
    """``GET /v1/admin/settings/versions``: newest first; before any save, the seed alone."""
    from chalicelib.store.settings import Version

    versions, next_cursor = deps.settings_store.history(limit, cursor)
    if not versions and cursor is None:
        return [Version(SEED, as_json(deps.rules_at(SEED)), None, None, {"seed": True})], None
    return versions, next_cursor

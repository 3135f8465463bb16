"""Moderation of every published text: our lexicon, then WeChat's msgSecCheck; the review queue;
lexicon versions edited by admins (docs/moderation.md).

Two stages: the lexicon (the stored current version, compiled once per process and rebuilt
when the version changes) decides first; a text it does not block goes to WeChat, whose
``risky`` blocks and ``review`` holds. When WeChat cannot answer, the text is held for a person
rather than published unchecked or refused.

Publishing code calls ``check_publishable``: a blocked text raises CONTENT_BLOCKED with the
hits; a held one comes back with ``held`` set, and the caller stores its thing unpublished and
calls ``hold`` (materials do both in one transaction). ``decide`` approves or rejects a held
item exactly once.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.domain.audit import Action, audit
from chalicelib.domain.errors import (
    AlreadyDecided,
    ContentBlocked,
    LexiconChanged,
    NotFound,
    ReviewNotFound,
    Unavailable,
)
from chalicelib.domain.materials import Review, ReviewKind, ReviewStatus
from chalicelib.domain.moderation import (
    SCENE_SOCIAL,
    WECHAT_VERDICT,
    Entry,
    Hit,
    Matcher,
    Verdict,
    default_entries,
    parse_entries,
    worst,
)
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

ATTEMPTS = 5


@dataclass(frozen=True)
class PublishContext:
    """What a text is published as: ``kind`` (shop_name, material, product), ``ref`` (the id of
    the thing), its author and their openid (looked up when absent; WeChat wants the openid of
    a user who opened the mini-program in the last two hours), WeChat's scene, a title."""

    kind: ReviewKind
    ref: str
    author_id: str
    openid: str | None = None
    scene: int = SCENE_SOCIAL
    title: str | None = None


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    hits: tuple[tuple[str, Hit], ...]  # (field, hit)
    suggested: dict[str, str]  # field → text with suggestions applied
    lexicon_version: int
    wechat: str  # pass | review | risky | skipped (lexicon blocked) | unavailable

    @property
    def held(self) -> bool:
        return self.verdict is Verdict.REVIEW

    @property
    def reason(self) -> str:
        lexicon = worst(*(h.verdict for _, h in self.hits))
        if lexicon is self.verdict:
            return "lexicon"
        return "wechat_unavailable" if self.wechat == "unavailable" else "wechat"

    def hit_dicts(self) -> list[dict[str, Any]]:
        return [{**hit.as_dict(), "field": name} for name, hit in self.hits]


class LexiconCache:
    """The process's compiled lexicon. The stored version number is read at most every
    ``lexicon_refresh_seconds`` (one small GetItem); the matcher is rebuilt only when it changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matcher: Matcher | None = None
        self._checked = 0.0

    def matcher(self, deps: Deps) -> Matcher:
        now = time.monotonic()
        matcher = self._matcher
        if matcher is not None and now - self._checked < deps.settings.lexicon_refresh_seconds:
            return matcher
        with self._lock:
            version = deps.content.current_lexicon_version()
            if self._matcher is None or self._matcher.version != version:
                self._matcher = Matcher(load_entries(version, deps), version)
            self._checked = now
            return self._matcher

    def invalidate(self) -> None:
        self._checked = 0.0


def load_entries(version: int, deps: Deps) -> tuple[Entry, ...]:
    if version == 1:
        return default_entries()
    stored = deps.content.lexicon(version)
    if stored is None:
        raise NotFound(f"no lexicon version {version}")
    return tuple(Entry(*row) for row in stored[0])


def moderate(fields: Mapping[str, str], deps: Deps, openid: str | None, scene: int = SCENE_SOCIAL) -> Outcome:
    """Both stages over the named fields (``text``, and ``title`` where there is one)."""
    matcher = deps.lexicon_cache.matcher(deps)
    checked = {name: matcher.check(value) for name, value in fields.items()}
    hits = tuple((name, hit) for name, result in checked.items() for hit in result.hits)
    suggested = {name: result.suggested_text for name, result in checked.items()}
    verdict = worst(*(r.verdict for r in checked.values()))
    if verdict is Verdict.BLOCK or openid is None:
        return Outcome(verdict, hits, suggested, matcher.version, "skipped")
    try:
        sec = deps.content_security.check(fields.get("text", ""), openid, scene, fields.get("title"))
    except Unavailable:
        return Outcome(worst(verdict, Verdict.REVIEW), hits, suggested, matcher.version, "unavailable")
    return Outcome(worst(verdict, WECHAT_VERDICT[sec.suggest]), hits, suggested, matcher.version, sec.suggest)


def check(text: str, user_id: str, deps: Deps) -> Outcome:
    """``POST /v1/moderation/check``: both stages, nothing stored."""
    user = deps.users.get(user_id, consistent=False)
    return moderate({"text": text}, deps, user.openid if user else None)


def check_publishable(text: str, deps: Deps, context: PublishContext) -> Outcome:
    """The gate every published text passes (shop names, materials, product copy).

    Raises CONTENT_BLOCKED (422, with ``hits``) for a blocked text. Otherwise returns the
    outcome: when ``outcome.held``, store the thing unpublished and call ``hold``; on approval
    the function registered with ``register_publisher`` for its kind runs."""
    openid = context.openid
    if openid is None:
        author = deps.users.get(context.author_id, consistent=False)
        openid = author.openid if author else None
    fields = {"title": context.title, "text": text} if context.title else {"text": text}
    outcome = moderate(fields, deps, openid, context.scene)
    if outcome.verdict is Verdict.BLOCK:
        raise ContentBlocked("the text contains forbidden wording", hits=outcome.hit_dicts(), wechat=outcome.wechat)
    return outcome


def new_review(text: str, context: PublishContext, outcome: Outcome, deps: Deps,
               extra: dict[str, str] | None = None) -> Review:
    return Review(uuid.uuid4().hex, context.kind, context.ref, text, context.author_id, deps.clock(), outcome.reason,
                  tuple(outcome.hit_dicts()), context.title, extra=extra or {})


def hold(text: str, context: PublishContext, outcome: Outcome, deps: Deps, extra: dict[str, str] | None = None) -> str:
    """Put a held text in the review queue; returns the review id."""
    review = new_review(text, context, outcome, deps, extra)
    deps.content.put_review(review)
    return review.review_id


# Effects that live outside the content table (products: issue 3) run after the decision.
Publisher = Callable[[Review, bool, "Deps"], None]
_PUBLISHERS: dict[ReviewKind, Publisher] = {}


def register_publisher(kind: ReviewKind, publisher: Publisher) -> None:
    """Run ``publisher(review, approved, deps)`` after each decision on an item of ``kind``."""
    _PUBLISHERS[kind] = publisher


def pending_reviews(limit: int, cursor: str | None, deps: Deps) -> tuple[list[Review], str | None]:
    return deps.content.pending_reviews(limit, cursor)


def decide(review_id: str, approve: bool, admin_id: str, deps: Deps) -> Review:
    """Approve or reject a held item, exactly once: ALREADY_DECIDED (409) for the second."""

    def step() -> Review:
        review = deps.content.get_review(review_id)
        if review is None:
            raise ReviewNotFound("no such review item", review_id=review_id)
        if review.status is not ReviewStatus.PENDING:
            raise AlreadyDecided(f"this item was {review.status.value} already", review_id=review_id,
                                 status=review.status.value)
        now = deps.clock()
        entry = audit(admin_id, Action.REVIEW_APPROVE if approve else Action.REVIEW_REJECT,
                      f"review#{review_id}", now, {"status": review.status.value},
                      {"status": "approved" if approve else "rejected", "kind": review.kind.value, "ref": review.ref})
        deps.content.decide(review, approve, admin_id, now, entry)  # a concurrent decision: read again
        return review

    review = run_until_committed(step, attempts=ATTEMPTS, what="this review")
    if review.kind in _PUBLISHERS:
        _PUBLISHERS[review.kind](review, approve, deps)
    return deps.content.get_review(review_id) or review


@dataclass(frozen=True)
class LexiconView:
    version: int
    current_version: int
    entries: tuple[Entry, ...]
    updated_at: Any = None
    updated_by: str | None = None


def get_lexicon(version: int | None, deps: Deps) -> LexiconView:
    current = deps.content.current_lexicon_version(consistent=True)
    wanted = version or current
    if wanted == 1:
        return LexiconView(1, current, default_entries())
    stored = deps.content.lexicon(wanted)
    if stored is None:
        raise NotFound(f"no lexicon version {wanted}")
    rows, updated_at, updated_by = stored
    return LexiconView(wanted, current, tuple(Entry(*row) for row in rows), updated_at, updated_by)


def save_lexicon(rows: Sequence[Mapping[str, Any]], base_version: int, admin_id: str, deps: Deps) -> tuple[int, int]:
    """Replace the lexicon: (new version, entries), unless another edit saved a version since
    ``base_version`` (LEXICON_CHANGED, 409). Live in every process within the refresh interval.
    Audited ``lexicon.edit`` in the same transaction, with the words it added, changed, removed."""
    entries = parse_entries(rows)
    Matcher(entries)  # compiles, or fails here rather than in the next check
    table = [[e.word, e.category, e.verdict, e.suggestion] for e in entries]
    try:
        changes = _lexicon_changes(get_lexicon(base_version, deps).entries, entries)
    except NotFound as exc:  # a version never saved: the save's condition refuses it as ever
        raise LexiconChanged(f"the lexicon has no version {base_version}; read it again and re-apply the edit") from exc

    def step() -> int:
        now = deps.clock()
        entry = audit(admin_id, Action.LEXICON_EDIT, "lexicon", now, {"version": base_version},
                      {"version": base_version + 1, "entries": len(entries), **changes})
        return deps.content.save_lexicon(base_version, table, admin_id, now, entry)

    # cancelled by a concurrent transaction: try again (then its condition decides)
    version = run_until_committed(step, attempts=ATTEMPTS, what="the lexicon")
    deps.lexicon_cache.invalidate()
    return version, len(entries)


AUDITED_WORDS = 200  # words named by a lexicon edit's audit entry, of each kind (the counts are whole)


def _lexicon_changes(before: Sequence[Entry], after: Sequence[Entry]) -> dict[str, Any]:
    """What an edit did, by word, for its audit entry: added, changed and removed words (the
    first ``AUDITED_WORDS`` of each) and their counts."""
    old, new = {e.word: e for e in before}, {e.word: e for e in after}
    kinds = {"added": sorted(w for w in new if w not in old),
             "changed": sorted(w for w in new if w in old and new[w] != old[w]),
             "removed": sorted(w for w in old if w not in new)}
    return {**{k: words[:AUDITED_WORDS] for k, words in kinds.items()},
            **{f"{k}_count": len(words) for k, words in kinds.items()}}


def edit_lexicon(add: list[Mapping[str, Any]], remove: list[str], base_version: int, admin_id: str,
                 deps: Deps) -> tuple[int, int]:
    """Add (or replace, by word) and remove entries of version ``base_version``; a new version."""
    base = get_lexicon(base_version, deps).entries
    replaced = {e["word"] for e in add if isinstance(e.get("word"), str)} | set(remove)
    rows = [e.as_dict() for e in base if e.word not in replaced] + [dict(e) for e in add]
    return save_lexicon(rows, base_version, admin_id, deps)

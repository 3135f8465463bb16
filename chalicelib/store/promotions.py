"""The promotions' table (setting ``promotions_table``, env ``PROMOTIONS_TABLE``): the operator's
promotions, their counters and the coupons users hold (docs/promotions.md "Running a promotion").

Items (``pk``, ``sk``):
* ``("promo#<id>", "def")``: a promotion (``domain.promotions.Promotion``; its terms as JSON). It
  carries ``all_part``/``all_key`` (GSI ``all_promotions``: the operator's list, newest first)
  and, until it is ended, ``run_part``/``run_until`` (sparse GSI ``running``: the promotions whose
  end has not passed: what buyers see and every quote prices with);
* ``("promo#<id>", "claims")``: ``claimed``, the coupons of a ``coupon`` promotion claimed so
  far, conditioned ``claimed < total`` on each claim;
* ``("promo#<id>", "budget")``: ``spent_fen``, what a loss leader gave away so far, conditioned
  ``spent_fen + this ≤ budget_fen`` by each order that takes it (``spend_budget_part``);
* ``("u#<user>", "claimed#<promotion id>")``: ``claimed``, the user's coupons of that promotion,
  conditioned ``claimed < per_user``;
* ``("coupon#<coupon id>", "coupon")``: a coupon (``domain.promotions.Coupon``), keyed by its id
  alone (checkout names it); ``owner``/``owner_key`` (GSI ``by_owner``: a user's coupons, newest
  first); ``order_id`` while an order uses it; ``valid_until`` ISO text in UTC, so the use's
  condition compares it as text.

Access patterns: create / end a promotion → TransactWriteItems (definition + audit entry); the
operator's list → Query ``all_promotions`` newest first + BatchGetItem (the page's counters);
what runs now → Query ``running`` (``run_until > now``; a handful of items), cached per process
for ``rules_refresh_seconds`` (``running``); claim → TransactWriteItems (claims counter, the
user's counter, the coupon put absent); the new-user red packet → PutItem (absent: its id is
fixed by the promotion and the user); a user's coupons → Query ``by_owner``; a coupon at checkout
→ GetItem (consistent); its use, give-back and a loss leader's spending → an update in the
order's own TransactWriteItems (the ``*_part`` functions).

Keys: the definitions and both promotion indexes are written by operator actions only. A claim
writes its promotion's ``claims`` item: ≈ 500 claims a second per coupon promotion (a
transactional write costs 2 of an item's 1,000 WCU/s). A loss leader's ``budget`` item takes a
write per order that takes it: ≈ 500 such orders a second per loss leader. Coupons, ``by_owner``
and the per-user counters are one user's or one coupon's own: never a partition the whole mall
writes per order.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.invariants import present
from chalicelib.domain.promotion_rules import CouponExhausted, CouponLimitReached
from chalicelib.domain.promotions import (
    BundleTerms,
    Coupon,
    CouponTerms,
    FullGiftTerms,
    ItemRef,
    MemberDayTerms,
    Promotion,
    PromotionKind,
    Terms,
)
from chalicelib.store.audit import entry_put
from chalicelib.store.base import BaseMeta, StoreModel, condition_failed, paginate, transaction_failure
from chalicelib.store.order_items import TxPart

DEF, CLAIMS, BUDGET, COUPON = "def", "claims", "budget", "coupon"
ALL, RUN = "all", "run"


class AllPromotions(GlobalSecondaryIndex["PromotionItem"]):
    """Every promotion, newest first (the operator's list)."""

    class Meta:
        index_name = "all_promotions"
        projection = AllProjection()

    all_part = UnicodeAttribute(hash_key=True)
    all_key = UnicodeAttribute(range_key=True)


class Running(GlobalSecondaryIndex["PromotionItem"]):
    """Promotions not ended by the operator, by their scheduled end (sparse)."""

    class Meta:
        index_name = "running"
        projection = AllProjection()

    run_part = UnicodeAttribute(hash_key=True)
    run_until = UnicodeAttribute(range_key=True)


class ByOwner(GlobalSecondaryIndex["PromotionItem"]):
    """A user's coupons by their grant (sparse: coupons only)."""

    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    owner_key = UnicodeAttribute(range_key=True)


class PromotionItem(StoreModel):
    class Meta(BaseMeta):
        table_name = get_settings().promotions_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # a promotion
    kind = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    terms = UnicodeAttribute(null=True)  # JSON
    starts_at = UTCDateTimeAttribute(null=True)
    ends_at = UTCDateTimeAttribute(null=True)
    ended_at = UTCDateTimeAttribute(null=True)
    loss_leader = BooleanAttribute(null=True)
    budget_fen = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    all_part = UnicodeAttribute(null=True)
    all_key = UnicodeAttribute(null=True)
    run_part = UnicodeAttribute(null=True)
    run_until = UnicodeAttribute(null=True)
    # counters
    claimed = NumberAttribute(null=True)
    spent_fen = NumberAttribute(null=True)
    # a coupon
    promotion_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    amount_fen = NumberAttribute(null=True)
    min_spend_fen = NumberAttribute(null=True)
    granted_at = UTCDateTimeAttribute(null=True)
    valid_until = UnicodeAttribute(null=True)  # ISO text in UTC: compared as text by the use's condition
    order_id = UnicodeAttribute(null=True)
    used_at = UTCDateTimeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    owner_key = UnicodeAttribute(null=True)

    all_promotions = AllPromotions()
    running = Running()
    by_owner = ByOwner()


@dataclass(frozen=True)
class PromotionRow:
    """A promotion on the operator's list, with its counters."""

    promotion: Promotion
    claimed: int = 0  # coupons claimed (a ``coupon``)
    spent_fen: int = 0  # given away (a loss leader)


def iso(at: datetime) -> str:
    """A time as the tables compare it: UTC to the microsecond, ``Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def promo_pk(promotion_id: str) -> str:
    return f"promo#{promotion_id}"


def coupon_pk(coupon_id: str) -> str:
    return f"coupon#{coupon_id}"


# Terms as JSON --------------------------------------------------------------------------------

def terms_json(terms: Terms) -> str:
    return json.dumps(asdict(terms), ensure_ascii=False, sort_keys=True)


def terms_of(kind: PromotionKind, text: str) -> Terms:
    raw: dict[str, Any] = json.loads(text)
    if kind in (PromotionKind.COUPON, PromotionKind.NEW_USER_COUPON):
        return CouponTerms(**raw)
    if kind is PromotionKind.FULL_GIFT:
        return FullGiftTerms(min_spend_fen=raw["min_spend_fen"], gift=ItemRef(**raw["gift"]))
    if kind is PromotionKind.BUNDLE:
        return BundleTerms(items=tuple(ItemRef(**i) for i in raw["items"]), price_fen=raw["price_fen"])
    return MemberDayTerms(weekday=raw["weekday"], discount_bp=raw["discount_bp"], categories=tuple(raw["categories"]))


def _definition_item(p: Promotion) -> PromotionItem:
    created = present(p.created_at, "a new promotion's creation time")
    return PromotionItem(promo_pk(p.promotion_id), DEF, kind=p.kind.value, title=p.title, terms=terms_json(p.terms),
                         starts_at=p.starts_at, ends_at=p.ends_at, ended_at=p.ended_at, loss_leader=p.loss_leader,
                         budget_fen=p.budget_fen, created_at=created, created_by=p.created_by, all_part=ALL,
                         all_key=f"{iso(created)}#{p.promotion_id}", run_part=None if p.ended_at else RUN,
                         run_until=None if p.ended_at else iso(p.ends_at))


def to_promotion(item: PromotionItem) -> Promotion:
    kind = PromotionKind(item.kind)
    return Promotion(promotion_id=item.pk.removeprefix("promo#"), kind=kind, title=item.title or "",
                     terms=terms_of(kind, present(item.terms, "a promotion's terms")),
                     starts_at=present(item.starts_at, "a promotion's start"),
                     ends_at=present(item.ends_at, "a promotion's end"), ended_at=item.ended_at,
                     loss_leader=bool(item.loss_leader),
                     budget_fen=int(item.budget_fen) if item.budget_fen is not None else None,
                     created_at=item.created_at, created_by=item.created_by)


def _coupon_item(c: Coupon) -> PromotionItem:
    return PromotionItem(coupon_pk(c.coupon_id), COUPON, promotion_id=c.promotion_id, kind=c.kind.value,
                         user_id=c.user_id, title=c.title, amount_fen=c.amount_fen, min_spend_fen=c.min_spend_fen,
                         granted_at=c.granted_at, valid_until=iso(c.valid_until), order_id=c.order_id,
                         used_at=c.used_at, owner=c.user_id, owner_key=f"{iso(c.granted_at)}#{c.coupon_id}")


def to_coupon(item: PromotionItem) -> Coupon:
    return Coupon(coupon_id=item.pk.removeprefix("coupon#"), promotion_id=item.promotion_id or "",
                  kind=PromotionKind(item.kind), user_id=item.user_id or "", title=item.title or "",
                  amount_fen=int(item.amount_fen or 0), min_spend_fen=int(item.min_spend_fen or 0),
                  granted_at=present(item.granted_at, "a coupon's grant"),
                  valid_until=datetime.fromisoformat(present(item.valid_until, "a coupon's validity")),
                  order_id=item.order_id, used_at=item.used_at)


def _transaction() -> TransactWrite:
    return TransactWrite(connection=PromotionItem._get_connection().connection)


class PromotionStore:
    """Repository of promotions and coupons. ``running`` keeps what runs now for
    ``refresh_seconds`` in this process (the rules' refresh: "in force within seconds");
    the process that creates or ends a promotion forgets it at once."""

    def __init__(self, refresh_seconds: float | None = None) -> None:
        self.refresh_seconds = get_settings().rules_refresh_seconds if refresh_seconds is None else refresh_seconds
        self._cached: tuple[float, list[Promotion]] | None = None

    # -- the operator's promotions ------------------------------------------------------------
    def create(self, promotion: Promotion, entry: AuditEntry) -> None:
        """Put a new promotion (absent) with its audit entry, in one transaction."""
        tx = _transaction()
        try:
            with tx:
                tx.save(_definition_item(promotion), condition=PromotionItem.pk.does_not_exist())
                entry_put(tx, entry)
        except TransactWriteError as exc:
            raise transaction_failure(exc, tx) from exc
        finally:
            self._cached = None

    def get(self, promotion_id: str, consistent: bool = True) -> Promotion | None:
        try:
            return to_promotion(PromotionItem.get(promo_pk(promotion_id), DEF, consistent_read=consistent))
        except PromotionItem.DoesNotExist:
            return None

    def end(self, promotion_id: str, at: datetime, entry: AuditEntry) -> None:
        """End a promotion now (``ended_at``; out of ``running``) with its audit entry, on the
        condition that nobody ended it before (TransactionFailed: the caller reads again)."""
        tx = _transaction()
        try:
            with tx:
                tx.update(PromotionItem(promo_pk(promotion_id), DEF),
                          actions=[PromotionItem.ended_at.set(at), PromotionItem.run_part.remove(),
                                   PromotionItem.run_until.remove()],
                          condition=PromotionItem.pk.exists() & PromotionItem.ended_at.does_not_exist())
                entry_put(tx, entry)
        except TransactWriteError as exc:
            raise transaction_failure(exc, tx) from exc
        finally:
            self._cached = None

    def page(self, limit: int, cursor: str | None) -> tuple[list[PromotionRow], str | None]:
        """Every promotion, newest first, with its counters (one BatchGetItem a page)."""
        promotions, next_cursor = paginate(PromotionItem.all_promotions, ALL, cursor, to_promotion,
                                           scan_index_forward=False, limit=limit)
        keys = [(promo_pk(p.promotion_id), sk) for p in promotions for sk in (CLAIMS, BUDGET)]
        counters = {(i.pk, i.sk): i for i in PromotionItem.batch_get(keys)} if keys else {}

        def count(p: Promotion, sk: str, name: str) -> int:
            item = counters.get((promo_pk(p.promotion_id), sk))
            return int(getattr(item, name) or 0) if item else 0

        return [PromotionRow(p, count(p, CLAIMS, "claimed"), count(p, BUDGET, "spent_fen")) for p in promotions], \
            next_cursor

    def not_ended(self, now: datetime) -> list[Promotion]:
        """Every promotion not ended whose end is after ``now``, started or not (one Query)."""
        return [to_promotion(i) for i in PromotionItem.running.query(RUN, PromotionItem.run_until > iso(now))]

    def invalidate(self) -> None:
        """Forget the list: the next ``running`` reads it (tests and ``make bench`` read it before
        an act, as they read the rules, so the act's calls never include a refresh)."""
        self._cached = None

    def running(self, now: datetime) -> list[Promotion]:
        """The promotions running at ``now`` (every kind), from this process's list of those not
        ended, re-read at most every ``refresh_seconds``: no round trip in the common case."""
        cached = self._cached
        if cached is None or time.monotonic() - cached[0] >= self.refresh_seconds:
            cached = (time.monotonic(), self.not_ended(now))
            self._cached = cached
        return [p for p in cached[1] if p.running(now)]

    # -- coupons ------------------------------------------------------------------------------
    def claim(self, coupon: Coupon, total: int, per_user: int) -> None:
        """Issue a claimed coupon: the promotion's claims below ``total`` (+1), the user's below
        ``per_user`` (+1) and the coupon (absent), in one transaction. COUPON_EXHAUSTED or
        COUPON_LIMIT_REACHED name the counter that refused (both: exhausted)."""
        claims = PromotionItem(promo_pk(coupon.promotion_id), CLAIMS)
        mine = PromotionItem(f"u#{coupon.user_id}", f"claimed#{coupon.promotion_id}")
        tx = _transaction()
        try:
            with tx:
                tx.update(claims, actions=[PromotionItem.claimed.add(1)],
                          condition=PromotionItem.claimed.does_not_exist() | (PromotionItem.claimed < total))
                tx.update(mine, actions=[PromotionItem.claimed.add(1)],
                          condition=PromotionItem.claimed.does_not_exist() | (PromotionItem.claimed < per_user))
                tx.save(_coupon_item(coupon), condition=PromotionItem.pk.does_not_exist())
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if failure.refused(table_name(), pk=claims.pk, sk=CLAIMS):
                raise CouponExhausted("every coupon of this promotion has been claimed",
                                      promotion_id=coupon.promotion_id) from exc
            if failure.refused(table_name(), pk=mine.pk, sk=mine.sk):
                raise CouponLimitReached(f"at most {per_user} coupon(s) of this promotion per user",
                                         promotion_id=coupon.promotion_id, per_user=per_user) from exc
            raise failure from exc

    def grant(self, coupon: Coupon) -> bool:
        """Issue a granted coupon (the new-user red packet) once: a put conditioned on its key
        being new. False when it was granted already (a racing first login)."""
        try:
            _coupon_item(coupon).save(condition=PromotionItem.pk.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def coupon(self, coupon_id: str) -> Coupon | None:
        """A coupon by its id (consistent GetItem); None when there is none."""
        try:
            return to_coupon(PromotionItem.get(coupon_pk(coupon_id), COUPON, consistent_read=True))
        except PromotionItem.DoesNotExist:
            return None

    def coupons_of(self, user_id: str, limit: int, cursor: str | None) -> tuple[list[Coupon], str | None]:
        """A page of the user's coupons, newest first (one Query of ``by_owner``)."""
        return paginate(PromotionItem.by_owner, user_id, cursor, to_coupon, scan_index_forward=False, limit=limit)

    def usable_coupons(self, user_id: str, now: datetime) -> list[Coupon]:
        """The user's coupons usable at ``now`` (neither used nor expired), newest first: one Query
        of ``by_owner`` (a user holds a handful), filtered here."""
        return [c for c in map(to_coupon, PromotionItem.by_owner.query(user_id, scan_index_forward=False))
                if c.usable_by(user_id, now)]


# The order's transaction parts (pricing's checkout, cancellation and instant refund) -----------

def table_name() -> str:
    return PromotionItem.Meta.table_name


def use_coupon_part(coupon: Coupon, order_id: str, now: datetime) -> TxPart:
    """"This order uses the coupon": ``order_id`` and ``used_at`` set, conditioned on the coupon
    existing, used by no order, the same owner and valid at ``now`` (``coupon_refused`` tells a
    refusal: COUPON_NOT_USABLE). The minimum spend is the pricing function's check."""
    def part(tx: TransactWrite) -> None:
        tx.update(PromotionItem(coupon_pk(coupon.coupon_id), COUPON),
                  actions=[PromotionItem.order_id.set(order_id), PromotionItem.used_at.set(now)],
                  condition=PromotionItem.pk.exists() & PromotionItem.order_id.does_not_exist()
                  & (PromotionItem.user_id == coupon.user_id) & (PromotionItem.valid_until > iso(now)))
    return part


def give_back_coupon_part(coupon_id: str, order_id: str) -> TxPart:
    """"This order gives its coupon back": ``order_id`` and ``used_at`` removed, conditioned on
    the coupon being used by ``order_id`` (so it runs once and never frees a coupon another
    order holds). A coupon past its ``valid_until`` comes back expired."""
    def part(tx: TransactWrite) -> None:
        tx.update(PromotionItem(coupon_pk(coupon_id), COUPON),
                  actions=[PromotionItem.order_id.remove(), PromotionItem.used_at.remove()],
                  condition=PromotionItem.order_id == order_id)
    return part


def coupon_refused(failure: Any, coupon_id: str) -> bool:
    """Whether a cancelled transaction (``store.base.TransactionFailed``) failed on this coupon."""
    return bool(failure.refused(table_name(), pk=coupon_pk(coupon_id), sk=COUPON))


def spend_budget_part(promotion: Promotion, fen: int, order_id: str) -> TxPart:
    """"This order spends ``fen`` of the loss leader's budget": ``spent_fen`` += fen, conditioned
    on the total staying within ``budget_fen`` (``budget_refused`` tells a refusal). One item per
    promotion (not sharded: ≈ 500 orders a second per loss leader; ``order_id`` unused)."""
    del order_id
    budget = present(promotion.budget_fen, "a loss leader's budget")
    within = PromotionItem.spent_fen <= budget - fen
    condition = (PromotionItem.spent_fen.does_not_exist() | within) if fen <= budget else within

    def part(tx: TransactWrite) -> None:
        tx.update(PromotionItem(promo_pk(promotion.promotion_id), BUDGET),
                  actions=[PromotionItem.spent_fen.add(fen)], condition=condition)
    return part


def budget_refused(failure: Any, promotion_id: str) -> bool:
    """Whether a cancelled transaction failed on this loss leader's budget."""
    return bool(failure.refused(table_name(), pk=promo_pk(promotion_id), sk=BUDGET))

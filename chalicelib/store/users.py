"""The user aggregate: profiles, invite-code claims and invitation milestones, in one table.

Items (``pk``, ``sk``):
* ``(user_id, "profile")``: the user, with parent and grandparent, the tree counters, this and
  last month's referred sales and the tier with the month it was decided in; above the base
  tier, also ``ranked_shard``/``ranked_key`` (the sparse index ``above_base``, read by the
  month change). The tier moves in the transactions that move the figures it depends on
  (``with_move``: payments, bindings) and at the month change (``store_tier``);
* ``("invite#CODE", "invite")``: a claimed invite code and its owner (codes are unique);
* ``("idnum#<HMAC of the ID number>", "idnum")``: a verified ID number and the one account that
  verified it (``owner_id``, ``reached_at``): one identity, one account;
* the operator's hold on a distributor: ``manual_tier`` (a tier set by hand, which no automatic
  move changes until lifted) and ``frozen_at`` (frozen: no new commission, no withdrawal), each
  written with its audit entry in one transaction. Two sparse, keys-only indexes list the
  distributors for the operator (``services/distributors.py``), each in 16 shards read and
  merged, never one partition: ``shops`` (every distributor, by the time their shop opened:
  written once, when the shop opens, never per order) and ``frozen_users`` (the frozen ones, by
  the time of the freeze);
* ``(user_id, "milestone#0010")``: an invitation milestone reached, recorded once in the
  transaction that counts the invitee reaching it; a cash milestone is credited to the wallet
  in that same transaction (``credited_at``; ``store/rewards.py``);
* ``(user_id, "bought#<product_id>")``: ``bought_units``, the units of a product with a purchase
  limit that the user's orders hold (store/order_promotions.py): added at checkout conditioned on
  the limit, given back when an order is cancelled unpaid or refunded before shipment.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.binding import BindingPlan, Member
from chalicelib.domain.clock import iso
from chalicelib.domain.shards import SHARDS, shard_of
from chalicelib.domain.tier_moves import ManualHold, TierChange, TierGuard, TierMove, UpgradeDue
from chalicelib.domain.tiers import Tier
from chalicelib.domain.users import MonthSales, Shop, User
from chalicelib.store.audit import entry_put
from chalicelib.store.base import (
    NEVER,
    BaseMeta,
    InvalidCursor,
    StoreModel,
    TransactionFailed,
    condition_failed,
    paginate,
    transaction_failure,
)
from chalicelib.store.ledger import LedgerItem, partner_roll

PROFILE = "profile"
MILESTONE = "milestone#"
INVITE = "invite"
ID_NUMBER = "idnum"


def id_number_key(id_hash: str) -> str:
    """The partition key of an ID number's claim: its keyed hash (never the number)."""
    return f"idnum#{id_hash}"


def user_id_for(openid: str) -> str:
    """A stable user id derived from the openid: login needs no lookup table."""
    return "u" + hashlib.sha256(openid.encode()).hexdigest()[:20]


# Indexes copy only what their readers use, so that a write of anything else (a login's
# last_login_at, a purchase counter) costs no index write.
SALES = ["sales_month", "month_sales_fen", "previous_month_sales_fen"]


class ByParent(GlobalSecondaryIndex["UserItem"]):
    """A distributor's direct invitees, newest first (the team view)."""

    class Meta:
        index_name = "by_parent"
        projection = IncludeProjection(["nickname", "direct_count", *SALES])

    parent_id = UnicodeAttribute(hash_key=True)
    bound_at = UnicodeAttribute(range_key=True)


class AboveBase(GlobalSecondaryIndex["UserItem"]):
    """Sparse, keys only: the distributors above the base tier (the only ones the month change
    re-decides), in 16 shards, ordered by the month their tier was decided in
    (``ranked_key`` = ``<tier_month>#<user>``). A month change moves each out of the range
    ``< <month>`` it is found in, so every later run of the month queries an empty range. Keys
    only: the index is written when a tier decision is stored, not when the figures move."""

    class Meta:
        index_name = "above_base"
        projection = KeysOnlyProjection()

    ranked_shard = UnicodeAttribute(hash_key=True)
    ranked_key = UnicodeAttribute(range_key=True)


class Shops(GlobalSecondaryIndex["UserItem"]):
    """Sparse, keys only: every distributor, in 16 shards (``shop_shard``, the user's shard),
    newest shop last (``shop_key`` = ``<opened at>#<user>``). Written once, when the shop opens."""

    class Meta:
        index_name = "shops"
        projection = KeysOnlyProjection()

    shop_shard = UnicodeAttribute(hash_key=True)
    shop_key = UnicodeAttribute(range_key=True)


class FrozenUsers(GlobalSecondaryIndex["UserItem"]):
    """Sparse, keys only: the frozen distributors, in 16 shards, by the time of the freeze
    (``frozen_key`` = ``<frozen at>#<user>``); written by a freeze and an unfreeze only."""

    class Meta:
        index_name = "frozen_users"
        projection = KeysOnlyProjection()

    frozen_shard = UnicodeAttribute(hash_key=True)
    frozen_key = UnicodeAttribute(range_key=True)


class UserItem(StoreModel):
    class Meta(BaseMeta):
        table_name = get_settings().users_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # profile
    openid = UnicodeAttribute(null=True)
    nickname = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    last_login_at = UTCDateTimeAttribute(null=True)
    # shop
    invite_code = UnicodeAttribute(null=True)
    shop_name = UnicodeAttribute(null=True)
    shop_opened_at = UTCDateTimeAttribute(null=True)
    promoter_granted = BooleanAttribute(null=True)
    shop_shard = UnicodeAttribute(null=True)  # index shops
    shop_key = UnicodeAttribute(null=True)
    # tree
    parent_id = UnicodeAttribute(null=True)
    grandparent_id = UnicodeAttribute(null=True)
    bound_at = UnicodeAttribute(null=True)
    bound_until = UTCDateTimeAttribute(null=True)
    grandparent_until = UTCDateTimeAttribute(null=True)
    direct_count = NumberAttribute(null=True)
    team_count = NumberAttribute(null=True)
    # purchases and performance
    paid_order_count = NumberAttribute(null=True)
    spent_fen = NumberAttribute(null=True)
    sales_month = UnicodeAttribute(null=True)
    month_sales_fen = NumberAttribute(null=True)
    previous_month_sales_fen = NumberAttribute(null=True)
    qualified_invitees = NumberAttribute(null=True)
    qualified_at = UTCDateTimeAttribute(null=True)  # first completed order: counts for the inviter
    tier = UnicodeAttribute(null=True)
    tier_month = UnicodeAttribute(null=True)  # the month the tier was decided in
    ranked_shard = UnicodeAttribute(null=True)  # above the base tier only: index above_base
    ranked_key = UnicodeAttribute(null=True)
    manual_tier = UnicodeAttribute(null=True)  # the operator's tier: no automatic move while set
    frozen_at = UTCDateTimeAttribute(null=True)  # the operator's freeze
    frozen_shard = UnicodeAttribute(null=True)  # index frozen_users
    frozen_key = UnicodeAttribute(null=True)
    real_name_verified = BooleanAttribute(null=True)
    real_name = UnicodeAttribute(null=True)  # for the transfer's encrypted user_name
    id_number_hash = UnicodeAttribute(null=True)  # HMAC-SHA256 under ID_HASH_KEY; never the number
    id_number_masked = UnicodeAttribute(null=True)
    real_name_at = UTCDateTimeAttribute(null=True)
    # invite claims and milestones
    owner_id = UnicodeAttribute(null=True)
    reward = UnicodeAttribute(null=True)
    cash_fen = NumberAttribute(null=True)
    reached_at = UTCDateTimeAttribute(null=True)
    credited_at = UTCDateTimeAttribute(null=True)  # a cash milestone paid into the wallet
    # purchase limits (store/order_promotions.py): units of a product the user's orders hold
    bought_units = NumberAttribute(null=True)

    by_parent = ByParent()
    above_base = AboveBase()
    shops = Shops()
    frozen_users = FrozenUsers()


def _int(value: Any) -> int:
    return int(value or 0)


def to_member(item: UserItem) -> Member:
    return Member(
        user_id=item.pk,
        parent_id=item.parent_id,
        grandparent_id=item.grandparent_id,
        bound_until=item.bound_until,
        grandparent_until=item.grandparent_until,
        is_distributor=item.invite_code is not None,
        promoter_granted=bool(item.promoter_granted),
        paid_order_count=_int(item.paid_order_count),
        spent_fen=_int(item.spent_fen),
        direct_count=_int(item.direct_count),
        team_count=_int(item.team_count),
    )


def to_user(item: UserItem) -> User:
    shop = Shop(item.shop_name, item.shop_opened_at) if item.shop_name and item.shop_opened_at else None
    return User(
        user_id=item.pk,
        openid=item.openid or "",
        nickname=item.nickname or "",
        created_at=item.created_at or NEVER,
        member=to_member(item),
        bound_at=datetime.fromisoformat(item.bound_at) if item.bound_at else None,
        invite_code=item.invite_code,
        shop=shop,
        tier=Tier(item.tier or Tier.REGULAR.value),
        tier_month=item.tier_month,
        sales=MonthSales(item.sales_month, _int(item.month_sales_fen), _int(item.previous_month_sales_fen)),
        qualified_invitees=_int(item.qualified_invitees),
        qualified_at=item.qualified_at,
        real_name_verified=bool(item.real_name_verified),
        real_name=item.real_name,
        manual_tier=Tier(item.manual_tier) if item.manual_tier else None,
        frozen_at=item.frozen_at,
    )


def _equals_or_absent(attr: Any, value: Any) -> Condition:
    return attr.does_not_exist() if value is None else attr == value


def _set_or_remove(attr: Any, value: Any) -> Any:
    return attr.remove() if value is None else attr.set(value)


class UserStore:
    """Repository of the user aggregate."""

    def login(self, openid: str, nickname: str, now: datetime) -> tuple[User, bool]:
        """Create the user on first login or touch them; one UpdateItem. Returns (user, created)."""
        user_id = user_id_for(openid)
        old = UserItem._get_connection().update_item(
            user_id, PROFILE,
            actions=[
                UserItem.openid.set(openid),
                UserItem.nickname.set(UserItem.nickname | nickname),
                UserItem.created_at.set(UserItem.created_at | now),
                UserItem.last_login_at.set(now),
            ],
            return_values="ALL_OLD",
        )
        if not old.get("Attributes"):
            return User(user_id=user_id, openid=openid, nickname=nickname, created_at=now,
                        member=Member(user_id)), True
        return to_user(UserItem.from_raw_data(old["Attributes"])), False

    def get(self, user_id: str, consistent: bool = True) -> User | None:
        """A user; ``consistent=False`` (half the cost) for views that may lag a write by a moment."""
        item = self._get_item(user_id, consistent)
        return to_user(item) if item else None

    def get_many(self, user_ids: list[str]) -> dict[str, User]:
        """Several users in one consistent BatchGetItem."""
        keys = [(user_id, PROFILE) for user_id in dict.fromkeys(user_ids)]
        return {item.pk: to_user(item) for item in UserItem.batch_get(keys, consistent_read=True)} if keys else {}

    def get_member(self, user_id: str) -> Member | None:
        item = self._get_item(user_id)
        return to_member(item) if item else None

    def _get_item(self, user_id: str, consistent: bool = True) -> UserItem | None:
        try:
            return UserItem.get(user_id, PROFILE, consistent_read=consistent)
        except UserItem.DoesNotExist:
            return None

    def get_with_invite(self, user_id: str, invite_code: str) -> tuple[User | None, User | None]:
        """The user and the owner of an invite code: one batch read for the code, one get for
        its owner (their profile carries the owner's own upline)."""
        items = {(i.pk, i.sk): i for i in UserItem.batch_get(
            [(user_id, PROFILE), (f"invite#{invite_code}", INVITE)], consistent_read=True)}
        me = items.get((user_id, PROFILE))
        claim = items.get((f"invite#{invite_code}", INVITE))
        owner = None
        if claim is not None and claim.owner_id:
            owner = me if claim.owner_id == user_id else self._get_item(claim.owner_id)
        return (to_user(me) if me else None), (to_user(owner) if owner else None)

    def open_shop(self, user_id: str, shop_name: str, invite_code: str, now: datetime) -> str | None:
        """Make the user a distributor with a fresh invite code, in one transaction.

        Returns None on success, "already" if the user already has a shop, "code_taken" if the
        invite code is claimed (the caller draws another)."""
        tx = TransactWrite(connection=_connection())
        try:
            with tx:
                tx.update(UserItem(user_id, PROFILE), actions=[
                    UserItem.invite_code.set(invite_code),
                    UserItem.shop_name.set(shop_name),
                    UserItem.shop_opened_at.set(now),
                    UserItem.shop_shard.set(shard_of(user_id)), UserItem.shop_key.set(f"{iso(now)}#{user_id}"),
                    UserItem.tier.set(UserItem.tier | Tier.REGULAR.value),
                ], condition=UserItem.created_at.exists() & UserItem.invite_code.does_not_exist())
                tx.save(UserItem(f"invite#{invite_code}", INVITE, owner_id=user_id, reached_at=now),
                        condition=UserItem.pk.does_not_exist())
        except TransactWriteError as exc:
            # named by key: PynamoDB sends the put before the update, whatever order they were added in
            failure = transaction_failure(exc, tx)
            table = UserItem.Meta.table_name
            if failure.refused(table, pk=user_id, sk=PROFILE):
                return "already"
            if failure.refused(table, pk=f"invite#{invite_code}", sk=INVITE):
                return "code_taken"
            raise failure from exc
        return None

    def verify_real_name(self, user_id: str, name: str, id_hash: str, masked: str, now: datetime) -> str | None:
        """Record a verified real name (the ID number only as a keyed hash and masked) and claim
        the number for the user, in one transaction. None on success (also when the user verifies
        their own number again: the name may be corrected); "already" when the user verified
        another number before (a verified identity is not replaced); "in_use" when the number is
        claimed by another account (one identity, one account). TransactionFailed on a conflict."""
        tx = TransactWrite(connection=_connection())
        try:
            with tx:
                tx.update(UserItem(user_id, PROFILE), actions=[
                    UserItem.real_name_verified.set(True), UserItem.real_name.set(name),
                    UserItem.id_number_hash.set(id_hash), UserItem.id_number_masked.set(masked),
                    UserItem.real_name_at.set(UserItem.real_name_at | now)],
                    condition=UserItem.created_at.exists()
                    & (UserItem.id_number_hash.does_not_exist() | (UserItem.id_number_hash == id_hash)))
                tx.save(UserItem(id_number_key(id_hash), ID_NUMBER, owner_id=user_id, reached_at=now),
                        condition=UserItem.pk.does_not_exist() | (UserItem.owner_id == user_id))
        except TransactWriteError as exc:
            # named by key: PynamoDB sends the put before the update, whatever order they were added in
            failure = transaction_failure(exc, tx)
            table = UserItem.Meta.table_name
            if failure.refused(table, pk=user_id, sk=PROFILE):
                return "already"
            if failure.refused(table, pk=id_number_key(id_hash), sk=ID_NUMBER):
                return "in_use"
            raise failure from exc
        return None

    def id_number_owner(self, id_hash: str) -> str | None:
        """The account that claimed an ID number (by its keyed hash), if any."""
        try:
            return UserItem.get(id_number_key(id_hash), ID_NUMBER, consistent_read=True).owner_id
        except UserItem.DoesNotExist:
            return None

    def direct_downline(self, user_id: str, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
        return paginate(UserItem.by_parent, user_id, cursor, to_user, limit=limit, scan_index_forward=False)

    def direct_downline_ids(self, user_id: str) -> list[str]:
        return [item.pk for item in UserItem.by_parent.query(user_id, attributes_to_get=["pk", "sk"])]

    def commit_binding(self, plan: BindingPlan, me: Member, chain: Sequence[Member], children: Sequence[str],
                       now: datetime, moves: Mapping[str, TierMove | None] | None = None) -> None:
        """Write a binding in one transaction, conditioned on everything the decision read:
        the user's own links and counts, every ancestor's links, each moved child's parent; each
        counter that grows carries its tier move (``moves``: a guard, or an upgrade decided on
        the inviter as read). Raises UpgradeDue when a guard refused (an upgrade may be due for
        a distributor not read), TransactionFailed when anything else changed meanwhile (the
        caller re-decides)."""
        chain_by_id = {m.user_id: m for m in chain}
        moves = moves or {}
        with_updates: set[str] = set()
        tx = TransactWrite(connection=_connection())
        try:
            with tx:
                tx.update(UserItem(me.user_id, PROFILE), actions=[
                    UserItem.parent_id.set(plan.parent_id),
                    _set_or_remove(UserItem.grandparent_id, plan.grandparent_id),
                    UserItem.bound_at.set(iso(now)),
                    _set_or_remove(UserItem.bound_until, plan.bound_until),
                    _set_or_remove(UserItem.grandparent_until, plan.grandparent_until),
                ], condition=_links_unchanged(me) & _counts_unchanged(me))
                for user_id, (direct, team) in plan.counter_deltas.items():
                    with_updates.add(user_id)
                    condition: Condition = UserItem.created_at.exists()
                    if user_id == plan.parent_id:
                        condition &= UserItem.invite_code.exists()
                    if user_id in chain_by_id:
                        condition &= _links_unchanged(chain_by_id[user_id])
                    actions, condition = with_move(tx, moves.get(user_id), _counter_actions(direct, team),
                                                   condition, now)
                    tx.update(UserItem(user_id, PROFILE), actions=actions, condition=condition)
                for member in chain:
                    if member.user_id not in with_updates:
                        tx.condition_check(UserItem, member.user_id, PROFILE, condition=_links_unchanged(member))
                for child_id in children:
                    tx.update(UserItem(child_id, PROFILE), actions=[
                        UserItem.grandparent_id.set(plan.parent_id),
                        _set_or_remove(UserItem.grandparent_until, plan.bound_until),
                    ], condition=UserItem.parent_id == me.user_id)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            raise guard_refusal(failure, moves) or failure from exc

    # Tiers ------------------------------------------------------------------------------------

    def awaiting_month_change(self, shard: str, month: str, cursor: str | None, limit: int
                              ) -> tuple[list[User], str | None]:
        """A page of one shard's distributors above the base tier whose tier was decided before
        ``month`` (index ``above_base``, keys only), read consistently in one BatchGetItem, and
        the cursor of the next page. The index may lag a decision just stored: the caller finds
        such a user decided for ``month`` already and leaves them."""
        ids, next_cursor = paginate(UserItem.above_base, shard, cursor, lambda item: item.pk,
                                    range_key_condition=UserItem.ranked_key < month, limit=limit)
        found = self.get_many(ids)
        return [found[user_id] for user_id in ids if user_id in found], next_cursor

    def store_tier(self, change: TierChange, now: datetime) -> None:
        """Store a tier decision made outside a transaction of the figures (the month change):
        conditioned on everything it was decided on, with the partner months it records, in one
        write (one UpdateItem, or a TransactWriteItems when there are partner months). Raises
        TransactionFailed when anything changed since it was read (the caller reads again)."""
        actions, condition = _change_parts(change)
        if not change.partner_months:
            try:
                UserItem(change.user_id, PROFILE).update(actions=actions, condition=condition)
            except UpdateError as exc:
                if condition_failed(exc):
                    raise TransactionFailed(["ConditionalCheckFailed"]) from exc
                raise
            return
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(UserItem(change.user_id, PROFILE), actions=actions, condition=condition)
                _record_partner_months(tx, change, now)
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    def set_tier(self, user_id: str, tier: Tier, month: str, expected: Tier, now: datetime | None = None) -> bool:
        """Give a distributor ``tier`` as decided for ``month`` by hand (an operator's correction,
        a test's setting), unless their tier is no longer ``expected``; a partner is recorded on
        the month's roll in the same transaction. False when the tier was not ``expected``."""
        condition = UserItem.tier == expected.value
        if expected is Tier.REGULAR:
            condition |= UserItem.tier.does_not_exist()
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(UserItem(user_id, PROFILE), actions=_tier_actions(user_id, tier, month),
                          condition=condition & UserItem.invite_code.exists())
                if tier is Tier.PARTNER:
                    tx.save(LedgerItem(partner_roll(month, shard_of(user_id)), user_id, at=now or NEVER))
        except TransactWriteError as exc:
            failure = transaction_failure(exc)
            if not failure.conflict:
                return False
            raise failure from exc
        return True

    # The operator's hold: manual tier, freeze (each with its audit entry) ----------------------

    def store_manual_tier(self, change: TierChange, manual: Tier | None, entry: AuditEntry, now: datetime) -> None:
        """Set (``manual``) or lift (None) a manual tier with the tier it makes (``change``,
        decided on the user as read, conditioned on all of it like any decision, the manual tier
        included), its partner months and its audit entry, in one transaction. Raises
        TransactionFailed when anything changed since the read (the caller reads again)."""
        actions, condition = _change_parts(change)
        actions.append(_set_or_remove(UserItem.manual_tier, manual.value if manual is not None else None))
        tx = TransactWrite(connection=_connection())
        try:
            with tx:
                tx.update(UserItem(change.user_id, PROFILE), actions=actions, condition=condition)
                _record_partner_months(tx, change, now)
                entry_put(tx, entry)
        except TransactWriteError as exc:
            raise transaction_failure(exc, tx) from exc

    def freeze(self, user_id: str, entry: AuditEntry, now: datetime) -> None:
        """Freeze a distributor not frozen, listed in ``frozen_users``, with the audit entry, at
        once. TransactionFailed when they are not a distributor or frozen meanwhile (read again)."""
        tx = TransactWrite(connection=_connection())
        try:
            with tx:
                tx.update(UserItem(user_id, PROFILE), actions=[
                    UserItem.frozen_at.set(now), UserItem.frozen_shard.set(shard_of(user_id)),
                    UserItem.frozen_key.set(f"{iso(now)}#{user_id}"),
                ], condition=UserItem.invite_code.exists() & UserItem.frozen_at.does_not_exist())
                entry_put(tx, entry)
        except TransactWriteError as exc:
            raise transaction_failure(exc, tx) from exc

    def unfreeze(self, user_id: str, frozen_at: datetime, entry: AuditEntry) -> None:
        """Lift the freeze read (``frozen_at``) with the audit entry, at once; TransactionFailed
        when it changed meanwhile."""
        tx = TransactWrite(connection=_connection())
        try:
            with tx:
                tx.update(UserItem(user_id, PROFILE), actions=[
                    UserItem.frozen_at.remove(), UserItem.frozen_shard.remove(), UserItem.frozen_key.remove(),
                ], condition=UserItem.frozen_at == frozen_at)
                entry_put(tx, entry)
        except TransactWriteError as exc:
            raise transaction_failure(exc, tx) from exc

    def grant_promoter(self, user_id: str, entry: AuditEntry) -> bool:
        """Let a user promote (``POST /v1/admin/users/{id}/promoter``) with its audit entry, at
        once; False when there is no such user."""
        tx = TransactWrite(connection=_connection())
        try:
            with tx:
                tx.update(UserItem(user_id, PROFILE), actions=[UserItem.promoter_granted.set(True)],
                          condition=UserItem.created_at.exists())
                entry_put(tx, entry)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if failure.refused(UserItem.Meta.table_name, pk=user_id, sk=PROFILE):
                return False
            raise failure from exc
        return True

    # The operator's lists of distributors ------------------------------------------------------

    def listed(self, source: str, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        """A page of distributor ids, newest first, from one sparse index of 16 shards
        (``source``: ``shops``, ``frozen_users`` or ``above_base``) merged by its range key, and
        the cursor of the next page (the last range key returned). Each shard is asked for
        ``limit + 1`` keys below the cursor: when all of them together hold ``limit`` or fewer,
        every shard is exhausted and there is no next page."""
        index, key_attr = _SOURCES[source]
        after = _decode_list_cursor(source, cursor)
        found: list[tuple[str, str]] = []
        for shard in SHARDS:
            condition = key_attr < after if after else None
            for item in index.query(shard, range_key_condition=condition, scan_index_forward=False,
                                    limit=limit + 1):
                found.append((getattr(item, key_attr.attr_name), item.pk))
        found.sort(reverse=True)
        page = found[:limit]
        more = len(found) > limit
        return [user_id for _, user_id in page], (_list_cursor(source, page[-1][0]) if more and page else None)

    def by_invite_code(self, invite_code: str) -> str | None:
        """The owner of an invite code, if it is claimed."""
        try:
            return UserItem.get(f"invite#{invite_code}", INVITE, consistent_read=True).owner_id
        except UserItem.DoesNotExist:
            return None

    # Invitation milestones ---------------------------------------------------------------------

    def ladder_state(self, user_id: str) -> tuple[int, set[int]] | None:
        """A user's qualified invitees and the milestones recorded (by invitee count), in one
        consistent Query of their partition; None when there is no such user."""
        count: int | None = None
        recorded: set[int] = set()
        for item in UserItem.query(user_id, consistent_read=True,
                                   attributes_to_get=["pk", "sk", "qualified_invitees"]):
            if item.sk == PROFILE:
                count = _int(item.qualified_invitees)
            elif item.sk.startswith(MILESTONE):
                recorded.add(int(item.sk.removeprefix(MILESTONE)))
        return None if count is None else (count, recorded)

    def milestones(self, user_id: str) -> list[dict[str, Any]]:
        return [{"invitees": int(i.sk.split("#")[1]), "reward": i.reward, "cash_fen": _int(i.cash_fen),
                 "reached_at": i.reached_at, "credited_at": i.credited_at}
                for i in UserItem.query(user_id, UserItem.sk.startswith(MILESTONE))]

    # Facts the order path reports (used by tests to give a user a purchase history).
    def record_paid_order(self, user_id: str, amount_fen: int) -> None:
        UserItem(user_id, PROFILE).update(actions=[UserItem.paid_order_count.add(1), UserItem.spent_fen.add(amount_fen)],
                                          condition=UserItem.created_at.exists())


# A tier move inside a transaction that moves figures ------------------------------------------

def with_move(tx: TransactWrite, move: TierMove | None, actions: list[Any], condition: Condition,
              now: datetime) -> tuple[list[Any], Condition]:
    """The actions and condition of a profile update that moves figures, with its tier move: a
    guard adds its condition; a change adds its writes, its condition on what it read, and puts
    its partner months on the roll (other items of ``tx``)."""
    if move is None:
        return actions, condition
    if isinstance(move, TierGuard):
        return actions, condition & _guard_condition(move)
    if isinstance(move, ManualHold):
        return actions, condition & (UserItem.manual_tier == move.tier.value)
    change_actions, change_condition = _change_parts(move)
    _record_partner_months(tx, move, now)
    return actions + change_actions, condition & change_condition


def guard_refusal(failure: TransactionFailed, moves: Mapping[str, TierMove | None]) -> UpgradeDue | None:
    """UpgradeDue naming the guarded users whose profile refused the transaction, if any."""
    table = UserItem.Meta.table_name
    refused = [user_id for user_id, move in moves.items()
               if isinstance(move, TierGuard) and failure.refused(table, pk=user_id, sk=PROFILE)]
    return UpgradeDue(refused) if refused else None


def _guard_condition(guard: TierGuard) -> Condition:
    """``TierRules.upgrade_guard`` as a condition: for every rule, the tier is at or above it or
    one figure stays below its bound (a missing figure is 0; this month's sales are 0 unless the
    sales counter is this month's); or the tier is manual (no figure moves it)."""
    condition: Condition | None = None
    for threshold in guard.thresholds:
        clause = UserItem.tier.is_in(*(t.value for t in threshold.held))
        if Tier.REGULAR in threshold.held:
            clause |= UserItem.tier.does_not_exist()
        if threshold.direct_below is not None:
            clause |= _below(UserItem.direct_count, threshold.direct_below)
        if threshold.team_below is not None:
            clause |= _below(UserItem.team_count, threshold.team_below)
        if threshold.sales_below is not None:
            clause |= (UserItem.sales_month.does_not_exist() | (UserItem.sales_month != guard.month)
                       | _below(UserItem.month_sales_fen, threshold.sales_below))
        condition = clause if condition is None else condition & clause
    if condition is None:
        return UserItem.created_at.exists()
    return UserItem.created_at.exists() & (UserItem.manual_tier.exists() | condition)


def _below(attr: NumberAttribute, bound: int) -> Condition:
    return attr.does_not_exist() | (attr < bound)


def _change_parts(change: TierChange) -> tuple[list[Any], Condition]:
    """The writes of a tier decision and its condition: every figure it was decided on as read."""
    user = change.user
    tier = UserItem.tier == user.tier.value
    if user.tier is Tier.REGULAR:
        tier |= UserItem.tier.does_not_exist()
    manual = user.manual_tier.value if user.manual_tier is not None else None
    condition = (UserItem.invite_code.exists() & tier & _equals_or_absent(UserItem.tier_month, user.tier_month)
                 & _equals_or_absent(UserItem.manual_tier, manual)
                 & counter_is(UserItem.direct_count, user.member.direct_count)
                 & counter_is(UserItem.team_count, user.member.team_count)
                 & _equals_or_absent(UserItem.sales_month, user.sales.month)
                 & counter_is(UserItem.month_sales_fen, user.sales.fen)
                 & counter_is(UserItem.previous_month_sales_fen, user.sales.previous_fen))
    return _tier_actions(change.user_id, change.tier, change.month), condition


def _tier_actions(user_id: str, tier: Tier, month: str) -> list[Any]:
    """Store ``tier`` as decided in ``month``: listed in ``above_base`` under the month unless
    it is the base tier."""
    actions = [UserItem.tier.set(tier.value), UserItem.tier_month.set(month)]
    if tier is Tier.REGULAR:
        return [*actions, UserItem.ranked_shard.remove(), UserItem.ranked_key.remove()]
    return [*actions, UserItem.ranked_shard.set(shard_of(user_id)), UserItem.ranked_key.set(f"{month}#{user_id}")]


def _record_partner_months(tx: TransactWrite, change: TierChange, now: datetime) -> None:
    """Put the user on the roll of each month the decision shows them partner in (a put of the
    same key: recording twice changes nothing)."""
    for month in change.partner_months:
        tx.save(LedgerItem(partner_roll(month, shard_of(change.user_id)), change.user_id, at=now))


def counter_is(attr: NumberAttribute, value: int) -> Condition:
    """A counter equals ``value`` (a missing counter is 0)."""
    return (attr.does_not_exist() | (attr == 0)) if value == 0 else (attr == value)


def _links_unchanged(member: Member) -> Condition:
    return (UserItem.created_at.exists()
            & _equals_or_absent(UserItem.parent_id, member.parent_id)
            & _equals_or_absent(UserItem.grandparent_id, member.grandparent_id))


def _counts_unchanged(member: Member) -> Condition:
    direct = UserItem.direct_count.does_not_exist() | (UserItem.direct_count == member.direct_count) \
        if member.direct_count == 0 else UserItem.direct_count == member.direct_count
    paid = UserItem.paid_order_count.does_not_exist() | (UserItem.paid_order_count == member.paid_order_count) \
        if member.paid_order_count == 0 else UserItem.paid_order_count == member.paid_order_count
    return direct & paid


def _counter_actions(direct: int, team: int) -> list[Any]:
    actions = []
    if direct:
        actions.append(UserItem.direct_count.add(direct))
    if team:
        actions.append(UserItem.team_count.add(team))
    return actions


def _connection() -> Connection:
    return UserItem._get_connection().connection


_SOURCES: dict[str, tuple[Any, Any]] = {
    "shops": (UserItem.shops, UserItem.shop_key),
    "frozen_users": (UserItem.frozen_users, UserItem.frozen_key),
    "above_base": (UserItem.above_base, UserItem.ranked_key),
}


def _list_cursor(source: str, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"list": source, "after": key}).encode()).decode().rstrip("=")


def _decode_list_cursor(source: str, cursor: str | None) -> str | None:
    """The range key a cursor of ``source`` resumes below; INVALID_CURSOR for any other string."""
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor("the cursor is not one we issued") from exc
    if not (isinstance(value, dict) and value.get("list") == source and isinstance(value.get("after"), str)
            and 0 < len(value["after"]) <= 200):
        raise InvalidCursor("the cursor does not belong to this list")
    return str(value["after"])

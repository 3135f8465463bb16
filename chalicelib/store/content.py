"""Content: lexicon versions, the material library and the review queue, in one table.

Items (``pk``, ``sk``):
* ``("lexicon", "current")``: the current lexicon version number (absent: version 1, the
  default lexicon shipped in code);
* ``("lexicon", "v#000002")``: one saved version, its entries zlib-compressed JSON;
* ``("material#ID", "material")``: a material; published ones carry ``week`` (sparse GSI);
* ``("review#ID", "review")``: a held text; pending ones carry ``queue`` (sparse GSI).

Access patterns: current version → GetItem (eventually consistent, 0.5 RCU; at most every
``LEXICON_REFRESH_SECONDS`` per process); a version → GetItem; save a version → TransactWrite
(put version if absent + current conditioned on the base version); materials of a week → Query
GSI ``by_week`` (week, published_key) newest first; pending reviews → Query GSI ``queue``
(queue, created_key) oldest first; a decision → TransactWrite (review conditioned on pending
+ the effect: the material published, or the held shop name set on the user).
"""
from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any

from pynamodb.attributes import BinaryAttribute, ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.clock import iso
from chalicelib.domain.errors import AlreadyDecided, InvalidLexicon, LexiconChanged
from chalicelib.domain.materials import (
    Material,
    MaterialKind,
    MaterialStatus,
    Review,
    ReviewKind,
    ReviewStatus,
    week_of,
)
from chalicelib.domain.tiers import Tier
from chalicelib.store.audit import entry_put
from chalicelib.store.base import NEVER, BaseMeta, StoreModel, paginate, transaction_failure

LEXICON, CURRENT = "lexicon", "current"
MATERIAL, REVIEW = "material", "review"
PENDING = "pending"
MAX_LEXICON_BYTES = 350_000  # compressed; a DynamoDB item holds 400 KB


class ByWeek(GlobalSecondaryIndex["ContentItem"]):
    """Published materials by Asia/Shanghai ISO week, newest first."""

    class Meta:
        index_name = "by_week"
        projection = AllProjection()

    week = UnicodeAttribute(hash_key=True)
    published_key = UnicodeAttribute(range_key=True)


class Queue(GlobalSecondaryIndex["ContentItem"]):
    """Sparse: only pending review items carry ``queue``; oldest first."""

    class Meta:
        index_name = "queue"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ContentItem(StoreModel):
    class Meta(BaseMeta):
        table_name = get_settings().content_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # lexicon
    version = NumberAttribute(null=True)
    entries = BinaryAttribute(null=True, legacy_encoding=False)
    entry_count = NumberAttribute(null=True)
    # materials and reviews
    title = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)
    product_id = UnicodeAttribute(null=True)
    media_urls = ListAttribute(of=UnicodeAttribute, null=True)  # type: ignore[var-annotated]
    author_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    published_at = UTCDateTimeAttribute(null=True)
    review_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    ref = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    hits = UnicodeAttribute(null=True)  # JSON
    extra = UnicodeAttribute(null=True)  # JSON
    decided_at = UTCDateTimeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
    week = UnicodeAttribute(null=True)
    published_key = UnicodeAttribute(null=True)
    queue = UnicodeAttribute(null=True)
    created_key = UnicodeAttribute(null=True)
    # tier rights of a material (docs/tier-rights.md); absent: a post open to every distributor
    material_kind = UnicodeAttribute(null=True)
    min_tier = UnicodeAttribute(null=True)
    open_from = UTCDateTimeAttribute(null=True)

    by_week = ByWeek()
    pending = Queue()


def _version_key(version: int) -> str:
    return f"v#{version:06d}"


def _material_item(m: Material) -> ContentItem:
    item = ContentItem(f"{MATERIAL}#{m.material_id}", MATERIAL, title=m.title, text=m.text, product_id=m.product_id,
                       media_urls=list(m.media_urls) or None, author_id=m.author_id, status=m.status.value,
                       created_at=m.created_at, review_id=m.review_id,
                       material_kind=None if m.kind is MaterialKind.POST else m.kind.value,
                       min_tier=m.min_tier.value if m.min_tier else None, open_from=m.open_from)
    if m.status is MaterialStatus.PUBLISHED and m.published_at:
        item.published_at, item.week = m.published_at, week_of(m.published_at)
        item.published_key = f"{iso(m.published_at)}#{m.material_id}"
    return item


def to_material(item: ContentItem) -> Material:
    return Material(item.pk.split("#", 1)[1], item.title or "", item.text or "", item.author_id or "",
                    item.created_at or NEVER, MaterialStatus(item.status), item.product_id,
                    tuple(str(u) for u in item.media_urls or ()), item.published_at, item.review_id,
                    MaterialKind(item.material_kind or MaterialKind.POST.value),
                    Tier(item.min_tier) if item.min_tier else None, item.open_from)


def _review_item(r: Review) -> ContentItem:
    return ContentItem(f"{REVIEW}#{r.review_id}", REVIEW, kind=r.kind.value, ref=r.ref, text=r.text, title=r.title,
                       author_id=r.author_id, created_at=r.created_at, reason=r.reason, status=r.status.value,
                       hits=json.dumps(list(r.hits), ensure_ascii=False), extra=json.dumps(r.extra, ensure_ascii=False),
                       queue=PENDING, created_key=f"{iso(r.created_at)}#{r.review_id}")


def to_review(item: ContentItem) -> Review:
    return Review(item.pk.split("#", 1)[1], ReviewKind(item.kind), item.ref or "", item.text or "", item.author_id or "",
                  item.created_at or NEVER, item.reason or "", tuple(json.loads(item.hits or "[]")), item.title,
                  ReviewStatus(item.status), item.decided_at, item.decided_by, json.loads(item.extra or "{}"))


class ContentStore:
    """Repository of lexicon versions, materials and review items."""

    # lexicon -----------------------------------------------------------------------------
    def current_lexicon_version(self, consistent: bool = False) -> int:
        try:
            return int(ContentItem.get(LEXICON, CURRENT, consistent_read=consistent, attributes_to_get=["version"]).version)
        except ContentItem.DoesNotExist:
            return 1

    def lexicon(self, version: int) -> tuple[list[list[Any]], datetime | None, str | None] | None:
        """A saved version's rows ``[word, category, verdict, suggestion]``, when and by whom."""
        try:
            item = ContentItem.get(LEXICON, _version_key(version))
        except ContentItem.DoesNotExist:
            return None
        return json.loads(zlib.decompress(item.entries or b"")), item.updated_at, item.updated_by

    def save_lexicon(self, base_version: int, rows: list[list[Any]], by: str, now: datetime, entry: AuditEntry) -> int:
        """Save the next version with its audit entry; LexiconChanged when the current one is no
        longer ``base_version`` (TransactionFailed when cancelled by a concurrent transaction:
        the caller retries)."""
        blob = zlib.compress(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode(), 6)
        if len(blob) > MAX_LEXICON_BYTES:
            raise InvalidLexicon(f"the lexicon is over {MAX_LEXICON_BYTES} bytes compressed")
        version = base_version + 1
        current = ContentItem.version == base_version
        if base_version == 1:
            current |= ContentItem.version.does_not_exist()
        tx = TransactWrite(connection=_connection())
        try:
            with tx:
                tx.save(ContentItem(LEXICON, _version_key(version), version=version, entries=blob, entry_count=len(rows),
                                    updated_at=now, updated_by=by), condition=ContentItem.pk.does_not_exist())
                tx.update(ContentItem(LEXICON, CURRENT), actions=[
                    ContentItem.version.set(version), ContentItem.updated_at.set(now), ContentItem.updated_by.set(by),
                ], condition=current)
                entry_put(tx, entry)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            table = ContentItem.Meta.table_name
            if failure.refused(table, pk=LEXICON, sk=_version_key(version)) or failure.refused(table, pk=LEXICON, sk=CURRENT):
                raise LexiconChanged("the lexicon changed since version "
                                     f"{base_version}; read it again and re-apply the edit") from exc
            raise failure from exc
        return version

    # materials ---------------------------------------------------------------------------
    def put_material(self, material: Material, entry: AuditEntry, review: Review | None = None) -> None:
        """A material published, or waiting for review with its review item (``review``), with
        its audit entry, in one transaction."""
        with TransactWrite(connection=_connection()) as tx:
            tx.save(_material_item(material), condition=ContentItem.pk.does_not_exist())
            if review is not None:
                tx.save(_review_item(review), condition=ContentItem.pk.does_not_exist())
            entry_put(tx, entry)

    def get_material(self, material_id: str) -> Material | None:
        try:
            return to_material(ContentItem.get(f"{MATERIAL}#{material_id}", MATERIAL))
        except ContentItem.DoesNotExist:
            return None

    def materials_of_week(self, week: str, limit: int, cursor: str | None) -> tuple[list[Material], str | None]:
        return paginate(ContentItem.by_week, week, cursor, to_material, limit=limit, scan_index_forward=False)

    # review queue ------------------------------------------------------------------------
    def put_review(self, review: Review) -> None:
        _review_item(review).save(condition=ContentItem.pk.does_not_exist())

    def get_review(self, review_id: str) -> Review | None:
        try:
            return to_review(ContentItem.get(f"{REVIEW}#{review_id}", REVIEW, consistent_read=True))
        except ContentItem.DoesNotExist:
            return None

    def pending_reviews(self, limit: int, cursor: str | None) -> tuple[list[Review], str | None]:
        return paginate(ContentItem.pending, PENDING, cursor, to_review, limit=limit)

    def decide(self, review: Review, approve: bool, by: str, now: datetime, entry: AuditEntry) -> None:
        """Record the decision, its effect and its audit entry in one transaction, exactly once:
        AlreadyDecided when another decision came first (TransactionFailed when cancelled by a
        concurrent transaction: the caller reads again and retries)."""
        status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
        tx = TransactWrite(connection=_connection())
        try:
            with tx:
                tx.update(ContentItem(f"{REVIEW}#{review.review_id}", REVIEW), actions=[
                    ContentItem.status.set(status.value), ContentItem.decided_at.set(now),
                    ContentItem.decided_by.set(by), ContentItem.queue.remove(),
                ], condition=ContentItem.status == ReviewStatus.PENDING.value)
                _effect(tx, review, approve, now)
                entry_put(tx, entry)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if failure.refused(ContentItem.Meta.table_name, pk=f"{REVIEW}#{review.review_id}", sk=REVIEW):
                raise AlreadyDecided("this item was decided already", review_id=review.review_id) from exc
            raise failure from exc


def _effect(tx: TransactWrite, review: Review, approve: bool, now: datetime) -> None:
    if review.kind is ReviewKind.MATERIAL:
        actions: list[Any] = [ContentItem.status.set(MaterialStatus.REJECTED.value)]
        if approve:
            actions = [ContentItem.status.set(MaterialStatus.PUBLISHED.value), ContentItem.published_at.set(now),
                       ContentItem.week.set(week_of(now)), ContentItem.published_key.set(f"{iso(now)}#{review.ref}")]
        tx.update(ContentItem(f"{MATERIAL}#{review.ref}", MATERIAL), actions=actions,
                  condition=ContentItem.status == MaterialStatus.PENDING_REVIEW.value)
    elif review.kind is ReviewKind.SHOP_NAME and approve:
        from chalicelib.store.users import PROFILE, UserItem

        tx.update(UserItem(review.ref, PROFILE), actions=[UserItem.shop_name.set(review.text)],
                  condition=UserItem.invite_code.exists())
    # products: the catalogue applies its own effect after the decision (services/moderation.py)


def _connection() -> Any:
    return ContentItem._get_connection().connection

"""The operator's table (setting ``admin_table``, env ``ADMIN_TABLE``): the audit log and the
runtime settings' versions, small items written by admin actions only.

Items (``pk``, ``sk``):
* ``("audit#YYYY-MM-DD", "<at>#<entry id>")``: one audit entry (``store/audit.py``); the day is
  Asia/Shanghai's, so a day's entries are one partition, newest last. ``actor`` and ``action``
  key the two indexes the audit filters read (``by_actor``, ``by_action``: the entries of one
  admin, or of one kind of action, in time order) without a scan;
* ``("settings", ...)``: the runtime rules' versions (``store/settings.py``);
* ``("console#scene#<scene>", "scene")`` and ``("console#session#<hash>", "session")``: the
  console's login scenes and sessions (``store/console.py``), one partition each, deleted by the
  table's TTL (``expires_at``) once they can no longer be used.

Admin actions are a few a second at most (a batch shipment writes up to 100 entries), far below
a partition's 1,000 writes a second, so a day's partition is never hot.
"""
from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.config import get_settings
from chalicelib.store.base import BaseMeta, StoreModel


class ByActor(GlobalSecondaryIndex["AdminItem"]):
    """An admin's audit entries in time order (sparse: only audit entries carry ``actor``)."""

    class Meta:
        index_name = "by_actor"
        projection = AllProjection()

    actor = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class ByAction(GlobalSecondaryIndex["AdminItem"]):
    """The audit entries of one action in time order (sparse: only audit entries carry ``action``)."""

    class Meta:
        index_name = "by_action"
        projection = AllProjection()

    action = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class AdminItem(StoreModel):
    class Meta(BaseMeta):
        table_name = get_settings().admin_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # audit entries
    actor = UnicodeAttribute(null=True)
    action = UnicodeAttribute(null=True)
    target = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute(null=True)
    state = UnicodeAttribute(null=True)  # JSON {"before", "after"}
    reason = UnicodeAttribute(null=True)
    # settings versions (store/settings.py)
    version = UnicodeAttribute(null=True)
    data = UnicodeAttribute(null=True)  # JSON
    updated_by = UnicodeAttribute(null=True)
    changes = UnicodeAttribute(null=True)  # JSON: what a version changed (store/settings.py)
    # the console's login scenes and sessions (store/console.py)
    status = UnicodeAttribute(null=True)
    secret_hash = UnicodeAttribute(null=True)
    admin_id = UnicodeAttribute(null=True)
    csrf = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute(null=True)
    seen = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute(null=True)

    by_actor = ByActor()
    by_action = ByAction()

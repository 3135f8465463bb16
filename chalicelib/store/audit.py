"""Writing the audit log (items in ``store/admin.py``).

An admin action records itself **inside its own transaction**: the store method that makes the
change takes the entry and adds ``entry_put(tx, entry)`` to the TransactWrite it commits, so the
change and its audit line land together or not at all. The put is conditioned on the entry's key
being new: an entry is never overwritten.
"""
from __future__ import annotations

from pynamodb.transactions import TransactWrite

from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.clock import business_date, iso
from chalicelib.store.admin import AdminItem

AUDIT = "audit"


def day_key(day: str) -> str:
    """The partition of a Shanghai day's entries (``YYYY-MM-DD``)."""
    return f"{AUDIT}#{day}"


def entry_item(entry: AuditEntry) -> AdminItem:
    return AdminItem(day_key(business_date(entry.at).isoformat()), f"{iso(entry.at)}#{entry.entry_id}",
                     actor=entry.actor_id, action=entry.action.value, target=entry.target, at=entry.at,
                     state=entry.state_json(), reason=entry.reason)


def entry_put(tx: TransactWrite, entry: AuditEntry) -> None:
    """Add the entry's put to ``tx`` (the transaction of the change it records)."""
    tx.save(entry_item(entry), condition=AdminItem.pk.does_not_exist())


def record_alone(entry: AuditEntry) -> None:
    """Put an entry by itself: only for an action whose change is not a DynamoDB write of ours
    (e.g. a presigned upload handed out); every change of a table records through ``entry_put``."""
    entry_item(entry).save(condition=AdminItem.pk.does_not_exist())

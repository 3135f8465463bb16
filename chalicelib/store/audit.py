"""Writing the audit log (items in ``store/admin.py``).

An admin action records itself **inside its own transaction**: the store method that makes the
change takes the entry and adds ``entry_put(tx, entry)`` to the TransactWrite it commits, so the
change and its audit line land together or not at all. The put is conditioned on the entry's key
being new: an entry is never overwritten.

Reading (``entries_page``): newest first, from the day partitions or, filtered by actor or
action, from the index ``by_actor`` / ``by_action`` over the days' range of sort keys
(``<at>#<id>``, the time in UTC: a Shanghai day is a range of them).
"""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from pynamodb.transactions import TransactWrite

from chalicelib.domain.audit import Action, AuditEntry
from chalicelib.domain.clock import SHANGHAI, business_date, parse_iso
from chalicelib.domain.invariants import present
from chalicelib.store.admin import AdminItem

AUDIT = "audit"


def day_key(day: str) -> str:
    """The partition of a Shanghai day's entries (``YYYY-MM-DD``)."""
    return f"{AUDIT}#{day}"


def sort_time(at: datetime) -> str:
    """An entry's time as its sort key begins: UTC to the microsecond, so the entries of one
    second (a batch shipment's) keep their order, and the day bounds compare in the same form."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_item(entry: AuditEntry) -> AdminItem:
    return AdminItem(day_key(business_date(entry.at).isoformat()), f"{sort_time(entry.at)}#{entry.entry_id}",
                     actor=entry.actor_id, action=entry.action.value, target=entry.target, at=entry.at,
                     state=entry.state_json(), reason=entry.reason)


def entry_put(tx: TransactWrite, entry: AuditEntry) -> None:
    """Add the entry's put to ``tx`` (the transaction of the change it records)."""
    tx.save(entry_item(entry), condition=AdminItem.pk.does_not_exist())


def record_alone(entry: AuditEntry) -> None:
    """Put an entry by itself: only for an action whose change is not a DynamoDB write of ours
    (e.g. a presigned upload handed out); every change of a table records through ``entry_put``."""
    entry_item(entry).save(condition=AdminItem.pk.does_not_exist())


# Reading the log (GET /v1/admin/audit) ------------------------------------------------------

def to_entry(item: AdminItem) -> AuditEntry:
    state = json.loads(item.state or "{}")
    return AuditEntry(actor_id=item.actor or "", action=Action(item.action), target=item.target or "",
                      at=present(item.at, "an audit entry's time"), before=state.get("before"),
                      after=state.get("after"), reason=item.reason, entry_id=item.sk.partition("#")[2])


def entries_page(first_day: date, last_day: date, actor: str | None, action: Action | None, after: str | None,
                 limit: int) -> tuple[list[AuditEntry], str | None]:
    """Entries of the Shanghai days ``first_day``..``last_day``, newest first, below the sort key
    ``after`` (the previous page's last), at most ``limit``, and the sort key to resume below
    (None: no more; a full page may be followed by an empty one). By actor or by action: one
    Query of the index over the range (both: the actor's index, filtered by action); neither:
    the day partitions from the newest, one Query each, until the page is full."""
    lo = sort_time(datetime.combine(first_day, time(0), tzinfo=SHANGHAI))
    hi = after or sort_time(datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=SHANGHAI))
    found: list[AdminItem] = []
    if actor is not None or action is not None:
        index, key = (AdminItem.by_actor, actor) if actor is not None else (AdminItem.by_action, action)
        only = AdminItem.action == action.value if actor is not None and action is not None else None
        for item in index.query(key, AdminItem.sk.between(lo, hi), filter_condition=only, scan_index_forward=False,
                                limit=limit + 1):
            if item.sk != hi and len(found) < limit:
                found.append(item)
    else:
        resume_day = business_date(parse_iso(hi.partition("#")[0])) if after else None
        day = resume_day or last_day
        while day >= first_day and len(found) < limit:
            below = AdminItem.sk < hi if day == resume_day else None
            found += AdminItem.query(day_key(day.isoformat()), below, scan_index_forward=False, limit=limit - len(found))
            day -= timedelta(days=1)
    return [to_entry(item) for item in found], (found[-1].sk if len(found) == limit else None)

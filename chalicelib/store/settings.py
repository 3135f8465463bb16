"""The runtime rules' versions, in the admin table (``store/admin.py``, partition ``settings``).

Items (``pk``, ``sk``):
* ``("settings", "current")``: ``version``, the number in force (absent: version 1, the seed);
* ``("settings", "v#0000000002")``: one version, never changed once written: ``data`` (the rules
  as JSON), ``at``, ``updated_by``, ``changes`` (JSON: the top-level sections that differ from
  the version it replaced, and the version a rollback restored).

Access patterns: the number in force → GetItem ``current`` (a projection of ``version``: the
per-process cache's one small read); a version → GetItem (consistent); the history → Query ``pk=settings``,
``sk`` beginning ``v#``, newest first; a save → one TransactWrite (below). Saves are an
operator's few a day: the one partition is never hot, and nothing here is written per order.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.errors import VersionConflict
from chalicelib.domain.invariants import present
from chalicelib.store.admin import AdminItem
from chalicelib.store.audit import entry_put
from chalicelib.store.base import paginate, transaction_failure

SETTINGS, CURRENT, SEED = "settings", "current", 1


@dataclass(frozen=True)
class Version:
    """One saved version of the rules (``rules``: the JSON document, as saved)."""

    version: int
    rules: dict[str, Any]
    at: datetime | None = None  # None: the seed, never saved
    by: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)


def version_key(version: int) -> str:
    return f"v#{version:010d}"


def _to_version(item: AdminItem) -> Version:
    return Version(int(present(item.version, "a settings version's number")), json.loads(item.data or "{}"), item.at,
                   item.updated_by, json.loads(item.changes or "{}"))


def _connection() -> Any:
    return AdminItem._get_connection().connection


class SettingsStore:
    """Repository of the runtime rules' versions."""

    def current_version(self, consistent: bool = False) -> int:
        try:
            item = AdminItem.get(SETTINGS, CURRENT, consistent_read=consistent, attributes_to_get=["version"])
        except AdminItem.DoesNotExist:
            return SEED
        return int(present(item.version, "the settings' current version"))

    def version(self, version: int) -> Version | None:
        """A version, read consistently: one just saved is found by whoever saw ``current`` name it
        (a process reads each version once, so the strong read costs nothing that matters)."""
        try:
            return _to_version(AdminItem.get(SETTINGS, version_key(version), consistent_read=True))
        except AdminItem.DoesNotExist:
            return None

    def history(self, limit: int, cursor: str | None) -> tuple[list[Version], str | None]:
        return paginate(AdminItem, SETTINGS, cursor, _to_version, range_key_condition=AdminItem.sk.startswith("v#"),
                        scan_index_forward=False, limit=limit)

    def save(self, expected: int, new: Version, seed: dict[str, Any] | None, entry: AuditEntry) -> None:
        """One transaction: the new version (if absent), ``current`` moved from ``expected`` to
        it, and the audit entry. Saving over the seed (``expected`` 1, nothing saved yet) also
        writes version 1 with the seed's rules (``seed``), so from then on version 1 is a stored,
        immutable version like the others. VERSION_CONFLICT when ``current`` is no longer
        ``expected`` (or the new number is taken); TransactionFailed when a concurrent
        transaction cancelled it (the caller runs again)."""
        moved = AdminItem.version == str(expected)
        if expected == SEED:
            moved |= AdminItem.pk.does_not_exist()
        tx = TransactWrite(connection=_connection())
        try:
            with tx:
                tx.save(self._item(new), condition=AdminItem.pk.does_not_exist())
                if seed is not None:
                    tx.save(self._item(Version(SEED, seed, new.at, None, {"seed": True})),
                            condition=AdminItem.pk.does_not_exist())
                tx.update(AdminItem(SETTINGS, CURRENT), actions=[
                    AdminItem.version.set(str(new.version)), AdminItem.at.set(present(new.at, "a save's time")),
                    AdminItem.updated_by.set(present(new.by, "a save's author")),
                ], condition=moved)
                entry_put(tx, entry)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            table = AdminItem.Meta.table_name
            if failure.refused(table, pk=SETTINGS, sk=CURRENT) or failure.refused(
                    table, pk=SETTINGS, sk=version_key(new.version)):
                raise VersionConflict(f"the settings changed since version {expected}; read them again and "
                                      "re-apply the edit", expected_version=expected) from exc
            raise failure from exc

    @staticmethod
    def _item(version: Version) -> AdminItem:
        return AdminItem(SETTINGS, version_key(version.version), version=str(version.version),
                         data=json.dumps(version.rules, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
                         at=version.at, updated_by=version.by,
                         changes=json.dumps(version.changes, ensure_ascii=False, sort_keys=True))

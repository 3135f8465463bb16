"""The audit log's write: an entry lands with the change it records, or not at all."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.audit import Action, audit
from chalicelib.domain.invariants import InvariantBroken
from chalicelib.store.admin import AdminItem
from chalicelib.store.audit import day_key, entry_put, record_alone
from chalicelib.store.jobs import JobItem

AT = datetime(2026, 12, 5, 17, 30, tzinfo=UTC)  # 01:30 on the 6th in Shanghai


def _entries() -> list[AdminItem]:
    return list(AdminItem.scan())


def test_an_entry_lands_in_its_shanghai_day_with_its_states(aws: None) -> None:
    entry = audit("u-admin", Action.PRODUCT_UPDATE, "product#p1", AT, {"listed": True}, {"listed": False}, "recall")
    with TransactWrite(connection=JobItem._get_connection().connection) as tx:
        tx.save(JobItem("x", "run"))
        entry_put(tx, entry)
    [item] = _entries()
    assert item.pk == day_key("2026-12-06") == "audit#2026-12-06"
    assert (item.actor, item.action, item.target, item.reason) == ("u-admin", "product.update", "product#p1", "recall")
    assert item.state == '{"after": {"listed": false}, "before": {"listed": true}}'
    assert [i.sk for i in AdminItem.by_actor.query("u-admin")] == [item.sk]
    assert [i.sk for i in AdminItem.by_action.query("product.update")] == [item.sk]


def test_a_change_refused_writes_no_entry(aws: None) -> None:
    JobItem("x", "run").save()
    entry = audit("u-admin", Action.SETTINGS_UPDATE, "settings#2", AT)
    tx = TransactWrite(connection=JobItem._get_connection().connection)
    tx.save(JobItem("x", "run"), condition=JobItem.pk.does_not_exist())
    entry_put(tx, entry)
    with pytest.raises(TransactWriteError):
        tx._commit()
    assert _entries() == []


def test_an_entry_is_never_overwritten(aws: None) -> None:
    entry = audit("u-admin", Action.UPLOAD_CREATE, "upload#k", AT)
    record_alone(entry)
    with pytest.raises(Exception, match="onditional"):
        record_alone(entry)
    assert len(_entries()) == 1


def test_an_entry_needs_an_aware_time_and_bounded_states() -> None:
    with pytest.raises(InvariantBroken):
        audit("u", Action.ORDER_SHIP, "order#o", datetime(2026, 12, 5))  # noqa: DTZ001
    with pytest.raises(InvariantBroken):
        audit("u", Action.ORDER_SHIP, "order#o", AT, after="x" * 100_001)


def test_entries_of_one_second_keep_their_order(aws: None) -> None:
    """A batch shipment writes up to 100 entries within a second: the sort key carries microseconds."""
    first = audit("u-admin", Action.ORDER_SHIP, "order#o1", AT.replace(microsecond=1_000))
    second = audit("u-admin", Action.ORDER_SHIP, "order#o2", AT.replace(microsecond=2_000))
    for entry in (second, first) if first.entry_id < second.entry_id else (first, second):
        record_alone(entry)
    newest_first = [i.target for i in AdminItem.query(day_key("2026-12-06"), scan_index_forward=False)]
    assert newest_first == ["order#o2", "order#o1"]

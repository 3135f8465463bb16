"""The distributors' money: wallets, commission entries and the movements between balances.

Items (``pk`` = user id, ``sk``):
* ``"wallet"``: balances ``pending`` (order not completed), ``frozen`` (completed, waiting T+N),
  ``available``, ``withdrawing``, ``withdrawn``, in fen;
* ``"commission#<order_id>#<level>"``: one commission with its status;
* ``"entry#<order_id>#<level>#<kind>"``: a ledger entry, one per movement; its key is derived
  from what caused it, so writing it twice is impossible (the put is conditional).

Balances change only inside transactions together with the entry that explains them
(``store/orders.py`` composes them).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.config import get_settings
from chalicelib.store.base import BaseMeta, decode_cursor, encode_cursor

WALLET = "wallet"
BUCKETS = ("pending", "frozen", "available", "withdrawing", "withdrawn")


class CommissionStatus(StrEnum):
    PENDING = "pending"  # the order is not completed yet
    FROZEN = "frozen"  # completed; waits for the hold (T+3)
    AVAILABLE = "available"  # settled: withdrawable
    REVERSED = "reversed"  # refunded before settlement
    CLAWED_BACK = "clawed_back"  # refunded after settlement: taken back from the balance


class LedgerItem(Model):
    class Meta(BaseMeta):
        table_name = get_settings().ledger_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # wallet
    pending_fen = NumberAttribute(null=True)
    frozen_fen = NumberAttribute(null=True)
    available_fen = NumberAttribute(null=True)
    withdrawing_fen = NumberAttribute(null=True)
    withdrawn_fen = NumberAttribute(null=True)
    # commission and entry
    order_id = UnicodeAttribute(null=True)
    level = NumberAttribute(null=True)
    amount_fen = NumberAttribute(null=True)
    status = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute(null=True)
    available_at = UTCDateTimeAttribute(null=True)


def commission_key(order_id: str, level: int) -> str:
    return f"commission#{order_id}#{level}"


def entry_key(order_id: str, level: int, kind: str) -> str:
    return f"entry#{order_id}#{level}#{kind}"


def bucket_attr(bucket: str) -> NumberAttribute:
    attr = getattr(LedgerItem, f"{bucket}_fen")
    assert isinstance(attr, NumberAttribute)
    return attr


@dataclass(frozen=True)
class Commission:
    user_id: str
    order_id: str
    level: int
    amount_fen: int
    status: CommissionStatus
    accrued_at: datetime | None
    available_at: datetime | None


def to_commission(item: LedgerItem) -> Commission:
    return Commission(item.pk, item.order_id or "", int(item.level or 0), int(item.amount_fen or 0),
                      CommissionStatus(item.status), item.at, item.available_at)


class LedgerStore:
    def wallet(self, user_id: str) -> dict[str, int]:
        try:
            item = LedgerItem.get(user_id, WALLET, consistent_read=True)
        except LedgerItem.DoesNotExist:
            return {bucket: 0 for bucket in BUCKETS}
        return {bucket: int(getattr(item, f"{bucket}_fen") or 0) for bucket in BUCKETS}

    def commissions_of_order(self, order_id: str, payees: list[tuple[str, int]]) -> list[Commission]:
        keys = [(user_id, commission_key(order_id, level)) for user_id, level in payees]
        return [to_commission(i) for i in LedgerItem.batch_get(keys, consistent_read=True)] if keys else []

    def commissions(self, user_id: str, status: CommissionStatus | None, limit: int,
                    cursor: str | None) -> tuple[list[Commission], str | None]:
        page = LedgerItem.query(user_id, LedgerItem.sk.startswith("commission#"),
                                filter_condition=(LedgerItem.status == status.value) if status else None,
                                limit=limit, last_evaluated_key=decode_cursor(cursor), scan_index_forward=False)
        items = [to_commission(item) for item in page]
        return items, encode_cursor(page.last_evaluated_key)

    def entries(self, user_id: str) -> list[dict[str, object]]:
        return [{"sk": i.sk, "kind": i.kind, "amount_fen": int(i.amount_fen or 0), "order_id": i.order_id}
                for i in LedgerItem.query(user_id, LedgerItem.sk.startswith("entry#"))]

"""A user's ledger, newest first (``GET /v1/me/ledger``): one Query of the sparse index ``lines``
(pk = user, ``line_key`` = ``<at>#<sk>``) a page, plus the wallet on the first page.

The cursor carries, with the index's position, the balances after the next page's first line
(domain/ledger_lines.py), so a later page costs one round trip and its balances continue the
first page's exactly. The index is eventually consistent: a movement committed in the instant
before the first page's reads may be in the wallet before it is a line (docs/distributor-centre.md).
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chalicelib.domain.invariants import present
from chalicelib.domain.ledger_lines import BUCKETS, LedgerEntry
from chalicelib.store.base import InvalidCursor, paginate
from chalicelib.store.ledger import LedgerItem


def _entry(item: LedgerItem) -> LedgerEntry:
    return LedgerEntry(sk=item.sk, kind=item.kind or "", amount_fen=int(item.amount_fen or 0),
                       at=present(item.at, "a ledger entry's time"), status=item.status, order_id=item.order_id)


def entries_page(user_id: str, kind: str | None, limit: int, cursor: str | None
                 ) -> tuple[list[LedgerEntry], str | None]:
    """One page of the user's entries newest first (of the public ``kind`` only, when given: a
    filter of the same Query, which PynamoDB continues until the page is full or the list ends),
    and the index's cursor of the next page."""
    return paginate(LedgerItem.lines, user_id, cursor, _entry, limit=limit, scan_index_forward=False,
                    filter_condition=(LedgerItem.line_kind == kind) if kind else None)


def encode(position: str | None, balances: dict[str, int] | None) -> str | None:
    """The ledger's cursor: the index's position and the balances after the next page's first line."""
    if position is None:
        return None
    payload = {"p": position, "b": [balances[b] for b in BUCKETS] if balances is not None else None}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[str, dict[str, int] | None]:
    """The position and balances a cursor of ours carries; anything else is INVALID_CURSOR."""
    try:
        payload: Any = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor("the cursor is not one we issued") from exc
    if not isinstance(payload, dict) or set(payload) != {"p", "b"} or not isinstance(payload["p"], str):
        raise InvalidCursor("the cursor is not one we issued")
    balances = payload["b"]
    if balances is None:
        return payload["p"], None
    if not isinstance(balances, list) or len(balances) != len(BUCKETS) \
            or not all(type(fen) is int for fen in balances):
        raise InvalidCursor("the cursor is not one we issued")
    return payload["p"], dict(zip(BUCKETS, balances, strict=True))

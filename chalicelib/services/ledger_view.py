"""The distributor's ledger (佣金明细, ``GET /v1/me/ledger``): every money line of every kind,
newest first, with the balances after each (docs/distributor-centre.md "The ledger").

Why the ledger and not ``/v1/me/commissions`` shows the team bonus and the ladder's cash: a
commission line is one order's share at one level (``order_id``, ``level``, settled T+N after the
order completes); a team bonus is a month's 3 % of a team's sales and a milestone's cash belongs
to no order. Listed as commissions they would need fake order ids and levels, and the commission
list's invariant (each line ≤ its order's share) would not hold. The ledger is where every kind
of money already is, each movement as an entry, so it is the one list of all of them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.ledger_lines import LedgerLine, lines
from chalicelib.store import ledger_lines as store
from chalicelib.store.base import InvalidCursor

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


def ledger(user_id: str, kind: str | None, limit: int, cursor: str | None,
           deps: Deps) -> tuple[list[LedgerLine], str | None]:
    """A page of the caller's ledger lines and the next page's cursor. Unfiltered, each line
    has the balances after it: the first page starts from the wallet (read consistently), a
    later one from the balances its cursor carries. Filtered by ``kind``, lines have none."""
    if cursor is None:
        position, balances = None, (None if kind else deps.ledger.wallet(user_id))
    else:
        position, balances = store.decode(cursor)
        if (balances is None) != (kind is not None):
            raise InvalidCursor("the cursor belongs to the ledger with another kind filter")
    entries, next_position = store.entries_page(user_id, kind, limit, position)
    shown, after = lines(entries, balances)
    return shown, store.encode(next_position, after)

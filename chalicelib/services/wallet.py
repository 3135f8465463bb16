"""What a distributor sees of their money: balances and commission entries."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.store.ledger import Commission


def balances(user_id: str, deps: Deps) -> dict[str, int]:
    """``pending``, ``frozen``, ``available`` (negative while a clawback is netted), ``withdrawing``,
    ``withdrawn``, in fen."""
    return deps.ledger.wallet(user_id)


def commissions(user_id: str, status: str | None, limit: int, cursor: str | None,
                deps: Deps) -> tuple[list[Commission], str | None]:
    from chalicelib.store.ledger import CommissionStatus

    return deps.ledger.commissions(user_id, CommissionStatus(status) if status else None, limit, cursor)

"""The operator's hold on a distributor (docs/wallet.md "Frozen distributors", docs/referrals.md
"Manual tier"): pure rules.

A **frozen** distributor earns no new commission and cannot withdraw. "While frozen" is judged
when an order is **paid**, the moment its commission is decided (the tier uplift is judged then
too): a payee frozen at that moment gets no share, which stays with the platform; the payment's
transaction is conditioned on each payee's freeze as read, so a freeze racing a payment makes
the order pay the commission or the platform, never half. Commission accrued before the freeze
keeps moving (completion, settlement, refunds) but cannot leave the wallet while frozen.
"""
from __future__ import annotations

from chalicelib.domain.errors import Kind, error
from chalicelib.domain.orders import Share

AccountFrozen = error("ACCOUNT_FROZEN", Kind.FORBIDDEN,
                      "The operator froze this account: no withdrawal, no new commission.")
DistributorNotFound = error("DISTRIBUTOR_NOT_FOUND", Kind.NOT_FOUND, "No distributor (a user with a shop) has this id.")
AlreadyFrozen = error("ALREADY_FROZEN", Kind.CONFLICT, "The distributor is frozen already.")
NotFrozen = error("NOT_FROZEN", Kind.CONFLICT, "The distributor is not frozen.")


def payable(shares: list[Share], frozen: set[str]) -> list[Share]:
    """The shares an order pays: none to a payee who is frozen (their share stays with the
    platform; the other level's share is unchanged)."""
    return [share for share in shares if share.user_id not in frozen]

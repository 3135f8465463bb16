"""The smallest referral network of the money tests: top ← mid ← buyer, two shops open."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.services import auth, referrals, shops

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


def two_levels(deps: Deps) -> tuple[str, str, str]:
    """Log in ``dev:top``, ``dev:mid`` and ``dev:buyer``; mid opens a shop under top's, the buyer
    binds to mid: an order of the buyer's earns mid level 1 and top level 2. Returns their ids."""
    top = auth.login("dev:top", deps).user.user_id
    top_code = shops.open_shop(top, "top shop", deps).invite_code
    mid = auth.login("dev:mid", deps).user.user_id
    mid_code = shops.open_shop(mid, "mid shop", deps).invite_code
    assert top_code and mid_code
    referrals.bind(mid, top_code, deps)
    buyer = auth.login("dev:buyer", deps).user.user_id
    referrals.bind(buyer, mid_code, deps)
    return top, mid, buyer

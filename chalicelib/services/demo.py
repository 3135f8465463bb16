"""The demo data of ``make dev``: an admin with the flagship shop and the DOMAIN.md catalogue.

``python -m chalicelib.jobs.demo`` seeds it; running it again changes nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.catalog import DEMO_CATALOGUE

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

ADMIN_OPENID = "dev:admin"
ADMIN_INVITE_CODE = "HQ888888"
ADMIN_SHOP = "官方旗舰店 Flagship"


def seed_demo(deps: Deps) -> dict[str, int]:
    now = deps.clock()
    admin, _ = deps.users.login(ADMIN_OPENID, "admin", now)
    if not admin.invite_code:
        deps.users.open_shop(admin.user_id, ADMIN_SHOP, ADMIN_INVITE_CODE, now)
    added = sum(deps.products.put_if_absent(product, now) for product in DEMO_CATALOGUE)
    marked = deps.products.backfill_all_products()  # a local database kept from before the admin list
    return {"products_added": added, "products": len(DEMO_CATALOGUE), "products_marked": marked}

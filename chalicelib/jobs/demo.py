"""``python -m chalicelib.jobs.demo``: seed the demo data of ``make dev`` (``services.demo``);
running it again changes nothing. ``scripts/dev.py`` runs it before the API starts."""
from __future__ import annotations

from chalicelib.bootstrap import Deps
from chalicelib.services.demo import ADMIN_INVITE_CODE, seed_demo

if __name__ == "__main__":
    result = seed_demo(Deps())
    print(f"demo data: {result['products_added']} of {result['products']} products added; "
          f"admin dev:admin owns invite code {ADMIN_INVITE_CODE}")

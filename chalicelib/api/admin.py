"""Admin operations on users."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import schemas as s
    from chalicelib.services import shops
else:
    s, shops = lazy("chalicelib.api.schemas"), lazy("chalicelib.services.shops")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/admin/users/{user_id}/promoter", "POST", auth="admin", tag="admin", response="Empty",
          summary="Let a user open a shop (for the 'assigned' and 'spending' promoter policies)",
          errors=("NOT_FOUND",))
def grant_promoter(call: Call) -> s.Empty:
    shops.grant_promoter(call.params["user_id"], call.deps)
    return s.Empty()

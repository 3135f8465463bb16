"""Admin operations on users."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.api.schemas import Empty
from chalicelib.services import shops

bp = Blueprint(__name__)


@endpoint(bp, "/v1/admin/users/{user_id}/promoter", "POST", auth="admin", tag="admin", response=Empty,
          summary="Let a user open a shop (for the 'assigned' and 'spending' promoter policies)",
          errors=("NOT_FOUND",))
def grant_promoter(call: Call) -> Empty:
    shops.grant_promoter(call.params["user_id"], call.deps)
    return Empty()

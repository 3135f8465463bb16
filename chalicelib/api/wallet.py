"""The wallet area: real-name verification (the balance and commission views live with orders)."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint, lazy_module
from chalicelib.services import identity

bp = Blueprint(__name__)
M = "chalicelib.api.wallet_schemas"
s = lazy_module(M)


@endpoint(bp, "/v1/me/real-name", "POST", tag="wallet", models=M, body="RealNameBody", response="RealNameAnswer",
          summary="Verify the caller's real name with an 18-digit resident ID number (needed to withdraw)",
          errors=("INVALID_ID_NUMBER", "VALIDATION_FAILED", "REAL_NAME_ALREADY_VERIFIED"))
def verify_real_name(call: Call) -> Any:
    parsed = identity.verify_real_name(call.user_id, call.body.name, call.body.id_number, call.deps)
    return s.RealNameAnswer(real_name_verified=True, id_number_masked=parsed.masked)

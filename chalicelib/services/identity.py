"""Real-name verification (DOMAIN.md §6: withdrawals need it). The ID number is checked, then
kept only as a keyed hash (to recognise the same number again) and a masked form (to show)."""
from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from chalicelib.domain.clock import business_date
from chalicelib.domain.errors import Kind, ValidationFailed, error
from chalicelib.domain.identity import IdNumber, parse_id_number, valid_name
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

RealNameAlreadyVerified = error("REAL_NAME_ALREADY_VERIFIED", Kind.CONFLICT,
                                "The user verified another ID number before; it cannot be replaced here.")
IdNumberInUse = error("ID_NUMBER_IN_USE", Kind.CONFLICT,
                      "The ID number is verified on another account: one identity, one account.")


def id_number_hash(number: str, key: str) -> str:
    """HMAC-SHA256 of the normalised number: without the key, the hash cannot be brute-forced
    over the small space of valid ID numbers."""
    return hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()


def verify_real_name(user_id: str, name: str, id_number: str, deps: Deps) -> IdNumber:
    """Check a name and resident ID number and record the user as verified, claiming the number
    for them in the same transaction (DOMAIN.md §9: one identity, one account). Submitting the
    same number again is fine (the name may be corrected); another number is refused, and so is
    a number another account verified."""
    if not valid_name(name):
        raise ValidationFailed("a name is 2 to 30 characters", field="name")
    now = deps.clock()
    parsed = parse_id_number(id_number, business_date(now))
    digest = id_number_hash(parsed.number, deps.settings.id_hash_key)
    refused = run_until_committed(
        lambda: deps.users.verify_real_name(user_id, name.strip(), digest, parsed.masked, now), what="this user")
    if refused == "already":
        raise RealNameAlreadyVerified("a different ID number is already verified for this user")
    if refused == "in_use":
        raise IdNumberInUse("this ID number is verified on another account")
    return parsed

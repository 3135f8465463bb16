"""Admin operations on users and distributors, and the audit log (API.md v1.1 "Operator:
settings, distributors, audit")."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

M = "chalicelib.api.admin_schemas"
if TYPE_CHECKING:
    from chalicelib.api import admin_schemas as a
    from chalicelib.api import schemas as s
    from chalicelib.domain import tiers
    from chalicelib.domain.users import User
    from chalicelib.services import audit_log, distributors, shops
else:
    s, a, tiers = lazy("chalicelib.api.schemas"), lazy(M), lazy("chalicelib.domain.tiers")
    shops, distributors = lazy("chalicelib.services.shops"), lazy("chalicelib.services.distributors")
    audit_log = lazy("chalicelib.services.audit_log")

bp = Blueprint(__name__)
HOLD_ERRORS = ("DISTRIBUTOR_NOT_FOUND", "VALIDATION_FAILED")


@endpoint(bp, "/v1/admin/users/{user_id}/promoter", "POST", auth="admin", tag="admin", response="Empty",
          summary="Let a user open a shop (for the 'assigned' and 'spending' promoter policies)",
          errors=("NOT_FOUND",))
def grant_promoter(call: Call) -> s.Empty:
    shops.grant_promoter(call.params["user_id"], call.user_id, call.deps)
    return s.Empty()


def _one(user: User, call: Call) -> a.DistributorOut:
    [found] = distributors.with_figures([user], call.deps)
    return a.DistributorOut.of(found.user, found.month_sales_fen, found.wallet)


@endpoint(bp, "/v1/admin/distributors", auth="admin", tag="admin", models=M, query="DistributorsQuery",
          response="DistributorsPage", errors=("VALIDATION_FAILED", "INVALID_CURSOR"),
          summary="Distributors (users with a shop), newest first: tier, manual tier, counts, this month's sales, "
                  "wallet, freeze; filter by tier and freeze, search by user id, invite code, nickname or shop name")
def list_distributors(call: Call) -> a.DistributorsPage:
    query = call.query
    filters = distributors.Filters(tiers.Tier(query.tier) if query.tier else None, query.frozen, query.q)
    page, next_cursor = distributors.distributors(filters, query.limit, query.next, call.deps)
    return a.DistributorsPage(items=[a.DistributorOut.of(d.user, d.month_sales_fen, d.wallet) for d in page],
                              next=next_cursor)


@endpoint(bp, "/v1/admin/users/{user_id}/tier", "POST", auth="admin", tag="admin", models=M, body="TierBody",
          response="DistributorOut", errors=HOLD_ERRORS,
          summary="Set a manual tier, kept until lifted (no automatic upgrade or month change moves it); "
                  "`tier: null` lifts it and the rules decide the tier at once")
def set_tier(call: Call) -> a.DistributorOut:
    tier = tiers.Tier(call.body.tier) if call.body.tier else None
    return _one(distributors.set_tier(call.params["user_id"], tier, call.body.reason, call.user_id, call.deps), call)


@endpoint(bp, "/v1/admin/users/{user_id}/freeze", "POST", auth="admin", tag="admin", models=M, body="ReasonBody",
          response="DistributorOut", errors=(*HOLD_ERRORS, "ALREADY_FROZEN"),
          summary="Freeze a distributor: no withdrawal (403 ACCOUNT_FROZEN), no commission on orders paid while "
                  "frozen (it stays with the platform); 409 ALREADY_FROZEN when frozen")
def freeze(call: Call) -> a.DistributorOut:
    return _one(distributors.freeze(call.params["user_id"], call.body.reason, call.user_id, call.deps), call)


@endpoint(bp, "/v1/admin/users/{user_id}/unfreeze", "POST", auth="admin", tag="admin", models=M, body="ReasonBody",
          response="DistributorOut", errors=(*HOLD_ERRORS, "NOT_FROZEN"),
          summary="Lift a freeze; 409 NOT_FROZEN when the distributor is not frozen")
def unfreeze(call: Call) -> a.DistributorOut:
    return _one(distributors.unfreeze(call.params["user_id"], call.body.reason, call.user_id, call.deps), call)


@endpoint(bp, "/v1/admin/audit", auth="admin", tag="admin", models=M, query="AuditQuery", response="AuditPage",
          errors=("VALIDATION_FAILED", "INVALID_DATE", "INVALID_DATE_RANGE", "INVALID_CURSOR"),
          summary="The audit log: every admin action (who, when, what, before and after), newest first, over "
                  "Asia/Shanghai days `from`..`to` (default the last 7, at most 92), by actor and/or action")
def audit_entries(call: Call) -> a.AuditPage:
    q = call.query
    page, next_cursor = audit_log.entries(q.actor, q.action, q.from_, q.to, q.limit, q.next, call.deps)
    return a.AuditPage(items=[a.AuditEntryOut.of(e) for e in page], next=next_cursor)

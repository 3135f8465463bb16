"""The phone data board: the daily metric rows of the last N Asia/Shanghai days, summed up into a
few headline figures, plus the short-lived link that opens the board in the mini-program's
web-view (which cannot send an Authorization header)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.domain.clock import SHANGHAI, business_date
from chalicelib.domain.errors import Forbidden, Unauthenticated
from chalicelib.services.sessions import ALGORITHM, ISSUER, Caller

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

DEFAULT_DAYS, MIN_DAYS, MAX_DAYS = 30, 7, 90
TOP_PRODUCTS = 5
TICKET_AUDIENCE = "fenxiao:dashboard"  # a session token has no audience, so neither passes for the other
TICKET_TTL_SECONDS = 300

Unit = Literal["fen", "bp", "count", "days"]


@dataclass(frozen=True)
class Kpi:
    """A headline figure and, beneath it, a second figure that puts it in context."""

    label: str
    unit: Unit
    value: int | None
    note: str
    note_value: int | None
    note_unit: Unit | None = None  # the headline's unit when None


@dataclass(frozen=True)
class TopProduct:
    product_id: str
    name: str
    units: int
    views: int
    sell_through_bp: int | None
    inventory_turnover_days: int | None


@dataclass(frozen=True)
class PromotionLine:
    """A promotion over the board's period: its redemptions, GMV and what it gave away summed,
    the average order value of its orders and of the days' other orders (weighted by orders)."""

    promotion_id: str
    title: str
    kind: str
    redemptions: int
    gmv_fen: int
    discount_fen: int
    avg_order_value_fen: int | None
    avg_order_value_without_fen: int | None


@dataclass(frozen=True)
class Board:
    from_day: date
    to_day: date
    generated_at: str  # Asia/Shanghai, to the minute
    days: list[dict[str, Any]]  # one row per day of the period, oldest first; {"date"} alone when none
    kpis: list[Kpi]
    top_products: list[TopProduct]
    # the promotions' levers as of the period's last day (docs/metrics.md): the repurchase cycle
    # per category (services/repurchase.py), None before any was computed
    repurchase: dict[str, Any] | None = None
    promotions: list[PromotionLine] | None = None  # most redeemed first (``promotion_lines``)


def period(now: datetime, days: int) -> tuple[date, date]:
    """The last ``days`` Asia/Shanghai days, today included."""
    to_day = business_date(now)
    return to_day - timedelta(days=days - 1), to_day


def build_board(days: int, deps: Deps) -> Board:
    """The board of the last ``days`` days from the stored daily metric rows."""
    now = deps.clock()
    from_day, to_day = period(now, days)
    from chalicelib.services.repurchase import cycles_as_of

    rows = every_day(daily_rows(from_day, to_day, deps), from_day, to_day)
    return Board(from_day, to_day, now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"), rows, headline(rows),
                 top_products(rows), repurchase=cycles_as_of(to_day, deps), promotions=promotion_lines(rows))


def daily_rows(from_day: date, to_day: date, deps: Deps) -> list[dict[str, Any]]:
    """The rows of ``GET /v1/admin/metrics`` (API.md field names) for these days."""
    from chalicelib.services.metrics import metrics_rows

    return metrics_rows(from_day, to_day, deps)


def every_day(rows: list[dict[str, Any]], from_day: date, to_day: date) -> list[dict[str, Any]]:
    """One row per day from ``from_day`` to ``to_day``: a day the job has not computed is a gap
    (``{"date"}`` alone), never a zero."""
    by_day = {str(row["date"]): row for row in rows}
    span = (to_day - from_day).days + 1
    return [by_day.get(d, {"date": d}) for d in ((from_day + timedelta(days=i)).isoformat() for i in range(span))]


def headline(rows: list[dict[str, Any]]) -> list[Kpi]:
    """GMV, visitors, conversion, new-user conversion, average order value and distributor
    retention: the period's total or the latest day's figure, each with a second figure for context."""
    latest = _latest(rows)
    return [
        Kpi("GMV · 成交额", "fen", _total(rows, "gmv_fen"), "latest day", latest.get("gmv_fen")),
        Kpi("Visitors · 访客", "count", latest.get("visitors"), "daily mean", _mean(rows, "visitors")),
        Kpi("Conversion · 转化率", "bp", latest.get("conversion_bp"), "vs 7-day mean",
            latest.get("conversion_vs_7day_mean_bp")),
        Kpi("New-user conversion · 新客转化", "bp", latest.get("new_user_conversion_bp"), "daily mean",
            _mean(rows, "new_user_conversion_bp")),
        Kpi("Average order value · 客单价", "fen", latest.get("avg_order_value_fen"), "period, per order",
            _weighted_mean(rows, "avg_order_value_fen", "orders")),
        Kpi("Distributor retention · 分销留存", "bp", latest.get("distributor_retention_bp"), "active distributors",
            latest.get("active_distributors"), "count"),
    ]


def top_products(rows: list[dict[str, Any]], limit: int = TOP_PRODUCTS) -> list[TopProduct]:
    """The products that sold the most units over the period (then the most viewed), with their
    latest name, sell-through and inventory turnover."""
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        for item in row.get("products") or []:
            pid = str(item["product_id"])
            entry = totals.setdefault(pid, {"units": 0, "views": 0, "name": pid})
            entry["units"] += _int(item.get("units_sold"))
            entry["views"] += _int(item.get("views"))
            entry["name"] = str(item.get("name") or entry["name"])
            for field in ("sell_through_bp", "inventory_turnover_days"):
                if isinstance(item.get(field), int):
                    entry[field] = item[field]
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1]["units"], -kv[1]["views"], kv[0]))
    return [TopProduct(pid, t["name"], t["units"], t["views"], t.get("sell_through_bp"), t.get("inventory_turnover_days"))
            for pid, t in ranked[:limit] if t["units"] or t["views"]]


def promotion_lines(rows: list[dict[str, Any]]) -> list[PromotionLine]:
    """Each promotion of the period's rows (their ``promotions``), most redeemed first."""
    sums: dict[str, dict[str, Any]] = {}
    for row in rows:
        day_orders = _int(row.get("orders"))
        for item in row.get("promotions") or []:
            entry = sums.setdefault(str(item["promotion_id"]), {"title": "", "kind": "", "redemptions": 0, "gmv": 0,
                                                                "discount": 0, "with": [], "without": []})
            entry["title"], entry["kind"] = str(item.get("title") or ""), str(item.get("kind") or "")
            for key, name in (("redemptions", "redemptions"), ("gmv", "gmv_fen"), ("discount", "discount_fen")):
                entry[key] += _int(item.get(name))
            orders = _int(item.get("orders"))
            entry["with"].append({"v": _int(item.get("avg_order_value_fen")), "w": orders})
            entry["without"].append({"v": _int(item.get("avg_order_value_without_fen")), "w": day_orders - orders})
    lines = [PromotionLine(pid, e["title"], e["kind"], e["redemptions"], e["gmv"], e["discount"],
                           _weighted_mean(e["with"], "v", "w"), _weighted_mean(e["without"], "v", "w"))
             for pid, e in sums.items()]
    return sorted(lines, key=lambda p: (-p.redemptions, -p.gmv_fen, p.promotion_id))


def _latest(rows: list[dict[str, Any]]) -> dict[str, Any]:
    computed = [row for row in rows if len(row) > 1]
    return computed[-1] if computed else {}


def _values(rows: list[dict[str, Any]], field: str) -> list[int]:
    return [row[field] for row in rows if isinstance(row.get(field), int) and not isinstance(row[field], bool)]


def _total(rows: list[dict[str, Any]], field: str) -> int | None:
    values = _values(rows, field)
    return sum(values) if values else None


def _mean(rows: list[dict[str, Any]], field: str) -> int | None:
    values = _values(rows, field)
    return sum(values) // len(values) if values else None


def _weighted_mean(rows: list[dict[str, Any]], field: str, weight: str) -> int | None:
    pairs = [(row[field], row[weight]) for row in rows
             if isinstance(row.get(field), int) and isinstance(row.get(weight), int) and row[weight] > 0]
    weights = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) // weights if weights else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def issue_ticket(caller: Caller, deps: Deps) -> tuple[str, datetime]:
    """A token that opens the board only, for ``TICKET_TTL_SECONDS``: the mini-program puts it
    in the web-view's URL. Only an admin gets one."""
    import jwt

    if not caller.is_admin:
        raise Forbidden("this needs an admin")
    now = deps.clock()
    expires = now + timedelta(seconds=TICKET_TTL_SECONDS)
    claims = {"sub": caller.user_id, "role": caller.role, "iss": ISSUER, "aud": TICKET_AUDIENCE,
              "iat": int(now.timestamp()), "exp": int(expires.timestamp())}
    return jwt.encode(claims, deps.settings.jwt_secret, algorithm=ALGORITHM), expires


def verify_ticket(ticket: str, deps: Deps) -> Caller:
    """The admin a board ticket was issued to. Unauthenticated when it is forged, expired or
    not a board ticket (a session token is not one); Forbidden when it names no admin."""
    claims = ticket_claims(ticket, TICKET_AUDIENCE, deps)
    if claims.get("role") != "admin":
        raise Forbidden("this needs an admin")
    return Caller(claims["sub"], "admin")


def ticket_claims(ticket: str, audience: str, deps: Deps) -> dict[str, Any]:
    """The claims of a board ticket of ``audience`` (the admin board's or the partner board's):
    Unauthenticated when it is forged, of another audience, expired or not yet valid, or names
    no subject. The clock is ours (``deps.clock``), not PyJWT's."""
    import jwt

    now = deps.clock().timestamp()
    try:
        claims: dict[str, Any] = jwt.decode(
            ticket, deps.settings.jwt_secret, algorithms=[ALGORITHM], issuer=ISSUER, audience=audience,
            options={"require": ["exp", "iat", "sub", "aud"], "verify_exp": False, "verify_iat": False})
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the board link is invalid; open the board again") from exc
    if not isinstance(claims["exp"], int) or claims["exp"] <= now:
        raise Unauthenticated("the board link has expired; open the board again")
    if not isinstance(claims["iat"], int) or claims["iat"] > now + 60 or not isinstance(claims["sub"], str):
        raise Unauthenticated("the board link is not valid yet")
    return claims

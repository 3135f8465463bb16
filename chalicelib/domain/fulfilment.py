"""Fulfilment rules: carriers as WeChat names them, the shipping report's life (WeChat's
发货信息管理 rule), and the admin order list's filters and merge.

Pure: the store keys the list's indexes with ``list_partition``/``status_partition``, the
service decides a report attempt's outcome with ``after_attempt``, the WeChat client builds its
body from a ``Shipment``. docs/orders.md "Batch shipping" and "The shipping information rule".
"""
from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from chalicelib.domain.errors import Kind, error

InvalidCarrier = error("INVALID_CARRIER", Kind.INVALID,
                       "The carrier is not one WeChat knows (docs/orders.md \"Carriers\").")
AlreadyShipped = error("ALREADY_SHIPPED", Kind.CONFLICT, "The order was shipped with another carrier or tracking number.")
DuplicateLine = error("DUPLICATE_LINE", Kind.INVALID, "The batch names this order on an earlier line.")
InvalidDateRange = error("INVALID_DATE_RANGE", Kind.BAD_REQUEST,
                         "from/to are Shanghai days YYYY-MM-DD, from ≤ to, at most MAX_RANGE_DAYS apart.")

InvalidTrackingNo = error("INVALID_TRACKING_NO", Kind.INVALID, "A tracking number is 4 to 40 letters, digits or '-'.")

MAX_BATCH = 100
TRACKING_NO_PATTERN = r"^[A-Za-z0-9\-]{4,40}$"
MAX_RANGE_DAYS = 92  # a quarter: the longest from..to one list covers (a page reads at most PAGE_QUERIES partitions)

# Carrier → WeChat delivery id (``express_company``: the ids of ``get_delivery_list``, which
# differ from the older logistics assistant's: 韵达 is ``YD`` there, not ``YUNDA``). An operator
# may send the id itself or one of the names; matching ignores case and spaces.
CARRIERS: dict[str, tuple[str, ...]] = {
    "SF": ("顺丰", "顺丰速运", "sf express", "shunfeng"),
    "ZTO": ("中通", "中通快递", "zto express", "zhongtong"),
    "YTO": ("圆通", "圆通速递", "yto express", "yuantong"),
    "STO": ("申通", "申通快递", "sto express", "shentong"),
    "YD": ("韵达", "韵达速递", "韵达快递", "yunda", "yunda express"),
    "EMS": ("中国邮政ems", "邮政ems", "ems"),
    "JD": ("京东", "京东物流", "京东快递", "jd logistics"),
    "JTSD": ("极兔", "极兔速递", "j&t", "j&t express"),
    "DBL": ("德邦", "德邦快递", "deppon"),
}
# WeChat requires a contact (masked phone) with every SF shipment.
CONTACT_REQUIRED = frozenset({"SF"})


def _norm(name: str) -> str:
    return "".join(name.split()).lower()


_BY_NAME = {_norm(alias): wid for wid, aliases in CARRIERS.items() for alias in (wid, *aliases)}


def delivery_id(carrier: str) -> str:
    """The WeChat delivery id of an operator's carrier; INVALID_CARRIER when none matches."""
    found = _BY_NAME.get(_norm(carrier))
    if found is None:
        raise InvalidCarrier(f"unknown carrier {carrier!r}", carriers=sorted(CARRIERS))
    return found


def check_tracking_no(tracking_no: str) -> None:
    if not re.match(TRACKING_NO_PATTERN, tracking_no):
        raise InvalidTrackingNo("a tracking number is 4 to 40 letters, digits or '-'", tracking_no=tracking_no[:40])


def item_desc(lines: Iterable[tuple[str, int]], limit: int = 120) -> str:
    """WeChat's ``item_desc``: "name*quantity" joined, at most ``limit`` characters (WeChat's 120)."""
    text = "；".join(f"{name}*{quantity}" for name, quantity in lines) or "商品"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def mask_phone(phone: str | None) -> str | None:
    """A receiver's phone as WeChat takes it: masked, the last 4 digits clear (``138****0000``)."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    if len(digits) < 4:
        return None
    head = digits[-11:][:3] if len(digits) >= 11 else ""  # a mobile's prefix, without a country code
    return f"{head}****{digits[-4:]}"


# --- the shipping report -------------------------------------------------------------------

class ReportState(StrEnum):
    PENDING = "pending"  # not yet accepted by WeChat: the job tries again
    REPORTED = "reported"  # WeChat accepted it
    FAILED = "failed"  # given up (WeChat refused it, or MAX_ATTEMPTS failed): the operator reports it by hand


class Verdict(StrEnum):
    """What WeChat's answer to one attempt means."""

    ACCEPTED = "accepted"
    RETRY = "retry"  # WeChat busy or unreachable, the payment not yet in its system
    REFUSED = "refused"  # the body or the order cannot be reported: retrying changes nothing


MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=5)  # the ship request itself is attempt 1; the job takes over after this
LONGEST_PAUSE = timedelta(hours=6)


@dataclass(frozen=True)
class ShippingReport:
    state: ReportState
    attempts: int = 0
    last_error: str | None = None
    reported_at: datetime | None = None
    due_at: datetime | None = None  # pending: when the job may try again


def first_report(shipped_at: datetime) -> ShippingReport:
    """A shipment's report as its ship transaction writes it: pending, due to the job after
    ``FIRST_RETRY`` (so the job never races the ship request's own attempt)."""
    return ShippingReport(ReportState.PENDING, 0, None, None, shipped_at + FIRST_RETRY)


def after_attempt(report: ShippingReport, verdict: Verdict, error_text: str | None, now: datetime) -> ShippingReport:
    """The report after one more attempt: accepted → reported; refused, or the MAX_ATTEMPTS-th
    failure → failed (given up: an alarm and the operator's list); else pending again after a
    pause doubling from FIRST_RETRY up to LONGEST_PAUSE."""
    attempts = report.attempts + 1
    if verdict is Verdict.ACCEPTED:
        return ShippingReport(ReportState.REPORTED, attempts, None, now, None)
    if verdict is Verdict.REFUSED or attempts >= MAX_ATTEMPTS:
        return ShippingReport(ReportState.FAILED, attempts, error_text, None, None)
    pause = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_PAUSE)
    return ShippingReport(ReportState.PENDING, attempts, error_text, None, now + pause)


@dataclass(frozen=True)
class Shipment:
    """What WeChat is told of one shipped order."""

    out_trade_no: str  # our order id
    openid: str  # the payer's
    delivery_id: str
    tracking_no: str
    item_desc: str
    receiver_contact: str | None
    shipped_at: datetime


# --- the admin order list ------------------------------------------------------------------

PAGE_QUERIES = 64  # the most index Queries one page makes (4 days of 16 shards); fewer matches → a cursor


def list_partition(day: date, shard: str) -> str:
    """The ``by_day`` index's partition of an order created on Shanghai ``day``."""
    return f"{day.isoformat()}#{shard}"


def status_partition(status: str, day: date, shard: str) -> str:
    """The ``by_status`` index's partition: the status, the creation day and the shard."""
    return f"{status}#{day.isoformat()}#{shard}"


def report_partition(state: ReportState, shard: str) -> str:
    """The sparse ``ship_reports`` index's partition (pending and failed reports only)."""
    return f"{state.value}#{shard}"


def day_range(start: date | None, end: date | None, today: date) -> list[date]:
    """The days of a list, newest first. Without ``to``: today; without ``from``: the
    ``MAX_RANGE_DAYS`` before ``to``. INVALID_DATE_RANGE when from > to or the range is longer."""
    last = end or today
    first = start or last - timedelta(days=MAX_RANGE_DAYS - 1)
    if first > last:
        raise InvalidDateRange("from is after to", **{"from": first.isoformat(), "to": last.isoformat()})
    if (last - first).days >= MAX_RANGE_DAYS:
        raise InvalidDateRange(f"a list covers at most {MAX_RANGE_DAYS} days", days=(last - first).days + 1)
    return [last - timedelta(days=n) for n in range((last - first).days + 1)]


def parse_day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else _bad(text, name)
    except ValueError:
        return _bad(text, name)


def _bad(text: str, name: str) -> date:
    raise InvalidDateRange(f"{name} is not a day YYYY-MM-DD", **{name: text})


@dataclass(frozen=True)
class Lane:
    """One index partition the list reads (store/order_lists.py), optionally bounded by creation
    time; every index's sort key is the order's ``created_key`` (``"<ISO time>#<order id>"``)."""

    index: str  # by_day, by_status, by_buyer, by_level1, by_level2, ship_reports
    partition: str
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before

    @property
    def lane_id(self) -> str:
        return f"{self.index}:{self.partition}"


def order_of(created_key: str) -> str:
    """The order id a ``created_key`` ends with."""
    return created_key.partition("#")[2]


def newest(fetched: dict[str, list[str]], want: int) -> list[tuple[str, str]]:
    """The ``want`` newest keys over every lane's fetched keys (each lane's list newest first),
    as (lane, key). Each lane fetched ``want`` keys or all it had, so no key left unfetched can
    be newer than the ``want`` returned: the merge of a page across shards."""
    merged = heapq.merge(*([(key, lane) for key in keys] for lane, keys in fetched.items()), reverse=True)
    return [(lane, key) for key, lane in list(merged)[:want]]


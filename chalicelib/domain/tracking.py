"""Carrier tracking (快递100's subscription protocol, read as our rules): what a carrier's report
means, how its steps merge, when tracking is done, what delivery does to an order's automatic
confirmation, and on-time delivery.

A parcel tracked for us is a *subject*: a shipped order (``order-<order id>``) or an after-sales
return (``return-<case id>``). Its tracking keeps the carrier's steps (newest first, at most
``MAX_STEPS``), the state they add up to, and when it was delivered or came back. Reports come
in any order and any number of times (快递100 pushes the whole history each time, and retries a
push we did not answer): merging a report already seen changes nothing, an older report never
turns the state back, and a final state (delivered, returned to the sender) stays.

Pure: the carrier client builds and reads 快递100's forms (chalicelib/carriers/), the store keeps
``Tracking`` (store/tracking.py), the service decides with these functions (services/delivery.py).
docs/delivery.md.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.errors import Kind, error
from chalicelib.domain.shards import SHARDS

TrackingNotFound = error("TRACKING_NOT_FOUND", Kind.NOT_FOUND, "No parcel is tracked under this id.")
TrackingMismatch = error("TRACKING_MISMATCH", Kind.INVALID,
                         "The carrier's report names another tracking number than the parcel's.")
InvalidCallback = error("INVALID_CALLBACK", Kind.BAD_REQUEST,
                        "The carrier's callback is not a form with a JSON param and a sign.")

MAX_STEPS = 40  # the newest steps kept: a parcel within China rarely has 20
MAX_CONTEXT = 160  # characters of a step's text kept
# No news from the carrier for this long: the tracking job asks 快递100's real-time query itself.
QUIET = timedelta(hours=12)
FIRST_RETRY = timedelta(minutes=5)  # a subscription the ship request could not make: the job's first try
LONGEST_PAUSE = timedelta(hours=6)
MAX_ATTEMPTS = 8  # subscription attempts before giving up (an alarm; the poll fallback then reads it)
GIVE_UP_AFTER = timedelta(days=30)  # a parcel without a final state this long after shipping: no more polling


class TrackState(StrEnum):
    """Where the parcel is, as the carrier says (our names for 快递100's main states)."""

    WAITING = "waiting"  # no step yet
    COLLECTED = "collected"  # 1 揽收
    IN_TRANSIT = "in_transit"  # 0 在途, 7 转投, 8 清关
    PROBLEM = "problem"  # 2 疑难 (held, address problem): still moving or not, the operator may look
    DELIVERING = "delivering"  # 5 派件 (out for delivery)
    DELIVERED = "delivered"  # 3 签收
    RETURNING = "returning"  # 6 退回: on its way back to the sender
    RETURNED = "returned"  # 4 退签, 14 拒签: refused or back at the sender

    @property
    def final(self) -> bool:
        return self in (TrackState.DELIVERED, TrackState.RETURNED)


# 快递100's main states (``lastResult.state`` with resultv2=1) → ours; a high-level state
# (resultv2 ≥ 4: 101, 301, 1401, ...) is read by its main state, its leading digits.
KUAIDI100_STATES: dict[int, TrackState] = {
    0: TrackState.IN_TRANSIT, 1: TrackState.COLLECTED, 2: TrackState.PROBLEM, 3: TrackState.DELIVERED,
    4: TrackState.RETURNED, 5: TrackState.DELIVERING, 6: TrackState.RETURNING, 7: TrackState.IN_TRANSIT,
    8: TrackState.IN_TRANSIT, 14: TrackState.RETURNED,
}


def state_of(code: int) -> TrackState:
    """Our state of a 快递100 state code; an unknown code is a parcel still moving."""
    if code in KUAIDI100_STATES:
        return KUAIDI100_STATES[code]
    main = code // 100 if code >= 100 else code
    return KUAIDI100_STATES.get(main, TrackState.IN_TRANSIT)


# WeChat delivery id (what an order stores, domain/fulfilment.py CARRIERS) → 快递100 company code.
KUAIDI100_COMPANIES: dict[str, str] = {
    "SF": "shunfeng", "ZTO": "zhongtong", "YTO": "yuantong", "STO": "shentong", "YD": "yunda",
    "EMS": "ems", "JD": "jd", "JTSD": "jtexpress", "DBL": "debangkuaidi",
}
# Carriers whose tracking 快递100 gives only with the receiver's (or sender's) phone.
PHONE_REQUIRED = frozenset({"shunfeng"})


def company_of(delivery_id: str) -> str | None:
    """快递100's code of a carrier we ship with (None: not one 快递100 is asked about)."""
    return KUAIDI100_COMPANIES.get(delivery_id)


SUBJECT = re.compile(r"^(order|return)-[A-Za-z0-9_\-]{1,100}$")


def order_subject(order_id: str) -> str:
    return f"order-{order_id}"


def return_subject(case_id: str) -> str:
    return f"return-{case_id}"


def subject_order(subject: str) -> str | None:
    """The order a subject tracks (None: a return)."""
    kind, _, rest = subject.partition("-")
    return rest if kind == "order" else None


def subject_shard(subject: str) -> str:
    """The tracking index's shard of a subject: its id's last hex digit (ids end in random hex),
    else a stable hash of it."""
    last = subject[-1:].lower()
    return last if last in SHARDS else SHARDS[int(hashlib.sha256(subject.encode()).hexdigest(), 16) % len(SHARDS)]


# --- signatures (快递100: MD5, upper-case hex) -----------------------------------------------

def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest().upper()  # noqa: S324 -- 快递100's protocol, not our choice


def salt_for(subject: str, salt_key: str) -> str:
    """The salt a subject is subscribed with: an HMAC of the subject under our key, so every parcel
    has its own (a leaked salt forges one parcel's reports, no other's) and none is stored."""
    return hmac.new(salt_key.encode(), subject.encode(), hashlib.sha256).hexdigest()[:32]


def push_sign(param: str, salt: str) -> str:
    """A push's ``sign``: MD5(param + salt), upper-case hex."""
    return md5_upper(param + salt)


def push_signed(param: str, sign: str, salt: str) -> bool:
    """Whether a push's sign is ours (case ignored; compared in constant time)."""
    return hmac.compare_digest(sign.strip().upper().encode(), push_sign(param, salt).encode())


def query_sign(param: str, key: str, customer: str) -> str:
    """The real-time query's ``sign``: MD5(param + key + customer), upper-case hex."""
    return md5_upper(param + key + customer)


# --- steps and reports ---------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Step:
    at: datetime  # the carrier's time of the step (aware)
    context: str  # what happened, as the carrier wrote it (at most MAX_CONTEXT characters)
    status: str = ""  # the carrier's word for it (在途, 派件, 签收, ...), when given


@dataclass(frozen=True)
class Report:
    """One report of the carrier (a push, or a real-time query's answer)."""

    company: str
    tracking_no: str
    state: TrackState
    steps: tuple[Step, ...]  # as reported, any order
    ended: bool = False  # 快递100 stopped watching it (status shutdown or abort)


def step(at: datetime, context: str, status: str = "") -> Step:
    text = " ".join(context.split())
    return Step(at, text[:MAX_CONTEXT], status[:20])


def merge_steps(kept: Iterable[Step], reported: Iterable[Step], limit: int = MAX_STEPS) -> tuple[Step, ...]:
    """Every step of both, once each, newest first, the ``limit`` newest kept."""
    return tuple(sorted(set(kept) | set(reported), key=lambda s: (s.at, s.context, s.status), reverse=True)[:limit])


# --- the tracking of one parcel ------------------------------------------------------------

class Sub(StrEnum):
    """The subscription with 快递100."""

    PENDING = "pending"  # not yet accepted: the job tries again
    ACTIVE = "active"  # accepted (or already subscribed): 快递100 pushes to us
    FAILED = "failed"  # refused, or given up: only the poll fallback reads the parcel


@dataclass(frozen=True)
class Tracking:
    subject: str
    carrier: str  # the WeChat delivery id
    company: str  # 快递100's code
    tracking_no: str
    started_at: datetime  # when it was shipped
    phone: str | None = None  # sent to 快递100 where the carrier needs it (SF)
    state: TrackState = TrackState.WAITING
    steps: tuple[Step, ...] = ()
    delivered_at: datetime | None = None
    returned_at: datetime | None = None
    sub: Sub = Sub.PENDING
    attempts: int = 0  # subscription attempts
    last_error: str | None = None
    news_at: datetime | None = None  # when a report last changed anything
    due_at: datetime | None = None  # when the tracking job looks at it next; None: nothing more to do
    version: int = 0  # bumped by every write: each write is conditioned on the version read

    @property
    def newest(self) -> datetime | None:
        return self.steps[0].at if self.steps else None


def start(subject: str, carrier: str, company: str, tracking_no: str, now: datetime,
          phone: str | None = None) -> Tracking:
    """A parcel to track, as the ship (or the buyer's return) writes it: the subscription pending,
    due to the job after FIRST_RETRY (the request's own attempt comes first)."""
    return Tracking(subject, carrier, company, tracking_no, now, phone, due_at=now + FIRST_RETRY)


def apply_report(tracking: Tracking, report: Report, now: datetime) -> tuple[Tracking, bool, bool]:
    """The tracking after a report, and whether the report delivered it or sent it back (each
    the first time). The steps are merged; the state is the report's when its newest step is at
    least as new as any kept (an older report never turns it back); a final state stays. The
    delivery time is the carrier's (its newest step), never later than ``now``."""
    steps = merge_steps(tracking.steps, report.steps)
    report_newest = max((s.at for s in report.steps), default=None)
    current = tracking.newest is None or (report_newest is not None and report_newest >= tracking.newest)
    state = tracking.state
    if not state.final and (current or report.state.final):
        state = report.state
    when = min(report_newest or now, now)
    delivered = state is TrackState.DELIVERED and tracking.delivered_at is None
    returned = state is TrackState.RETURNED and tracking.returned_at is None
    after = replace(tracking, steps=steps, state=state,
                    delivered_at=when if delivered else tracking.delivered_at,
                    returned_at=when if returned else tracking.returned_at)
    if after == tracking:
        return tracking, False, False
    due = None if state.final else now + QUIET
    return replace(after, news_at=now, due_at=due), delivered, returned


def after_subscribe(tracking: Tracking, accepted: bool | None, said: str | None, now: datetime) -> Tracking:
    """The tracking after one subscription attempt: ``accepted`` True (or already subscribed):
    active, due to the poll fallback after QUIET without news; False (refused: the same request
    would be refused again) or the MAX_ATTEMPTS-th failure: failed, and the poll fallback reads
    it; None (快递100 busy or unreachable): pending again after a pause doubling from FIRST_RETRY."""
    attempts = tracking.attempts + 1
    if accepted:
        due = None if tracking.state.final else now + QUIET
        return replace(tracking, sub=Sub.ACTIVE, attempts=attempts, last_error=None, due_at=due)
    if accepted is False or attempts >= MAX_ATTEMPTS:
        due = None if tracking.state.final else now + QUIET
        return replace(tracking, sub=Sub.FAILED, attempts=attempts, last_error=said, due_at=due)
    pause = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_PAUSE)
    return replace(tracking, attempts=attempts, last_error=said, due_at=now + pause)


def after_quiet_poll(tracking: Tracking, now: datetime) -> Tracking:
    """A real-time query that brought nothing new: asked again after QUIET, or never again once
    the parcel is GIVE_UP_AFTER past its shipping."""
    if now - tracking.started_at >= GIVE_UP_AFTER:
        return replace(tracking, due_at=None)
    return replace(tracking, due_at=now + QUIET)


# --- what delivery means for the order ----------------------------------------------------

def confirm_due(delivered_at: datetime, auto_confirm_days: int) -> datetime:
    """Automatic confirmation: ``auto_confirm_days`` after the carrier's delivery."""
    return delivered_at + timedelta(days=auto_confirm_days)


def fallback_confirm_due(shipped_at: datetime, fallback_days: int) -> datetime:
    """Automatic confirmation of a parcel the carrier never reports delivered: ``fallback_days``
    after shipping (moved to delivery + auto_confirm_days when the delivery is reported)."""
    return shipped_at + timedelta(days=fallback_days)


def on_time(paid_at: datetime | None, delivered_at: datetime, hours: int) -> bool:
    """On-time delivery (API.md v1.1): delivered at most ``hours`` after payment."""
    return paid_at is not None and delivered_at - paid_at <= timedelta(hours=hours)

"""The demo mall of ``make dev`` (issue 17): a month of a living mall, so that a newcomer's
console, data board and metrics have something to show.

``python -m chalicelib.jobs.demo_mall`` seeds it once (``scripts/dev.py`` runs it after
``chalicelib.jobs.demo``, which seeds the admin and the catalogue). Everything goes through the
use cases, as the mini-program and the operator would: logins, shops, bindings, real names,
orders paid by WeChat Pay notifications (the simulator signs them), shipments, confirmations,
refunds, withdrawals with their transfer bills, events, materials, a settings change, a manual
tier and a freeze, and the scheduled jobs as their schedules would run them (auto-confirmation,
settlement, tiers, team bonus, metrics, transfers). A clock walks the 30 Shanghai days before
the day it runs; the last evening's orders are left paid and waiting to be shipped.

Once: the walk ends by freezing one distributor (``FINAL_FREEZE``); a database where that
distributor is frozen is seeded and left alone. A database where the cast exists but the freeze
does not was interrupted mid-walk: it is left alone too, with a message (start from an empty
``.local/``). A random generator with a fixed seed draws the same mall every time.
"""
from __future__ import annotations

import contextlib
import io
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chalicelib.bootstrap import Deps, set_default_deps
from chalicelib.domain.activity import Event, EventType
from chalicelib.domain.after_sales import CaseKind
from chalicelib.domain.catalog import DEMO_CATALOGUE
from chalicelib.domain.clock import SHANGHAI, business_date, business_month
from chalicelib.domain.errors import DomainError
from chalicelib.domain.identity import check_char
from chalicelib.domain.invariants import holds
from chalicelib.domain.refunds import RefundLine
from chalicelib.domain.tiers import Tier
from chalicelib.domain.withdrawals import WithdrawalStatus
from chalicelib.jobs import run_job
from chalicelib.services import (
    after_sales,
    auth,
    case_refunds,
    distributors,
    events,
    identity,
    materials,
    orders,
    payments,
    referrals,
    settings,
    shops,
    support,
    withdrawals,
)
from chalicelib.services.demo import ADMIN_OPENID
from chalicelib.services.sessions import Caller
from chalicelib.store.users import user_id_for
from chalicelib.wechat.pay_simulator import PaySimulator
from chalicelib.wechat.transfer_simulator import TransferSimulator

DAYS = 30
SEED = 17


@dataclass(frozen=True)
class Seller:
    """A distributor of the cast: ``dev:<name>`` logs them in (their nickname is ``name``)."""

    name: str
    shop: str
    parent: str | None  # the distributor who invited them
    real_name: str
    buyers: int  # customers who arrive through their shares
    weight: int = 1  # how often their customers buy


CAST: tuple[Seller, ...] = (
    Seller("lin.xiaoyu", "晓雨好物精选", None, "林晓雨", 8, 2),  # the partner (a contract: manual tier)
    Seller("chen.siyuan", "思远美妆屋", "lin.xiaoyu", "陈思远", 12, 4),  # becomes senior on her figures
    Seller("wang.kexin", "可欣的小厨房", "lin.xiaoyu", "王可欣", 11, 4),  # becomes senior on her figures
    Seller("zhao.lei", "赵磊数码生活", "lin.xiaoyu", "赵磊", 5),
    Seller("liu.fang", "芳芳茶铺", "chen.siyuan", "刘芳", 4),
    Seller("zhou.min", "敏敏生活馆", "wang.kexin", "周敏", 3),
    Seller("sun.hao", "浩哥家电", None, "孙浩", 4),
)
PARTNER = "lin.xiaoyu"
FINAL_FREEZE = "sun.hao"  # the walk's last step, and the mark that the mall is seeded
UNBOUND_BUYERS = 6
GIVEN = ("xiaomei", "ahua", "dabao", "tingting", "haoran", "yiyi", "junjie", "lele", "mingyue", "ziqi",
         "xiaolong", "nannan", "yufei", "kaikai", "shanshan")
SENIOR = "chen.siyuan"  # senior on her own figures by the walk's end: her message is served first
CONVERSATIONS = (  # (who, hours before the walk's end, what they write, the operator's reply or None)
    ("ahua.wang", 5, "收到的坚果包装破了，可以换吗？", "抱歉！请在订单里申请售后并上传照片，我们尽快处理。"),
    ("xiaomei.chen", 3, "请问我昨天的订单什么时候发货？", None),
    (SENIOR, 1, "这个月的团队奖励什么时候到账？想给团队开会说明一下。", None),
)
CARRIERS = ("ZTO", "YTO", "STO", "YD", "JD", "EMS")
REASONS = ("不想要了", "拍错了规格", "地址写错了", "买多了")
ADDRESS = {"name": "演示买家", "phone": "13800000000", "detail": "上海市静安区南京西路 1 号"}
MATERIALS = (
    ("本周主推：焕颜精华", "换季肌肤干燥，一瓶精华锁住水润。分享给需要的朋友，好物一起用。", "p-beauty-serum"),
    ("办公室零食首选", "每日坚果小包装，一天一包刚刚好，三人拼团更划算。", "p-food-nuts"),
    ("冬季家居好帮手", "空气净化器静音运行，卧室客厅都适用，下单即送滤芯一枚。", "p-appliance-purifier"),
    ("养生花茶上新 模拟审核", "新到的养生花茶，暖身又暖心，欢迎试饮反馈。", "p-tea"),  # held for review
)


class WalkClock:
    """The clock the walk moves by hand (``Deps.clock``)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` in Shanghai on ``day``, in UTC."""
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC)


def id_number(n: int) -> str:
    """A well-formed resident ID number (checksum right), one per seller."""
    first17 = f"31010419900{n % 10}0{n % 3 + 1}{n:03d}"[:17]
    return first17 + check_char(first17)


@dataclass
class Shipped:
    order_id: str
    buyer_id: str
    confirm_on: date | None  # the buyer confirms that day; None: the auto-confirm job does


@dataclass
class Mall:
    deps: Deps
    clock: WalkClock
    rng: random.Random
    admin_id: str
    sellers: dict[str, str] = field(default_factory=dict)  # name → user id
    codes: dict[str, str] = field(default_factory=dict)  # name → invite code
    buyers: list[tuple[str, int]] = field(default_factory=list)  # (user id, weight) of customers in the mall
    to_ship: list[str] = field(default_factory=list)
    shipped: list[Shipped] = field(default_factory=list)
    shipped_today: list[str] = field(default_factory=list)  # the orders of the day's _ship
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def login(self, name: str) -> str:
        return auth.login(f"dev:{name}", self.deps).user.user_id

    def caller(self, user_id: str) -> Caller:
        return Caller(user_id, "user")


def seed_demo_mall(base: Deps, days: int = DAYS, seed: int = SEED) -> dict[str, Any]:
    """Walk ``days`` days of the mall ending yesterday (Shanghai), once; what it did, counted.
    ``{"skipped": reason}`` when the database has it already (or an interrupted walk)."""
    if not base.settings.simulator:
        return {"skipped": "the demo mall plays WeChat's part: simulator mode only"}
    marker = base.users.get(user_id_for(f"dev:{FINAL_FREEZE}"))
    if marker is not None:
        if marker.frozen:
            return {"skipped": "the demo mall is seeded already"}
        return {"skipped": "an earlier walk was interrupted: remove .local/ and run make dev again for a fresh mall"}
    end = base.clock()
    first = business_date(end) - timedelta(days=days)
    clock = WalkClock(at(first, 8))
    deps = Deps(settings=base.settings, clock=clock)
    set_default_deps(deps)
    try:
        admin = auth.login(ADMIN_OPENID, deps).user
        rng = random.Random(seed)  # noqa: S311 -- the demo's draws, not a secret
        mall = Mall(deps, clock, rng, admin.user_id)
        _open_shops(mall)
        for n, day in enumerate(first + timedelta(days=i) for i in range(days)):
            _day(mall, day, n, days)
            clock.at = min(at(day + timedelta(days=1), 0, 30), max(end, at(day, 23, 30)))
            _nightly_jobs(mall, day)
        clock.at = max(end, clock.at)
        _support(mall)
        distributors.freeze(mall.sellers[FINAL_FREEZE], "刷单嫌疑：同一地址多次下单退款（演示）", mall.admin_id, deps)
        return {"days": days, "from": first.isoformat(), **dict(sorted(mall.counts.items()))}
    finally:
        set_default_deps(None)


def _open_shops(mall: Mall) -> None:
    """Day 0 morning: the sellers join, each bound under whoever invited them, and open shops;
    each verifies their real name (withdrawals need it)."""
    for n, seller in enumerate(CAST):
        user_id = mall.sellers[seller.name] = mall.login(seller.name)
        if seller.parent:
            referrals.bind(user_id, mall.codes[seller.parent], mall.deps)
        code = shops.open_shop(user_id, seller.shop, mall.deps).invite_code
        mall.codes[seller.name] = code or ""
        identity.verify_real_name(user_id, seller.real_name, id_number(n + 1), mall.deps)
        mall.count("distributors")
    distributors.set_tier(mall.sellers[PARTNER], Tier.PARTNER, "签约合伙人（演示数据）", mall.admin_id, mall.deps)


def _arrivals(day_index: int, days: int) -> Iterator[tuple[str, Seller | None]]:
    """The customers who arrive on ``day_index``: the sellers' buyers spread over the first two
    thirds of the walk, then the unbound ones."""
    spread = max(1, days * 2 // 3)
    for seller in CAST:
        for i in range(seller.buyers):
            if i * spread // seller.buyers == day_index:
                yield f"{GIVEN[i % len(GIVEN)]}.{seller.name.split('.')[0]}", seller
    for i in range(UNBOUND_BUYERS):
        if i * spread // UNBOUND_BUYERS == day_index:
            yield f"guest.{GIVEN[-1 - i]}", None


def _day(mall: Mall, day: date, n: int, days: int) -> None:
    deps, rng = mall.deps, mall.rng
    mall.clock.at = at(day, 9)
    for name, seller in _arrivals(n, days):
        user_id = mall.login(name)
        if seller is not None:
            referrals.bind(user_id, mall.codes[seller.name], deps)
        mall.buyers.append((user_id, seller.weight if seller else 1))
        mall.count("customers")
    mall.clock.at = at(day, 10)
    _ship(mall, day)
    if day.weekday() == 0 or n == 0:
        _material(mall, n)
    if n == days // 2:
        _raise_food_rate(mall)
    mall.clock.at = at(day, 11)
    _visits(mall, day)
    for hour in (12, 14, 16, 18, 20):
        mall.clock.at = at(day, hour, rng.randrange(60))
        for _ in range(rng.choice((1, 2, 2, 3))):
            _order(mall, day)
    mall.clock.at = at(day, 21)
    _confirm(mall, day)
    if n >= 10 and n % 4 == 2:
        _withdrawals(mall, day)
    if n == days - 2:
        mall.clock.at = at(day, 21, 30)
        _after_sales(mall)


def _visits(mall: Mall, day: date) -> None:
    """A third of the customers open the mini-program: a login and a few pages and products."""
    products = [p.product_id for p in DEMO_CATALOGUE]
    for user_id, _ in mall.buyers:
        if mall.rng.random() > 0.35:
            continue
        user = mall.deps.users.get(user_id)
        if user is None or user.openid is None:
            continue
        auth.login(user.openid, mall.deps)
        now = mall.clock()
        session = uuid.uuid4().hex[:16]
        batch = [Event(EventType.PAGE_VIEW, session, now - timedelta(seconds=30 - i), f"/pages/home{i}")
                 for i in range(mall.rng.randint(1, 4))]
        batch += [Event(EventType.PRODUCT_VIEW, session, now - timedelta(seconds=5), product_id=p)
                  for p in mall.rng.sample(products, mall.rng.randint(1, 3))]
        if mall.rng.random() < 0.2:
            batch.append(Event(EventType.SHARE, session, now - timedelta(seconds=2), product_id=products[0]))
        mall.count("events", events.record_events(user_id, batch, mall.deps).accepted)
    mall.count("visit_days")


def _basket(rng: random.Random) -> list[tuple[str, int]]:
    weights = {"p-beauty-serum": 5, "p-food-nuts": 8, "p-appliance-purifier": 1, "p-mask": 8, "p-tea": 4,
               "p-smart-plug": 2}
    chosen = rng.sample(list(weights), k=rng.choice((1, 1, 1, 2)), counts=list(weights.values()))
    return [(p, 1 if p == "p-appliance-purifier" else rng.choice((1, 1, 2, 3))) for p in dict.fromkeys(chosen)]


def _order(mall: Mall, day: date) -> None:
    """A customer orders; most pay (the Pay simulator's signed notification), a few leave it
    unpaid (the cancel job closes it), and a few paid ones are refunded before shipment."""
    if not mall.buyers:
        return
    rng, deps = mall.rng, mall.deps
    buyer_id = rng.choices([b for b, _ in mall.buyers], weights=[w for _, w in mall.buyers])[0]
    lines = _basket(rng)
    body = {"items": [{"product_id": p, "quantity": q} for p, q in lines], "address": ADDRESS}
    try:
        order = orders.place_order(buyer_id, lines, body, uuid.uuid4().hex, deps).order
    except DomainError:  # sold out: the customer leaves
        mall.count("sold_out")
        return
    mall.count("orders")
    if rng.random() < 0.08:
        mall.count("left_unpaid")
        return
    headers, raw = _simulated(deps.pay, PaySimulator).build_payment_notification(
        order.order_id, mall.clock(), amount_fen=order.amount_fen)
    payments.handle_notification(headers, raw, deps)
    mall.count("paid")
    if rng.random() < 0.05:
        orders.refund(order.order_id, mall.caller(buyer_id), rng.choice(REASONS), deps)
        mall.count("refunded")
        return
    mall.to_ship.append(order.order_id)


def _ship(mall: Mall, day: date) -> None:
    """10:00: the operator ships what was paid before today."""
    mall.shipped_today = list(mall.to_ship)
    for order_id in mall.to_ship:
        order = orders.ship(order_id, mall.rng.choice(CARRIERS), f"DEMO{mall.rng.randrange(10**11):011d}",
                            mall.deps, mall.admin_id)
        later = mall.rng.randint(2, 6)
        mall.shipped.append(Shipped(order_id, order.buyer_id,
                                    day + timedelta(days=later) if mall.rng.random() < 0.7 else None))
        mall.count("shipped")
    mall.to_ship = []


def _confirm(mall: Mall, day: date) -> None:
    """21:00: customers confirm receipt of what they got (the rest: the auto-confirm job)."""
    waiting = []
    for shipped in mall.shipped:
        if shipped.confirm_on == day:
            try:
                orders.confirm(shipped.order_id, mall.caller(shipped.buyer_id), mall.deps)
                mall.count("confirmed")
            except DomainError:  # completed by the job already
                pass
        elif shipped.confirm_on is not None and shipped.confirm_on > day:
            waiting.append(shipped)
    mall.shipped = waiting


AFTER_SALES = (  # (kind, reason, what the operator does) of the cases on orders shipped that morning
    (CaseKind.REFUND_ONLY, "收到时外包装破损，商品有划痕", None),  # left requested, for the queue
    (CaseKind.RETURN_REFUND, "尺码不合适，想退货", "approve"),  # awaiting the buyer's parcel
    (CaseKind.REFUND_ONLY, "少发了一件", "approve"),  # refunded at once
)


def _after_sales(mall: Mall) -> None:
    """The walk's second-last evening: three buyers of orders shipped that morning open after-sales
    cases for one unit (orders of two units or more, so none becomes wholly refunded); the operator
    approves two of them."""
    deps = mall.deps
    found = [o for o in (deps.orders.get(i) for i in mall.shipped_today)
             if o is not None and sum(line.quantity for line in o.lines) >= 2]
    for order, (kind, reason, decision) in zip(found, AFTER_SALES, strict=False):
        line = order.lines[0]
        case = after_sales.open_case(order.order_id, mall.caller(order.buyer_id), after_sales.Opening(
            kind, [RefundLine(line.product_id, 1, line.sku_id)], reason), deps)
        mall.count("after_sales")
        if decision == "approve":
            case_refunds.approve(case.case_id, None, deps, mall.admin_id)


def _withdrawals(mall: Mall, day: date) -> None:
    """The sellers with money available take some out. Sums up to the review threshold transfer
    at once and the seller confirms in WeChat; the first three above it go to the operator (the
    first approved, the second rejected, the third left waiting in the queue)."""
    deps = mall.deps
    threshold = deps.rules.withdrawals.review_above_fen
    wallets = deps.ledger.wallets(list(mall.sellers.values()))
    for name, user_id in mall.sellers.items():
        available = wallets[user_id].get("available", 0)
        if available < 5_000 or name == FINAL_FREEZE:
            continue
        big = mall.counts.get("withdrawals_reviewed", 0)
        amount = threshold + 10_000 if available > threshold + 10_000 and big < 3 else min(available, threshold)
        withdrawal = withdrawals.request_withdrawal(user_id, amount // 100 * 100, f"demo-{day.isoformat()}", deps)
        mall.count("withdrawals")
        if withdrawal.status is WithdrawalStatus.REVIEWING:
            mall.count("withdrawals_reviewed")
            if big == 0:
                withdrawal = withdrawals.approve(withdrawal.withdrawal_id, mall.admin_id, deps)
            elif big == 1:
                withdrawals.reject(withdrawal.withdrawal_id, mall.admin_id, "请先完成本月培训课程后再申请（演示）", deps)
        if withdrawal.status is WithdrawalStatus.WAIT_USER_CONFIRM:
            headers, raw = _simulated(deps.transfers, TransferSimulator).confirm(
                withdrawal.out_bill_no, "success", mall.clock())
            withdrawals.handle_transfer_notification(headers, raw, deps)


def _material(mall: Mall, n: int) -> None:
    """Mondays: the operator publishes the week's material (one is held for review)."""
    title, text, product_id = MATERIALS[min(n // 7, len(MATERIALS) - 1)]
    published = materials.publish(mall.admin_id, title, text, product_id, (), mall.deps)
    mall.count("materials_held" if published.review_id else "materials")


def _raise_food_rate(mall: Mall) -> None:
    """Mid-month the operator raises food's level-1 rate from 16% to 18% (a settings version)."""
    view = settings.current(mall.deps)
    raw = dict(view.rules)
    commission = dict(raw["commission"])
    rates = {k: dict(v) for k, v in commission["category_rates"].items()}
    rates["food"]["level1_rate_bp"] = 1_800
    commission["category_rates"] = rates
    raw["commission"] = commission
    settings.save(raw, view.version, mall.admin_id, mall.deps, "食品类目冲量：一级佣金 16% → 18%（演示）")
    mall.deps.rules_cache.invalidate()
    mall.count("settings_versions")


def _support(mall: Mall) -> None:
    """The walk's last evening: customers write to customer service through the simulator's push
    path (signed, encrypted, into the real handler), one is answered by the operator; a senior
    distributor's message waits first in the queue though it came last."""
    end = mall.clock.at
    for name, hours, text, answer in CONVERSATIONS:
        mall.clock.at = end - timedelta(hours=hours)
        support.simulate_user_message(f"dev:{name}", "text", text, mall.deps)
        mall.count("conversations")
        if answer is not None:
            mall.clock.at += timedelta(minutes=8)
            support.reply(user_id_for(f"dev:{name}"), answer, mall.admin_id, mall.deps)
    mall.clock.at = end


def _simulated[T](client: object, kind: type[T]) -> T:
    """The simulator behind a WeChat port (the walk plays the buyer's and the payee's part)."""
    holds(isinstance(client, kind), f"the {kind.__name__} in simulator mode")
    return client  # type: ignore[return-value]


def _nightly_jobs(mall: Mall, day: date) -> None:
    """After midnight, the jobs of the schedule (docs/jobs.md) as of the walk's clock."""
    now, deps = mall.clock(), mall.deps
    run_job("cancel_unpaid", now, deps)
    if business_month(now) != business_month(at(day, 12)):
        run_job("evaluate_tiers", now, deps)
        run_job("team_bonus", now, deps)
    for job in ("auto_confirm", "settle_commissions", "poll_transfers", "compute_metrics"):
        run_job(job, now, deps)


def summary_line(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return f"demo mall: {result['skipped']}"
    return (f"demo mall: {result['days']} days from {result['from']}: {result.get('distributors', 0)} distributors, "
            f"{result.get('customers', 0)} customers, {result.get('orders', 0)} orders "
            f"({result.get('paid', 0)} paid, {result.get('refunded', 0)} refunded), "
            f"{result.get('withdrawals', 0)} withdrawals, {result.get('after_sales', 0)} after-sales cases")


if __name__ == "__main__":
    with contextlib.redirect_stdout(io.StringIO()):  # the jobs' metric lines (EMF) of 30 days
        outcome = seed_demo_mall(Deps())
    print(summary_line(outcome), flush=True)

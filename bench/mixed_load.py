"""A mixed load on the app's services for a fixed time, and the end-of-run invariants.

Worker threads pick operations at random (weights below) until the time is up: logins, binds and
shop openings, checkouts, payment notifications and their replays, group opens, joins and
payments, shipping and receipt, refunds, settlement runs, the cancellation job, withdrawals and
their transfer notifications, the transfer polling job. Every DomainError is an outcome (its
code); anything else is a failure. Then ``check`` reads the tables back and asserts the
invariants (``tests/race/invariants.py``, plus groups, refunds at WeChat and withdrawals). Run by
tests/race/test_mixed_load.py (20 s in CI) and ``make bench`` (longer, on its own DynamoDB Local).

Clocks: buyers act now; the settlement job runs 4 days ahead (so commissions completed during the
run are due), the cancellation job 16 minutes ahead (so it races payments of orders still
unpaid). All share one Pay and one transfer simulator.
"""
from __future__ import annotations

import random
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.domain.errors import DomainError
from chalicelib.domain.identity import check_char
from chalicelib.jobs import run_job
from chalicelib.services import auth, groups, identity, orders, payments, referrals, shops, withdrawals
from chalicelib.services.sessions import Caller

ADDRESS = {"name": "买家", "phone": "13800000000", "detail": "北京"}
STOCK, GROUP_STOCK = 400, 300
DISTRIBUTORS = 10


def shifted(deps: Deps, ahead: timedelta) -> Deps:
    """Adapters whose clock runs ``ahead``, sharing the WeChat simulators of ``deps``."""
    later = Deps(clock=lambda: datetime.now(UTC) + ahead)
    later.__dict__["pay"] = deps.pay
    later.__dict__["transfers"] = deps.transfers
    return later


def id_number(run: str, n: int) -> str:
    """A valid resident ID number of this run (the store refuses one ID number for two users)."""
    born = date(1960, 1, 1) + timedelta(days=int(run, 16) % 15_000 + n * 3)
    first17 = f"110105{born:%Y%m%d}{n % 1000:03d}"
    return first17 + check_char(first17)


@dataclass
class World:
    """Everything the workers share; lists only grow or are popped under ``lock``."""

    deps: Deps
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # login codes of ``users``
    distributors: list[tuple[str, str]] = field(default_factory=list)  # (user, invite code)
    verified: list[str] = field(default_factory=list)
    products: dict[str, int] = field(default_factory=dict)  # product id → initial stock
    placed: list[str] = field(default_factory=list)  # orders awaiting payment
    paid: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    notes: list[tuple[dict[str, str], bytes]] = field(default_factory=list)  # every notification sent
    groups: list[str] = field(default_factory=list)
    bills: list[str] = field(default_factory=list)  # withdrawals waiting for the user's confirmation
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.later = shifted(self.deps, timedelta(days=4))
        self.expired = shifted(self.deps, timedelta(minutes=16))

    def pick(self, items: list[Any], pop: bool = False) -> Any:
        with self.lock:
            if not items:
                return None
            i = random.randrange(len(items))
            return items.pop(i) if pop else items[i]

    def add(self, items: list[Any], item: Any) -> None:
        with self.lock:
            items.append(item)


def setup(deps: Deps) -> World:
    """Ten distributors (top ← 3 ← 6 as in the flash sale), each verified for withdrawals; a
    normal product and a group-buy product."""
    world = World(deps)
    top = _distributor(world, "top", None)
    regional = [_distributor(world, f"r{i}", top) for i in range(3)]
    for i in range(DISTRIBUTORS - 4):
        _distributor(world, f"l{i}", regional[i % 3])
    for n, (user, _) in enumerate(world.distributors):
        identity.verify_real_name(user, "张三", id_number(world.run, n), deps)
        world.verified.append(user)
    for group_buy, stock in ((None, STOCK), (GroupBuy(), GROUP_STOCK)):
        product_id = f"p{world.run}{len(world.products)}"
        deps.products.put_if_absent(Product(product_id, "面膜", "beauty", 1_500, 5_000, stock, 2_000, 500, group_buy),
                                    deps.clock())
        world.products[product_id] = stock
    return world


def _distributor(world: World, name: str, parent: tuple[str, str] | None) -> tuple[str, str]:
    world.codes.append(f"dev:ml{world.run}{name}")
    user = auth.login(world.codes[-1], world.deps).user.user_id
    code = shops.open_shop(user, f"{name} shop", world.deps).invite_code
    assert code
    if parent:
        referrals.bind(user, parent[1], world.deps)
    world.distributors.append((user, code))
    world.users.append(user)
    return user, code


# Operations ---------------------------------------------------------------------------------------

def login_new(w: World) -> str:
    code = f"dev:ml{w.run}u{uuid.uuid4().hex[:8]}"
    user = auth.login(code, w.deps).user.user_id
    with w.lock:
        w.users.append(user)
        w.codes.append(code)
    return "logged_in"


def login_again(w: World) -> str:
    return "logged_in_again" if not auth.login(w.pick(w.codes), w.deps).new_user else "NEW_AGAIN"


def bind(w: World) -> str:
    user, (_, code) = w.pick(w.users), w.pick(w.distributors)
    if user is None or code is None:
        return "idle"
    referrals.bind(user, code, w.deps)
    return "bound"


def open_shop(w: World) -> str:
    user = w.pick(w.users)
    shop = shops.open_shop(user, "shop", w.deps)
    assert shop.invite_code
    w.add(w.distributors, (user, shop.invite_code))
    return "opened_shop"


def checkout(w: World) -> str:
    buyer = w.pick(w.users)
    product_id = next(iter(w.products))
    quantity = random.choice((1, 1, 2))
    body = {"items": [{"product_id": product_id, "quantity": quantity}], "address": ADDRESS}
    placed = orders.place_order(buyer, [(product_id, quantity)], body, uuid.uuid4().hex, w.deps)
    w.add(w.placed, placed.order.order_id)
    return "ordered"


def pay(w: World) -> str:
    """WeChat's notification for an order awaiting payment, delivered once to three times."""
    order_id = w.pick(w.placed, pop=True)
    if order_id is None:
        return "idle"
    order = w.deps.orders.get(order_id)
    assert order is not None
    note = w.deps.pay.build_payment_notification(order_id, w.deps.clock(), amount_fen=order.amount_fen)  # type: ignore[attr-defined]
    w.add(w.notes, note)
    outcomes = [payments.handle_notification(*note, w.deps).outcome for _ in range(random.choice((1, 1, 2, 3)))]
    if outcomes[0] == "paid":
        w.add(w.paid, order_id)
    return outcomes[0]


def replay(w: World) -> str:
    note = w.pick(w.notes)
    return "idle" if note is None else "replay_" + payments.handle_notification(*note, w.deps).outcome


def open_group(w: World) -> str:
    product_id = list(w.products)[1]
    opened = groups.open_group(w.pick(w.users), product_id, {"product_id": product_id}, uuid.uuid4().hex, w.deps)
    w.add(w.groups, opened.group.group_id)
    w.add(w.placed, opened.order.order_id)
    return "group_opened"


def join_group(w: World) -> str:
    group_id = w.pick(w.groups)
    if group_id is None:
        return "idle"
    joined = groups.join_group(w.pick(w.users), group_id, {}, uuid.uuid4().hex, w.deps)
    w.add(w.placed, joined.order.order_id)
    return "group_joined"


def ship_and_confirm(w: World) -> str:
    order_id = w.pick(w.paid, pop=True)
    if order_id is None:
        return "idle"
    order = orders.ship(order_id, "SF", "SF1234567", w.deps)
    orders.confirm(order_id, Caller(order.buyer_id, "user"), w.deps)
    w.add(w.completed, order_id)
    return "completed"


def refund(w: World) -> str:
    """The buyer asks for a refund, and asks again on 503 (WeChat may have refunded already)."""
    order_id = w.pick(w.paid if random.random() < 0.5 else w.completed)
    if order_id is None:
        return "idle"
    order = w.deps.orders.get(order_id)
    assert order is not None
    refunded = until_answered(lambda: orders.refund(order_id, Caller(order.buyer_id, "user"), "不要了", w.deps))
    return "refunded_" + refunded.status.value


def until_answered(call: Callable[[], Any]) -> Any:
    """A client's retry of the same request while it answers 503 TRY_AGAIN."""
    for _ in range(20):
        try:
            return call()
        except DomainError as exc:
            if exc.code != "TRY_AGAIN":
                raise
            time.sleep(0.02)
    return call()


def settle(w: World) -> str:
    summary = run_job("settle_commissions", w.later.clock(), w.later)
    return f"settled_{min(summary['settled'], 1)}"


class _Never:
    def expired(self) -> bool:
        return False


def cancel_unpaid(w: World) -> str:
    """One worker's slice of the cancellation job: a random shard of ``unpaid``, yesterday and today."""
    from chalicelib.services.due import day_parts

    now = w.expired.clock()
    walked = orders.cancel_unpaid_part(random.choice(day_parts(now, 1)), None, now, w.expired, _Never())
    return f"cancelled_{min(walked.counts['cancelled'], 1)}"


def withdraw(w: World) -> str:
    user = w.pick(w.verified)
    available = w.deps.ledger.wallet(user)["available"]
    amount = max(100, min(available, random.randrange(100, 3_000)))
    taken = withdrawals.request_withdrawal(user, amount, uuid.uuid4().hex, w.deps)
    if taken.status.value == "wait_user_confirm":
        w.add(w.bills, taken.out_bill_no)
    return "withdrawal_" + taken.status.value


def confirm_transfer(w: World) -> str:
    """The user confirms (or WeChat fails) a transfer; its notification arrives, sometimes twice."""
    bill = w.pick(w.bills, pop=True)
    if bill is None:
        return "idle"
    note = w.deps.transfers.confirm(bill, random.choice(("success", "success", "fail")), w.deps.clock())  # type: ignore[attr-defined]
    for _ in range(random.choice((1, 2))):
        done = withdrawals.handle_transfer_notification(*note, w.deps)
    return "transfer_" + (done.status.value if done else "unknown")


def poll(w: World) -> str:
    run_job("poll_transfers", w.deps.clock(), w.deps)
    return "polled"


OPERATIONS: list[tuple[Callable[[World], str], float]] = [
    (login_new, 6), (login_again, 3), (bind, 6), (open_shop, 1), (checkout, 12), (pay, 12), (replay, 3),
    (open_group, 2), (join_group, 5), (ship_and_confirm, 6), (refund, 2), (settle, 1), (cancel_unpaid, 0.3),
    (withdraw, 2), (confirm_transfer, 2), (poll, 1),
]


def run(world: World, seconds: float, threads: int) -> float:
    """Workers until ``seconds`` have passed; returns the wall time. Outcomes in ``world.outcomes``
    (by operation and code), unexpected exceptions in ``world.errors``."""
    operations, weights = zip(*OPERATIONS, strict=True)
    deadline = time.monotonic() + seconds

    def worker() -> None:
        while time.monotonic() < deadline:
            operation = random.choices(operations, weights)[0]
            try:
                outcome = operation(world)
            except DomainError as exc:
                outcome = exc.code
            except Exception:  # noqa: BLE001 (a 5xx: reported by the test)
                world.errors.append(f"{operation.__name__}: {traceback.format_exc()}")
                outcome = "ERROR"
            with world.lock:
                world.outcomes[f"{operation.__name__}:{outcome}"] += 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.monotonic() - started


# The end of a run ---------------------------------------------------------------------------------

def drain(world: World) -> None:
    """What the outside world does after the run: WeChat delivers every payment notification once
    more (a 503 is redelivered), and the transfer polling job runs."""
    for note in world.notes:
        until_answered(lambda note=note: payments.handle_notification(*note, world.deps))
    until_answered(lambda: run_job("poll_transfers", world.deps.clock(), world.deps))


def check(world: World) -> dict[str, Any]:
    """Read every order, commission, wallet, entry, group, withdrawal and the simulators' refunds
    of the run back, and assert the invariants; returns what they counted."""
    from tests.race.invariants import Report, check_counters, check_ledgers, check_orders, check_stock, orders_of

    deps = world.deps
    all_orders = orders_of(world.users)
    report = Report()
    expected = check_orders(all_orders, report)
    payees = {u for o in all_orders for u in (o.upline.level1, o.upline.level2) if u} | set(world.verified)
    check_ledgers(deps, all_orders, expected, payees, report, other_movements=True)
    for user in payees:
        check_withdrawals(deps, user, expected)
    for product_id, stock in world.products.items():
        check_stock(deps, product_id, stock, all_orders)
    check_counters(deps, all_orders)
    check_groups(deps, world.groups)
    check_refunds_at_wechat(deps, all_orders)
    return {"orders": dict(report.orders), "commissions": dict(report.commissions), "payees": report.payees,
            "paid_fen": report.paid_fen, "commission_fen": report.commission_fen, "profit_fen": report.profit_fen,
            "clawed_back_wallets": report.clawed_back_wallets, "groups": len(world.groups)}


def check_withdrawals(deps: Deps, user: str, expected: dict[tuple[str, str, int], int]) -> None:
    """The wallet = its commissions by status, less what its withdrawals took: a withdrawal in
    flight holds its amount in ``withdrawing``, a paid one in ``withdrawn``, a returned one nothing."""
    from chalicelib.domain.withdrawals import WithdrawalStatus
    from chalicelib.store.ledger import LedgerItem

    wallet = dict.fromkeys(("pending", "frozen", "available", "withdrawing", "withdrawn"), 0)
    bucket = {"pending": "pending", "frozen": "frozen", "available": "available"}
    for item in LedgerItem.query(user, LedgerItem.sk.startswith("commission#"), consistent_read=True):
        if (item.status or "") in bucket and (user, item.order_id, int(item.level or 0)) in expected:
            wallet[bucket[item.status or ""]] += int(item.amount_fen or 0)
    cursor: str | None = ""
    while cursor is not None:
        page, cursor = deps.withdrawals.of_user(user, 100, cursor or None)
        for w in page:
            if w.status is WithdrawalStatus.RETURNED:
                continue
            wallet["available"] -= w.amount_fen
            wallet["withdrawn" if w.status is WithdrawalStatus.PAID else "withdrawing"] += w.amount_fen
    assert deps.ledger.wallet(user) == wallet, (user, deps.ledger.wallet(user), wallet)


def check_groups(deps: Deps, group_ids: list[str]) -> None:
    """A group never has more paid seats than its size; complete exactly when all are paid; each
    paid seat's order is paid (or refunded later)."""
    from chalicelib.domain.groups import GroupStatus, SeatState

    for group_id in group_ids:
        group = deps.groups.get(group_id)
        assert group is not None
        seats = [seat for _, seat in group.members()]
        paid = [seat for seat in seats if seat.state is SeatState.PAID]
        assert len(paid) == group.paid_count <= group.size, (group_id, group)
        assert (group.status is GroupStatus.COMPLETE) == (group.paid_count == group.size), (group_id, group)
        for seat in paid:
            order = deps.orders.get(seat.order_id)
            assert order is not None and order.paid_at is not None, (group_id, seat)


def check_refunds_at_wechat(deps: Deps, all_orders: list[Any]) -> None:
    """No money lost or kept: every payment WeChat took is recorded on its order or refunded as
    too late (``L``, only for a cancelled order), never both; at most one refund per order and
    reason, ``R`` exactly for a refunded order."""
    from chalicelib.domain.orders import OrderStatus

    known = deps.pay._orders  # type: ignore[attr-defined]
    for order in all_orders:
        at_wechat = known.get(order.order_id)
        numbers = sorted(at_wechat.refunds) if at_wechat else []
        taken = at_wechat is not None and at_wechat.transaction_id is not None
        assert taken == (order.paid_at is not None or f"{order.order_id}L" in numbers), (order, numbers)
        assert set(numbers) <= {f"{order.order_id}R", f"{order.order_id}L"}, numbers
        assert (f"{order.order_id}R" in numbers) == (order.status is OrderStatus.REFUNDED), (order, numbers)
        if f"{order.order_id}L" in numbers:
            assert order.status is OrderStatus.CANCELLED and order.paid_at is None, (order, numbers)


# ``make bench`` ----------------------------------------------------------------------------------

def figures(deps: Deps, seconds: float, threads: int) -> dict[str, Any]:
    """A run of ``seconds`` on ``threads`` (the bench's DynamoDB Local), the drain and the checks."""
    world = setup(deps)
    wall = run(world, seconds, threads)
    if world.errors:
        raise RuntimeError("the mixed load hit unexpected errors:\n" + "\n".join(world.errors[:3]))
    drain(world)
    started = time.monotonic()
    found = check(world)
    per_operation: Counter[str] = Counter()
    for key, count in world.outcomes.items():
        per_operation[key.split(":")[0]] += count
    return {"seconds": wall, "threads": threads, "operations": sum(world.outcomes.values()),
            "per_operation": dict(per_operation), "outcomes": dict(world.outcomes), "checked": found,
            "check_seconds": time.monotonic() - started}


def section(r: dict[str, Any]) -> str:
    c = r["checked"]
    busy = sum(n for k, n in r["outcomes"].items() if k.endswith(":TRY_AGAIN"))
    lines = [f"Mixed load on DynamoDB Local: {r['operations']:,} operations in {r['seconds']:.0f} s on {r['threads']} "
             f"threads ({r['operations'] / r['seconds']:.0f}/s, {busy} answered 503 TRY_AGAIN); invariants hold "
             f"(checked in {r['check_seconds']:.1f} s)",
             "  " + ", ".join(f"{op} {n}" for op, n in sorted(r["per_operation"].items())),
             f"  orders {c['orders']}; commissions {c['commissions']}; {c['groups']} groups; {c['payees']} wallets, "
             f"{c['clawed_back_wallets']} with a clawback",
             f"  paid {c['paid_fen']:,} fen = cost + commission {c['commission_fen']:,} + platform profit "
             f"{c['profit_fen']:,}"]
    return "\n".join(lines)

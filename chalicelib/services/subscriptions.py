"""Subscribe messages (订阅消息): the user's consents, the four messages, their sending.

``record_choices`` counts the accepts the mini-program reports; ``notify`` is the one hook a
business change calls **after its commit**: it queues the message of a cause once, spending one
consent (no consent, no template configured: nothing), then tries WeChat once. It never raises:
the business write is done whatever happens here (an ERROR log and the metric
``subscribe_message_error``). The ``send_messages`` job (every 5 minutes) tries the pending ones
again. docs/subscribe-messages.md.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.errors import Unavailable
from chalicelib.domain.invariants import holds
from chalicelib.domain.shards import SHARDS
from chalicelib.domain.slices import Progress
from chalicelib.domain.subscriptions import (
    Choice,
    Message,
    MessageKind,
    Notice,
    UnknownTemplate,
    Verdict,
    after_attempt,
    claimed,
    render,
)

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.config import MessageRules
    from chalicelib.services.due import Deadline


@dataclass(frozen=True)
class Subscription:
    kind: MessageKind
    template_id: str
    remaining: int


def templates(deps: Deps) -> dict[str, MessageKind]:
    """The configured template ids, each with its kind."""
    rules = deps.rules.messages
    return {t.template_id: kind for kind in MessageKind if (t := rules.template(kind)).template_id}


def record_choices(user_id: str, results: Mapping[str, str], deps: Deps) -> list[Subscription]:
    """The user's answers to ``wx.requestSubscribeMessage``: each ``accept`` allows one message of
    its template (one-time subscriptions); reject, ban and filter change nothing. A template id
    not in the settings: UNKNOWN_TEMPLATE, nothing recorded."""
    known = templates(deps)
    unknown = sorted(t for t in results if t not in known)
    if unknown:
        raise UnknownTemplate("not a template of the settings", template_ids=unknown, known=sorted(known))
    accepted = {t: known[t] for t, choice in results.items() if Choice(choice) is Choice.ACCEPT}
    if accepted:
        user = deps.users.get(user_id)
        holds(user is not None, "an authenticated caller has a profile")
        deps.subscriptions.grant(user_id, user.openid if user else "", accepted, deps.clock())
    return my_subscriptions(user_id, deps)


def my_subscriptions(user_id: str, deps: Deps) -> list[Subscription]:
    """Every configured template with the consents left (the mini-program asks again for those at 0)."""
    left = {c.template_id: c.credits for c in deps.subscriptions.consents(user_id)}
    return [Subscription(kind, template_id, left.get(template_id, 0)) for template_id, kind in templates(deps).items()]


def notify(notice: Notice, deps: Deps, send: bool = True) -> str:
    """The hook: queue ``notice``'s message once and try it once (``send``). Returns what
    happened (``queued``/``sent``/…, ``no_template``, ``no_consent``, ``already``, ``error``);
    never raises."""
    try:
        return _notify(notice, deps, send)
    except Exception:  # noqa: BLE001 (the business write is committed: a message never undoes it)
        from chalicelib.observability import logger, metrics

        metrics().add_metric(name="subscribe_message_error", unit="Count", value=1)
        logger().exception("subscribe message not queued", extra={"kind": notice.kind.value, "cause": notice.cause,
                                                                   "user_id": notice.user_id})
        return "error"


def _notify(notice: Notice, deps: Deps, send: bool) -> str:
    rules = deps.rules.messages
    template = rules.template(notice.kind)
    if not template.template_id:
        return "no_template"
    consent = deps.subscriptions.consent(notice.user_id, template.template_id)
    if consent is None or consent.credits <= 0:
        return "no_consent"
    data, page = render(template, notice.values)
    now = deps.clock()
    message = claimed(Message(notice.user_id, notice.kind, notice.cause, consent.openid, template.template_id, page,
                              data, now), now)
    if not deps.subscriptions.enqueue(message):
        return "already"  # queued before, or the last consent spent meanwhile
    return attempt(message, rules, deps) if send else "queued"


def attempt(message: Message, rules: MessageRules, deps: Deps) -> str:
    """One attempt at a message claimed for it (``claimed``, stored): its outcome recorded,
    conditioned on the attempts claimed. Returns the message's state after it."""
    try:
        verdict, said = deps.subscribe_messages.send(message, rules.miniprogram_state, rules.lang)
    except Unavailable as exc:
        verdict, said = Verdict.RETRY, exc.message
    after = after_attempt(message, verdict, said, deps.clock())
    if not deps.subscriptions.record(after, message.attempts):
        return "skipped"
    _observe(after)
    return after.state.value


def _observe(message: Message) -> None:
    from chalicelib.observability import logger, metrics

    metrics().add_metric(name=f"subscribe_message_{message.state.value}", unit="Count", value=1)
    if message.state.value == "failed":
        logger().error("subscribe message given up: check the template's id, fields and page in the settings",
                       extra={"kind": message.kind.value, "cause": message.cause, "wechat": message.last_error})


def sent_by_simulator(deps: Deps) -> list[dict[str, object]]:
    """What the simulator delivered, newest first (simulator mode only)."""
    from chalicelib.wechat.subscribe_simulator import SubscribeSimulator

    sender = deps.subscribe_messages
    holds(isinstance(sender, SubscribeSimulator), "the dev route runs in simulator mode")
    return sender.recent() if isinstance(sender, SubscribeSimulator) else []


SEND_PAGE = 25


def send_parts(now: datetime, deps: Deps) -> list[str]:
    """Job ``send_messages`` (every 5 minutes): a part per shard of the outbox."""
    return list(SHARDS)


def send_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Progress:
    """Job ``send_messages``, one slice of a shard: each pending message due by ``now`` claimed
    (conditioned on its attempts read: a message is sent by one sender at a time) and tried once."""
    holds(part in SHARDS, f"a send part is a shard ({part!r})")
    counts = {"sent": 0, "pending": 0, "refused": 0, "failed": 0, "skipped": 0}
    rules = deps.rules.messages
    while True:
        due, cursor = deps.subscriptions.due(part, now, cursor, SEND_PAGE)
        for message in due:
            taken = claimed(message, deps.clock())
            outcome = attempt(taken, rules, deps) if deps.subscriptions.record(taken, message.attempts) else "skipped"
            counts[outcome] += 1
        if cursor is None or deadline.expired():
            return Progress(counts, cursor)

"""Subscribe messages (订阅消息): the user's consents, and the simulator's deliveries
(docs/subscribe-messages.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

MODELS = "chalicelib.api.subscription_schemas"
if TYPE_CHECKING:
    from chalicelib.api import subscription_schemas as s
    from chalicelib.services import subscriptions
else:
    s, subscriptions = lazy(MODELS), lazy("chalicelib.services.subscriptions")

bp = Blueprint(__name__)


def _answer(items: list[subscriptions.Subscription]) -> s.SubscriptionsAnswer:
    return s.SubscriptionsAnswer(items=[s.SubscriptionOut(kind=i.kind.value, template_id=i.template_id,
                                                          remaining=i.remaining) for i in items])


@endpoint(bp, "/v1/me/subscriptions", "POST", tag="messages", body="SubscriptionsBody",
          response="SubscriptionsAnswer", models=MODELS, errors=("UNKNOWN_TEMPLATE",),
          summary="Report the user's choices of wx.requestSubscribeMessage: each accept allows one subscribe "
                  "message of its template (one-time subscriptions)")
def record(call: Call) -> s.SubscriptionsAnswer:
    return _answer(subscriptions.record_choices(call.user_id, call.body.results, call.deps))


@endpoint(bp, "/v1/me/subscriptions", tag="messages", response="SubscriptionsAnswer", models=MODELS,
          summary="The subscribe-message templates to ask for, and the consents the caller has left of each")
def mine(call: Call) -> s.SubscriptionsAnswer:
    return _answer(subscriptions.my_subscriptions(call.user_id, call.deps))


@endpoint(bp, "/v1/dev/subscribe-messages", auth="simulator", tag="simulator", response="SentMessagesAnswer",
          models=MODELS, summary="What the subscribe-message simulator delivered, newest first (simulator mode only)")
def sent(call: Call) -> s.SentMessagesAnswer:
    return s.SentMessagesAnswer(items=subscriptions.sent_by_simulator(call.deps))

"""Customer service (客服): WeChat's message push, the operator's inbox, the simulator's user
(docs/customer-service.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

MODELS = "chalicelib.api.support_schemas"
if TYPE_CHECKING:
    from chalicelib.api import support_schemas as s
    from chalicelib.services import support
else:
    s, support = lazy(MODELS), lazy("chalicelib.services.support")

bp = Blueprint(__name__)
TEXT = "text/plain"
PUSH_TYPES = ("text/xml", "application/xml")  # besides JSON and text/plain: WeChat's XML format
CONVERSATION = "/v1/admin/support/conversations/{user_id}"


def _text(body: str) -> Response:
    return Response(body=body, status_code=200, headers={"Content-Type": "text/plain; charset=utf-8"})


@endpoint(bp, "/v1/wechat/message", auth="public", tag="support", query="PushCheckQuery", models=MODELS,
          produces=TEXT, errors=("INVALID_SIGNATURE",),
          summary="WeChat's URL verification of the message push: echostr as it came, once signature verifies")
def push_check(call: Call) -> Response:
    return _text(support.verify_url(call.query.model_dump(), call.deps))


@endpoint(bp, "/v1/wechat/message", "POST", auth="public", tag="support", query="PushQuery", models=MODELS,
          produces=TEXT, content_types=PUSH_TYPES, errors=("INVALID_SIGNATURE", "MALFORMED_PUSH"),
          summary="WeChat's message push (JSON or XML, plain or secure mode): a user's message into the inbox "
                  "once (replays by MsgId change nothing); answers success")
def push(call: Call) -> Response:
    query = {k: v for k, v in call.query.model_dump().items() if v is not None}
    support.receive_push(query, call.raw_body, call.deps)
    return _text("success")


@endpoint(bp, "/v1/admin/support/conversations", auth="admin", tag="support", query="InboxQuery",
          response="InboxAnswer", models=MODELS, errors=("INVALID_CURSOR",),
          summary="The inbox: waiting conversations (senior and partner distributors first, then the longest "
                  "waiting), or every conversation by latest activity")
def inbox(call: Call) -> s.InboxAnswer:
    q = call.query
    rows, next_cursor = (support.queue if q.status == "waiting" else support.conversations)(q.limit, q.next, call.deps)
    now = call.deps.clock()
    return s.InboxAnswer(items=[s.ConversationOut.of(r.conversation, r.user, now) for r in rows], next=next_cursor)


@endpoint(bp, CONVERSATION, auth="admin", tag="support", query="ThreadQuery", response="ThreadAnswer", models=MODELS,
          errors=("CONVERSATION_NOT_FOUND", "INVALID_CURSOR"),
          summary="A conversation: its messages (newest first), the reply window, the user's newest orders and "
                  "after-sales cases")
def thread(call: Call) -> s.ThreadAnswer:
    t = support.conversation(call.params["user_id"], call.query.limit, call.query.next, call.deps)
    return s.ThreadAnswer(conversation=s.ConversationOut.of(t.conversation, t.user, call.deps.clock()),
                          messages=[s.MessageOut.of(m) for m in t.messages], next=t.next_cursor,
                          orders=[s.LinkedOrderOut.of(o) for o in t.orders],
                          after_sales=[s.LinkedCaseOut.of(c) for c in t.cases])


@endpoint(bp, CONVERSATION + "/reply", "POST", auth="admin", tag="support", status=201, body="ReplyBody",
          response="MessageOut", models=MODELS,
          errors=("CONVERSATION_NOT_FOUND", "REPLY_WINDOW_CLOSED", "REPLY_LIMIT_REACHED", "REPLY_REFUSED",
                  "TEXT_TOO_LONG"),
          summary="Answer the user through WeChat's customerServiceMessage.send, inside WeChat's reply window "
                  "(5 messages in 48 h after the user's message); audited")
def reply(call: Call) -> s.MessageOut:
    return s.MessageOut.of(support.reply(call.params["user_id"], call.body.text, call.user_id, call.deps))


@endpoint(bp, CONVERSATION + "/close", "POST", auth="admin", tag="support", body="CloseBody",
          response="ConversationOut", models=MODELS, errors=("CONVERSATION_NOT_FOUND", "CONVERSATION_CLOSED"),
          summary="Take a waiting conversation out of the queue without a reply (the user's next message brings it "
                  "back); audited")
def close(call: Call) -> s.ConversationOut:
    conversation = support.close(call.params["user_id"], call.body.reason, call.user_id, call.deps)
    return s.ConversationOut.of(conversation, call.deps.users.get(conversation.user_id, consistent=False),
                                call.deps.clock())


@endpoint(bp, "/v1/dev/support/messages", "POST", auth="simulator", tag="simulator", body="DevMessageBody",
          response="DevMessageAnswer", models=MODELS,
          summary="Play a user writing to customer service: a push signed (and encrypted) as WeChat sends it, "
                  "delivered to the real endpoint's handler")
def dev_message(call: Call) -> s.DevMessageAnswer:
    b = call.body
    status, query, body = support.simulate_user_message(b.openid, b.kind, b.text, call.deps, b.format, b.encrypted)
    return s.DevMessageAnswer(status=status, push={"query": query, "body": body.decode()})

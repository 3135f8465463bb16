"""Customer service over HTTP (docs/customer-service.md): WeChat's message push (URL check,
signatures, secure mode, JSON and XML, replays), the operator's inbox and its order, replies inside
WeChat's window, closing. Every refusal changes no table."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.bootstrap import default_deps
from chalicelib.domain.audit import Action
from chalicelib.domain.tiers import Tier
from chalicelib.store.audit import entries_page
from chalicelib.store.users import user_id_for
from chalicelib.wechat.message_push import seal_push, sha1_signature
from tests.api.test_abuse import refused
from tests.api.test_authorization import snapshot

INBOX = "/v1/admin/support/conversations"


def push(api: Any, openid: str, text: str = "在吗", **extra: Any) -> dict[str, Any]:
    status, body = api.call("POST", "/v1/dev/support/messages", {"openid": openid, "text": text, **extra})
    assert status == 200, body
    return body


def deliver(api: Any, query: dict[str, str], body: str | bytes, content_type: str = "application/json") -> tuple[int, Any]:
    return api.call("POST", "/v1/wechat/message?" + urlencode(query), raw=body, headers={"Content-Type": content_type})


def thread(api: Any, admin: str, user_id: str) -> dict[str, Any]:
    status, answer = api.call("GET", f"{INBOX}/{user_id}", token=admin)
    assert status == 200, answer
    return answer


def keys() -> Any:
    from chalicelib.services.support import push_keys

    return push_keys(default_deps())


@pytest.fixture
def admin(api: Any) -> str:
    return api.login("admin")[0]


# WeChat's push -------------------------------------------------------------------------------

def test_wechats_url_check_gets_echostr_back_as_plain_text(api):
    token = default_deps().settings.wechat_message_token
    query = {"signature": sha1_signature(token, "1714036504", "1514711492"), "timestamp": "1714036504",
             "nonce": "1514711492", "echostr": "4375120948345356249"}
    response = api.client.http.get("/v1/wechat/message?" + urlencode(query))
    assert (response.status_code, response.body) == (200, b"4375120948345356249")
    assert response.headers["Content-Type"].startswith("text/plain")


def test_a_url_check_with_a_wrong_signature_is_401(api):
    query = {"signature": "0" * 40, "timestamp": "1", "nonce": "2", "echostr": "3"}
    status, body = api.call("GET", "/v1/wechat/message?" + urlencode(query))
    assert (status, body["error"]["code"]) == (401, "INVALID_SIGNATURE")


def test_a_users_message_lands_in_the_queue_once_however_often_wechat_sends_it(api, admin):
    api.login("alice")
    sent = push(api, "dev:alice", "我的快递到哪了")
    assert sent["status"] == "taken"
    for _ in range(3):  # WeChat's retries (no answer in 5 s) and a replay by anyone who saw it
        status, answer = deliver(api, sent["push"]["query"], sent["push"]["body"])
        assert (status, answer) == (200, "success")
    uid = user_id_for("dev:alice")
    t = thread(api, admin, uid)
    assert [m["text"] for m in t["messages"]] == ["我的快递到哪了"]
    assert (t["conversation"]["status"], t["conversation"]["unread"], t["conversation"]["nickname"]) == (
        "waiting", 1, "alice")


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("encrypted", [True, False], ids=["secure", "plain"])
def test_every_mode_and_format_of_the_push_is_taken(api, admin, fmt, encrypted):
    message = {"ToUserName": "gh_1", "FromUserName": "o-mode", "CreateTime": 1796575424, "MsgType": "text",
               "Content": f"{fmt} <&> 模式", "MsgId": 42}
    query, body = seal_push(keys(), message, 1796575424, fmt, encrypted)
    content_type = "text/xml" if fmt == "xml" else "application/json"
    assert deliver(api, query, body, content_type) == (200, "success")
    assert [m["text"] for m in thread(api, admin, user_id_for("o-mode"))["messages"]] == [f"{fmt} <&> 模式"]


def _sealed() -> tuple[dict[str, str], bytes]:
    message = {"ToUserName": "gh_1", "FromUserName": "o-x", "CreateTime": 1796575424, "MsgType": "text",
               "Content": "hi", "MsgId": 7}
    return seal_push(keys(), message, 1796575424)


@pytest.mark.parametrize("tamper", ["signature", "msg_signature", "timestamp", "Encrypt"])
def test_a_push_that_does_not_verify_is_401_and_changes_nothing(api, tamper):
    query, body = _sealed()
    if tamper == "Encrypt":
        body = body.replace(b'"Encrypt":"', b'"Encrypt":"A')
    elif tamper == "timestamp":
        query = {**query, "timestamp": str(int(query["timestamp"]) + 1)}
    else:
        query = {**query, tamper: "f" * 40}
    before = snapshot()
    status, answer = deliver(api, query, body)
    assert (status, answer["error"]["code"]) == (401, "INVALID_SIGNATURE")
    assert snapshot() == before


def test_a_signed_body_that_is_not_a_message_is_400_and_a_push_without_signature_422(api):
    token = default_deps().settings.wechat_message_token
    query = {"signature": sha1_signature(token, "1", "2"), "timestamp": "1", "nonce": "2"}
    before = snapshot()
    status, answer = deliver(api, query, "[1]")
    assert (status, answer["error"]["code"]) == (400, "MALFORMED_PUSH")
    status, answer = deliver(api, {"timestamp": "1"}, "{}")
    assert (status, answer["error"]["code"]) == (422, "VALIDATION_FAILED")
    assert snapshot() == before


def test_events_other_than_entering_are_answered_success_and_kept_nowhere(api):
    message = {"ToUserName": "gh_1", "FromUserName": "o-e", "CreateTime": 1796575424, "MsgType": "event",
               "Event": "subscribe_msg_popup_event"}
    query, body = seal_push(keys(), message, 1796575424)
    before = snapshot()
    assert deliver(api, query, body) == (200, "success")
    assert snapshot() == before


# The inbox -----------------------------------------------------------------------------------

def test_the_queue_serves_senior_and_partner_distributors_first_then_the_longest_waiting(api, admin, clock):
    names = ["r-early", "senior", "r-late", "partner"]
    ids = {name: api.distributor(name)[1] for name in names}
    for name, tier in (("senior", Tier.SENIOR), ("partner", Tier.PARTNER)):
        status, answer = api.call("POST", f"/v1/admin/users/{ids[name]}/tier", {"tier": tier.value, "reason": "x"}, admin)
        assert status == 200, answer
    for name in names:
        push(api, f"dev:{name}")
        clock.advance(minutes=10)
    status, inbox = api.call("GET", INBOX, token=admin)
    assert status == 200, inbox
    assert [i["user_id"] for i in inbox["items"]] == [ids[n] for n in ("senior", "partner", "r-early", "r-late")]
    assert [i["priority"] for i in inbox["items"]] == [True, True, False, False]
    pages, cursor = [], None
    while True:  # one conversation a page, across the 16 shards of the index
        status, page = api.call("GET", INBOX + "?" + urlencode({"limit": 1, **({"next": cursor} if cursor else {})}),
                                token=admin)
        assert status == 200, page
        pages += [i["user_id"] for i in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert pages == [i["user_id"] for i in inbox["items"]]


def test_answered_conversations_leave_the_queue_and_stay_in_the_list_of_all(api, admin, clock):
    for name in ("a1", "a2"):
        api.login(name)
        push(api, f"dev:{name}")
        clock.advance(minutes=1)
    assert api.call("POST", f"{INBOX}/{user_id_for('dev:a1')}/reply", {"text": "您好"}, admin)[0] == 201
    waiting = api.call("GET", INBOX, token=admin)[1]["items"]
    everything = api.call("GET", INBOX + "?status=all", token=admin)[1]["items"]
    assert [i["user_id"] for i in waiting] == [user_id_for("dev:a2")]
    assert [i["user_id"] for i in everything] == [user_id_for("dev:a1"), user_id_for("dev:a2")]  # latest first
    assert everything[0]["status"] == "answered"


def test_a_conversation_links_the_users_orders_and_after_sales_cases(api, admin):
    from tests.api.test_orders import order, product

    token, uid = api.login("buyer")
    pid = product(api, admin)["product_id"]
    oid = order(api, token, [{"product_id": pid, "quantity": 1}])[1]["order_id"]
    push(api, "dev:buyer", "订单什么时候发货")
    linked = thread(api, admin, uid)
    assert [(o["order_id"], o["status"]) for o in linked["orders"]] == [(oid, "pending_payment")]
    assert linked["orders"][0]["href"] == f"/v1/admin/orders?buyer_id={uid}"
    assert linked["after_sales"] == []
    assert api.call("POST", f"/v1/dev/pay/{oid}")[1]["status"] == "paid"
    assert api.call("POST", f"/v1/admin/orders/{oid}/ship", {"carrier": "SF", "tracking_no": "SF1234567"}, admin)[0] == 200
    status, case = api.call("POST", f"/v1/orders/{oid}/after-sales", {
        "kind": "refund_only", "lines": [{"product_id": pid, "quantity": 1}], "reason": "破损"}, token)
    assert status == 201, case
    cases = thread(api, admin, uid)["after_sales"]
    assert [(c["case_id"], c["order_id"], c["status"]) for c in cases] == [(case["case_id"], oid, "requested")]
    assert cases[0]["href"] == f"/v1/after-sales/{case['case_id']}"


def test_bad_inbox_input_is_4xx(api, admin):
    refused(api, "GET", f"{INBOX}/u-nobody", None, admin, 404, "CONVERSATION_NOT_FOUND")
    refused(api, "GET", INBOX + "?next=garbage", None, admin, 400, "INVALID_CURSOR")
    refused(api, "GET", INBOX + "?status=odd", None, admin, 422, "VALIDATION_FAILED")
    push(api, "dev:c")
    cursor = api.call("GET", INBOX + "?status=all&limit=1", token=admin)[1]
    push(api, "dev:d")
    cursor = api.call("GET", INBOX + "?status=all&limit=1", token=admin)[1]["next"]
    refused(api, "GET", INBOX + "?" + urlencode({"next": cursor}), None, admin, 400, "INVALID_CURSOR")


def test_a_user_cannot_read_the_inbox_or_reply(api):
    token, uid = api.login("nosy")
    push(api, "dev:nosy")
    refused(api, "GET", INBOX, None, token, 403, "FORBIDDEN")
    refused(api, "POST", f"{INBOX}/{uid}/reply", {"text": "x"}, token, 403, "FORBIDDEN")


# Replies ---------------------------------------------------------------------------------------

def test_a_reply_goes_out_through_wechat_and_is_audited_with_the_conversation(api, admin, deps):
    api.login("bob")
    push(api, "dev:bob", "退货怎么寄")
    uid = user_id_for("dev:bob")
    status, message = api.call("POST", f"{INBOX}/{uid}/reply", {"text": "请寄回仓库，运费我们承担"}, admin)
    assert status == 201, message
    assert (message["sender"], message["text"]) == ("operator", "请寄回仓库，运费我们承担")
    assert [b["text"]["content"] for b in deps.customer_service.sent("dev:bob")] == ["请寄回仓库，运费我们承担"]
    conversation = thread(api, admin, uid)["conversation"]
    assert (conversation["status"], conversation["unread"], conversation["replies_left"]) == ("answered", 0, 4)
    day = deps.clock().date()
    entries, _ = entries_page(day, day, None, Action.SUPPORT_REPLY, None, 10)
    assert [(e.target, e.after["message_id"]) for e in entries] == [(f"user#{uid}", message["message_id"])]


def test_no_reply_after_48_hours_and_none_past_five(api, admin, clock, deps):
    push(api, "dev:late")
    uid = user_id_for("dev:late")
    for i in range(5):
        assert api.call("POST", f"{INBOX}/{uid}/reply", {"text": f"第{i}条"}, admin)[0] == 201
    refused(api, "POST", f"{INBOX}/{uid}/reply", {"text": "第六条"}, admin, 409, "REPLY_LIMIT_REACHED")
    push(api, "dev:late", "还有问题")
    clock.advance(hours=48, seconds=1)
    api.call("GET", INBOX, token=admin)  # the admin's first request of the new day marks a visit
    refused(api, "POST", f"{INBOX}/{uid}/reply", {"text": "抱歉来晚了"}, admin, 409, "REPLY_WINDOW_CLOSED")
    assert len(deps.customer_service.sent("dev:late")) == 5


def test_wechats_own_refusal_records_nothing(api, admin, deps):
    push(api, "dev:refused")
    uid = user_id_for("dev:refused")
    for errcode, status, code in ((45015, 409, "REPLY_WINDOW_CLOSED"), (45047, 409, "REPLY_LIMIT_REACHED"),
                                  (40003, 409, "REPLY_REFUSED"), (None, 503, "TRY_AGAIN"), (-1, 503, "TRY_AGAIN")):
        deps.customer_service.fail(errcode)
        refused(api, "POST", f"{INBOX}/{uid}/reply", {"text": "您好"}, admin, status, code)
    assert thread(api, admin, uid)["conversation"]["status"] == "waiting"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"text": "   "}, 422, "VALIDATION_FAILED"), ({"text": "字" * 1_001}, 422, "TEXT_TOO_LONG"),
    ({}, 422, "VALIDATION_FAILED"), ({"text": 5}, 422, "VALIDATION_FAILED"),
])
def test_a_bad_reply_is_refused_before_anything_is_sent(api, admin, deps, body, status, code):
    push(api, "dev:bad")
    refused(api, "POST", f"{INBOX}/{user_id_for('dev:bad')}/reply", body, admin, status, code)
    assert deps.customer_service.sent("dev:bad") == []


def test_a_reply_to_nobody_is_404(api, admin):
    refused(api, "POST", f"{INBOX}/u-nobody/reply", {"text": "x"}, admin, 404, "CONVERSATION_NOT_FOUND")


def test_entering_the_conversation_allows_two_replies_within_a_minute_without_queueing(api, admin, clock):
    api.login("enter")
    push(api, "dev:enter", kind="enter")
    uid = user_id_for("dev:enter")
    assert api.call("GET", INBOX, token=admin)[1]["items"] == []
    for text in ("您好", "有什么可以帮您"):
        assert api.call("POST", f"{INBOX}/{uid}/reply", {"text": text}, admin)[0] == 201
    refused(api, "POST", f"{INBOX}/{uid}/reply", {"text": "在吗"}, admin, 409, "REPLY_LIMIT_REACHED")


# Closing ---------------------------------------------------------------------------------------

def test_closing_takes_a_conversation_out_of_the_queue_until_the_user_writes_again(api, admin):
    push(api, "dev:spam", "加微信领红包")
    uid = user_id_for("dev:spam")
    status, closed = api.call("POST", f"{INBOX}/{uid}/close", {"reason": "广告"}, admin)
    assert (status, closed["status"]) == (200, "closed")
    assert api.call("GET", INBOX, token=admin)[1]["items"] == []
    refused(api, "POST", f"{INBOX}/{uid}/close", {"reason": "again"}, admin, 409, "CONVERSATION_CLOSED")
    push(api, "dev:spam", "真的有问题")
    assert [i["user_id"] for i in api.call("GET", INBOX, token=admin)[1]["items"]] == [uid]


@pytest.mark.parametrize("update", [{"wechat_message_token": ""}, {"wechat_message_aes_key": "not-43-characters"}],
                         ids=["no-token", "malformed-aes-key"])
def test_a_push_endpoint_without_its_keys_answers_503_and_changes_nothing(api, deps, update):
    query, body = _sealed()
    deps.settings = deps.settings.model_copy(update=update)
    before = snapshot()
    status, answer = deliver(api, query, body)
    assert (status, answer["error"]["code"]) == (503, "TRY_AGAIN")
    assert snapshot() == before

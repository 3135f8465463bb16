"""The subscribe-message routes over HTTP: consents recorded from wx.requestSubscribeMessage's
result, bad input refused with a stable code and nothing recorded, the simulator's deliveries."""
from __future__ import annotations

from typing import Any

import pytest

from tests.service.test_subscribe_messages import TEMPLATES, configure

PATH = "/v1/me/subscriptions"


@pytest.fixture
def configured(deps: Any) -> None:
    configure(deps)


def left(api: Any, token: str) -> dict[str, int]:
    status, body = api.call("GET", PATH, token=token)
    assert status == 200, body
    return {item["kind"]: item["remaining"] for item in body["items"]}


def test_the_result_of_wx_request_subscribe_message_as_it_came_counts_each_accept(api, configured):
    token, _ = api.login("buyer")
    result = {"errMsg": "requestSubscribeMessage:ok", "T-shipped": "accept", "T-after-sales": "reject"}
    status, body = api.call("POST", PATH, {"results": result}, token)
    assert status == 200, body
    assert {"kind": "order_shipped", "template_id": "T-shipped", "remaining": 1} in body["items"]
    api.call("POST", PATH, {"results": {"T-shipped": "accept"}}, token)
    assert left(api, token) == {"commission_credited": 0, "order_shipped": 2, "withdrawal_paid": 0,
                                "after_sales_decided": 0}


def test_the_templates_listed_are_those_configured(api, deps, configured):
    token, _ = api.login("buyer")
    assert sorted(left(api, token)) == sorted(TEMPLATES)
    configure(deps, withdrawal_paid="")
    assert "withdrawal_paid" not in left(api, token)


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"results": {"T-unknown": "accept", "T-shipped": "accept"}}, 422, "UNKNOWN_TEMPLATE"),
    ({"results": {"T-shipped": "maybe"}}, 422, "VALIDATION_FAILED"),
    ({"results": {}}, 422, "VALIDATION_FAILED"),
    ({"results": {f"T{i}": "accept" for i in range(11)}}, 422, "VALIDATION_FAILED"),
    ({"results": {"T shipped": "accept"}}, 422, "VALIDATION_FAILED"),
    ({"results": ["T-shipped"]}, 422, "VALIDATION_FAILED"),
    ({"results": {"T-shipped": "accept"}, "extra": 1}, 422, "VALIDATION_FAILED"),
    ({}, 422, "VALIDATION_FAILED"),
])
def test_bad_input_is_refused_with_a_stable_code_and_records_nothing(api, configured, body, status, code):
    token, _ = api.login("buyer")
    answer_status, answer = api.call("POST", PATH, body, token)
    assert (answer_status, answer["error"]["code"]) == (status, code), answer
    assert left(api, token)["order_shipped"] == 0


def test_malformed_json_is_a_400_and_a_missing_session_a_401(api, configured):
    token, _ = api.login("buyer")
    assert api.call("POST", PATH, raw="{", token=token)[0] == 400
    assert api.call("POST", PATH, {"results": {"T-shipped": "accept"}})[0] == 401
    assert left(api, token)["order_shipped"] == 0


def test_the_dev_route_lists_what_the_simulator_delivered_newest_first(api, deps, configured):
    from chalicelib.domain.notices import withdrawal_paid
    from chalicelib.domain.withdrawals import Withdrawal, WithdrawalStatus
    from chalicelib.services.subscriptions import notify

    token, user_id = api.login("amy")
    api.call("POST", PATH, {"results": {"T-withdrawal": "accept"}}, token)
    for n in (1, 2):
        w = Withdrawal(f"w{n}", user_id, 100 * n, WithdrawalStatus.PAID, deps.clock(), f"w{n}")
        notify(withdrawal_paid(w, deps.clock()), deps)
    status, body = api.call("GET", "/v1/dev/subscribe-messages", token=token)
    assert status == 200
    assert [item["data"]["amount1"]["value"] for item in body["items"]] == ["1.00元"]  # one consent, one message
    assert body["items"][0]["template_id"] == "T-withdrawal" and body["items"][0]["touser"] == "dev:amy"


def test_the_operator_sets_the_templates_through_the_settings_and_a_broken_one_is_refused(api, deps):
    admin, _ = api.login("admin")
    token, _ = api.login("buyer")
    assert left(api, token) == {}  # no template id configured: nothing to ask for, nothing sent
    broken = {"messages": {"order_shipped": {"template_id": "T-s", "fields": {"phrase1": "order_id"}}}}
    status, body = api.call("PUT", "/v1/admin/settings", {"rules": broken, "expected_version": 1}, admin)
    assert (status, body["error"]["code"]) == (422, "INVALID_RULES"), body
    assert any("a phrase cannot show order_id" in r["message"] for r in body["error"]["reasons"])
    shipped = {"template_id": "T-s", "page": "pages/order/detail?id={order_id}",
               "fields": {"character_string1": "order_id", "time2": "at"}}
    status, body = api.call("PUT", "/v1/admin/settings", {"rules": {"messages": {"order_shipped": shipped}},
                                                          "expected_version": 1}, admin)
    assert status == 200, body
    assert left(api, token) == {"order_shipped": 0}
    assert api.call("POST", PATH, {"results": {"T-s": "accept"}}, token)[0] == 200
    assert left(api, token) == {"order_shipped": 1}

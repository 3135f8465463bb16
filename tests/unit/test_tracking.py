"""Carrier tracking's pure rules and 快递100's forms (docs/delivery.md)."""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.carriers.kuaidi100 import (
    Parcel,
    push_param,
    query_form,
    query_report,
    read_push,
    step_entry,
    subscribe_form,
    subscribe_verdict,
)
from chalicelib.carriers.kuaidi100_simulator import Kuaidi100Simulator
from chalicelib.domain.fulfilment import CARRIERS
from chalicelib.domain.tracking import (
    MAX_STEPS,
    QUIET,
    InvalidCallback,
    Report,
    Sub,
    TrackState,
    after_subscribe,
    apply_report,
    company_of,
    merge_steps,
    push_sign,
    push_signed,
    salt_for,
    start,
    state_of,
    step,
    subject_shard,
)
from chalicelib.wechat.simulator_state import MemoryState

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)


def report(state: TrackState, *minutes: int) -> Report:
    return Report("zhongtong", "ZT1", state, tuple(step(NOW + timedelta(minutes=m), f"step {m}") for m in minutes))


def test_the_push_sign_is_md5_of_param_and_salt_upper_case_and_checked_in_any_case():
    assert push_sign("{}", "abc") == hashlib.md5(b"{}abc").hexdigest().upper()  # noqa: S324
    assert push_signed("{}", push_sign("{}", "abc").lower(), "abc")
    assert not push_signed("{}", push_sign("{}", "abd"), "abc")


def test_each_parcel_has_its_own_salt_from_the_key():
    assert salt_for("order-o1", "k") == salt_for("order-o1", "k") != salt_for("order-o2", "k") != salt_for("order-o1", "j")
    assert len(salt_for("order-o1", "k")) == 32


def test_every_carrier_we_ship_with_has_a_kuaidi100_code():
    assert all(company_of(carrier) for carrier in CARRIERS)
    assert company_of("XYZ") is None


@pytest.mark.parametrize(("code", "state"), [(0, TrackState.IN_TRANSIT), (1, TrackState.COLLECTED),
                                             (3, TrackState.DELIVERED), (301, TrackState.DELIVERED),
                                             (4, TrackState.RETURNED), (14, TrackState.RETURNED),
                                             (1401, TrackState.RETURNED), (6, TrackState.RETURNING),
                                             (5, TrackState.DELIVERING), (99, TrackState.IN_TRANSIT)])
def test_kuaidi100_states_map_to_ours(code, state):
    assert state_of(code) is state


def test_shards_are_the_last_hex_digit_or_a_stable_hash():
    assert subject_shard("order-o2026abc") == "c"
    assert subject_shard("return-case-z") == subject_shard("return-case-z") in "0123456789abcdef"


@given(st.lists(st.integers(0, 500), max_size=60), st.lists(st.integers(0, 500), max_size=60))
def test_merging_keeps_each_step_once_newest_first_at_most_max(kept, reported):
    a = [step(NOW + timedelta(minutes=m), f"s{m}") for m in kept]
    b = [step(NOW + timedelta(minutes=m), f"s{m}") for m in reported]
    merged = merge_steps(a, b)
    assert len(merged) == min(len(set(kept) | set(reported)), MAX_STEPS)
    assert list(merged) == sorted(merged, key=lambda s: s.at, reverse=True)
    assert merge_steps(merged, b) == merge_steps(a, b) == merge_steps(b, a)  # replays change nothing


def test_a_report_delivers_once_at_the_carriers_time_and_a_replay_changes_nothing():
    tracking = start("order-o1", "ZTO", "zhongtong", "ZT1", NOW)
    after, delivered, returned = apply_report(tracking, report(TrackState.DELIVERED, 10, 20), NOW + timedelta(hours=1))
    assert delivered and not returned and after.delivered_at == NOW + timedelta(minutes=20) and after.due_at is None
    again, delivered, _ = apply_report(after, report(TrackState.DELIVERED, 10, 20), NOW + timedelta(hours=2))
    assert again is after and not delivered


def test_an_older_report_never_turns_the_state_back_but_adds_its_steps():
    tracking = start("order-o1", "ZTO", "zhongtong", "ZT1", NOW)
    after, _, _ = apply_report(tracking, report(TrackState.DELIVERING, 30), NOW + timedelta(hours=1))
    older, _, _ = apply_report(after, report(TrackState.IN_TRANSIT, 5), NOW + timedelta(hours=1))
    assert older.state is TrackState.DELIVERING and len(older.steps) == 2


def test_a_final_state_stays():
    tracking = start("order-o1", "ZTO", "zhongtong", "ZT1", NOW)
    after, _, _ = apply_report(tracking, report(TrackState.DELIVERED, 30), NOW + timedelta(hours=1))
    later, delivered, returned = apply_report(after, report(TrackState.IN_TRANSIT, 40), NOW + timedelta(hours=2))
    assert later.state is TrackState.DELIVERED and not delivered and not returned


def test_a_delivery_time_in_the_future_is_taken_as_now():
    tracking = start("order-o1", "ZTO", "zhongtong", "ZT1", NOW)
    after, delivered, _ = apply_report(tracking, report(TrackState.DELIVERED, 600), NOW + timedelta(hours=1))
    assert delivered and after.delivered_at == NOW + timedelta(hours=1)


def test_subscription_attempts_back_off_then_fail_and_a_refusal_fails_at_once():
    tracking = start("order-o1", "ZTO", "zhongtong", "ZT1", NOW)
    pauses = []
    for _ in range(7):
        tracking = after_subscribe(tracking, None, "500", NOW)
        pauses.append(tracking.due_at - NOW)
        assert tracking.sub is Sub.PENDING
    assert pauses[:3] == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]
    assert after_subscribe(tracking, None, "500", NOW).sub is Sub.FAILED
    refused = after_subscribe(start("order-o1", "ZTO", "zhongtong", "ZT1", NOW), False, "701", NOW)
    assert (refused.sub, refused.due_at) == (Sub.FAILED, NOW + QUIET)  # the poll fallback reads it
    assert after_subscribe(start("order-o1", "ZTO", "zhongtong", "ZT1", NOW), True, None, NOW).sub is Sub.ACTIVE


def test_the_subscription_form_is_kuaidi100s():
    form = subscribe_form(Parcel("shunfeng", "SF1", "13800001234"), "KEY", "https://x/cb", "SALT")
    assert form["schema"] == "json"
    assert json.loads(form["param"]) == {"company": "shunfeng", "number": "SF1", "key": "KEY", "parameters": {
        "callbackurl": "https://x/cb", "salt": "SALT", "resultv2": "1", "phone": "13800001234"}}
    assert subscribe_verdict({"result": True, "returnCode": "200"}) == (True, None)
    assert subscribe_verdict({"result": False, "returnCode": "501", "message": "重复订阅"}) == (True, None)
    assert subscribe_verdict({"result": False, "returnCode": "701", "message": "拒绝"})[0] is False
    assert subscribe_verdict({"result": False, "returnCode": "500", "message": "服务器错误"})[0] is None


def test_the_query_is_signed_md5_of_param_key_customer():
    form = query_form(Parcel("yuantong", "YT1"), "KEY", "CUST")
    assert form["sign"] == hashlib.md5((form["param"] + "KEY" + "CUST").encode()).hexdigest().upper()  # noqa: S324
    assert query_report({"result": False, "returnCode": "500", "message": "查询无结果"})[0] is None


def test_a_push_reads_as_a_report_and_a_malformed_one_is_invalid_callback():
    param = push_param("shutdown", "yuantong", "YT1", 3, [step_entry(NOW, "已签收", "签收")])
    got = read_push(param)
    assert (got.company, got.tracking_no, got.state, got.ended) == ("yuantong", "YT1", TrackState.DELIVERED, True)
    assert got.steps[0].at == NOW
    for bad in ("x", "[]", json.dumps({"lastResult": {"com": "y"}}), json.dumps({"lastResult": {"com": "y", "nu": "1",
                                                                                              "data": [{"time": "x"}]}})):
        with pytest.raises(InvalidCallback):
            read_push(bad)


def test_the_simulator_checks_subscriptions_as_kuaidi100_and_pushes_signed_steps():
    sim = Kuaidi100Simulator("KEY", "CUST", MemoryState())
    parcel = Parcel("zhongtong", "ZT1")
    assert sim.subscribe(Parcel("nobody", "ZT1"), "https://x/cb", "S") == (False, "701 拒绝订阅的快递公司")
    assert sim.subscribe(Parcel("shunfeng", "SF1"), "https://x/cb", "S")[0] is False  # SF needs a phone
    assert sim.subscribe(parcel, "https://x/cb", "S") == (True, None)
    assert sim.receive_subscribe(subscribe_form(parcel, "KEY", "https://x/cb", "S"))["returnCode"] == "501"
    assert sim.receive_subscribe(subscribe_form(parcel, "WRONG", "https://x/cb", "S"))["returnCode"] == "600"
    url, form = sim.play("zhongtong", "ZT1", "delivered", NOW)
    assert url == "https://x/cb" and push_signed(form["param"], form["sign"], "S")
    assert [s.status for s in read_push(form["param"]).steps] == ["签收", "派件", "揽收"]
    assert query_report(sim.receive_query(query_form(parcel, "KEY", "CUST")))[0].state is TrackState.DELIVERED
    assert sim.receive_query({**query_form(parcel, "KEY", "CUST"), "sign": "X"})["returnCode"] == "503"
    assert "param=" in urlencode(form)

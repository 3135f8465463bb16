"""Fulfilment's pure rules: carriers, the report's life, the list's days and its merge across
shards, and the WeChat body (built by the production code, checked against WeChat's rules)."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import DomainError
from chalicelib.domain.fulfilment import (
    CARRIERS,
    FIRST_RETRY,
    LONGEST_PAUSE,
    MAX_ATTEMPTS,
    MAX_RANGE_DAYS,
    ReportState,
    Shipment,
    Verdict,
    after_attempt,
    check_tracking_no,
    day_range,
    delivery_id,
    first_report,
    item_desc,
    mask_phone,
    newest,
    parse_day,
)
from chalicelib.wechat.shipping import upload_body, upload_time, verdict

NOW = datetime(2026, 12, 6, 5, 29, 35, 120_000, tzinfo=UTC)


@pytest.mark.parametrize(("given", "wechat"), [
    ("SF", "SF"), ("sf", "SF"), ("顺丰", "SF"), ("顺丰速运", "SF"), (" 中通 快递 ", "ZTO"), ("圆通", "YTO"),
    ("韵达", "YD"), ("YUNDA", "YD"), ("EMS", "EMS"), ("京东", "JD"), ("极兔速递", "JTSD"), ("J&T Express", "JTSD"),
])
def test_carriers_map_to_wechat_delivery_ids_by_id_or_name(given, wechat):
    assert delivery_id(given) == wechat


@pytest.mark.parametrize("carrier", ["", "顺风", "UPS", "SF2", "快递"])
def test_an_unknown_carrier_is_invalid_carrier(carrier):
    with pytest.raises(DomainError) as refused:
        delivery_id(carrier)
    assert refused.value.code == "INVALID_CARRIER"
    assert refused.value.details["carriers"] == sorted(CARRIERS)


@pytest.mark.parametrize("tracking", ["SF1", "SF 123456", "单号123456", "x" * 41, ""])
def test_a_malformed_tracking_number_is_refused(tracking):
    with pytest.raises(DomainError) as refused:
        check_tracking_no(tracking)
    assert refused.value.code == "INVALID_TRACKING_NO"


def test_item_desc_names_each_line_and_stays_within_wechats_120_characters():
    assert item_desc([("面膜", 2), ("口红", 1)]) == "面膜*2；口红*1"
    long = item_desc([("很长的商品名" * 15, 1), ("另一个" * 10, 3)])
    assert len(long) == 120 and long.endswith("…")


@pytest.mark.parametrize(("phone", "masked"), [
    ("13800001234", "138****1234"), ("+86 138-0000-1234", "138****1234"), ("021-6666-1234", "021****1234"),
    ("6666-1234", "****1234"),
    ("12", None), (None, None),
])
def test_a_receiver_phone_is_masked_keeping_its_last_four_digits(phone, masked):
    assert mask_phone(phone) == masked


def test_a_report_starts_pending_due_to_the_job_after_the_first_retry_pause():
    report = first_report(NOW)
    assert (report.state, report.attempts, report.due_at) == (ReportState.PENDING, 0, NOW + FIRST_RETRY)


def test_a_report_retries_with_doubling_pauses_then_gives_up_after_max_attempts():
    report, pauses = first_report(NOW), []
    for _ in range(MAX_ATTEMPTS - 1):
        report = after_attempt(report, Verdict.RETRY, "-1 system error", NOW)
        assert report.state is ReportState.PENDING and report.last_error == "-1 system error"
        pauses.append(report.due_at - NOW)
    assert pauses[:3] == [FIRST_RETRY, 2 * FIRST_RETRY, 4 * FIRST_RETRY]
    assert pauses == sorted(pauses) and max(pauses) <= LONGEST_PAUSE
    given_up = after_attempt(report, Verdict.RETRY, "-1 system error", NOW)
    assert (given_up.state, given_up.attempts, given_up.due_at) == (ReportState.FAILED, MAX_ATTEMPTS, None)


def test_a_refused_report_fails_at_once_and_an_accepted_one_is_reported():
    assert after_attempt(first_report(NOW), Verdict.REFUSED, "47001 data format error", NOW).state is ReportState.FAILED
    done = after_attempt(first_report(NOW), Verdict.ACCEPTED, None, NOW)
    assert (done.state, done.attempts, done.reported_at, done.due_at) == (ReportState.REPORTED, 1, NOW, None)


@pytest.mark.parametrize(("answer", "expected"), [
    ({"errcode": 0, "errmsg": "ok"}, Verdict.ACCEPTED),
    ({"errcode": 10060002, "errmsg": "支付单已完成发货"}, Verdict.ACCEPTED),
    ({"errcode": -1, "errmsg": "system error"}, Verdict.RETRY),
    ({"errcode": 10060001, "errmsg": "支付单不存在"}, Verdict.RETRY),
    ({"errcode": 47001, "errmsg": "data format error"}, Verdict.REFUSED),
    ({"errcode": 10060004, "errmsg": "支付单处于不可发货的状态"}, Verdict.REFUSED),
    ({"errcode": "x"}, Verdict.RETRY),
])
def test_wechats_errcodes_decide_the_verdict(answer, expected):
    assert verdict(answer)[0] is expected


def test_the_body_is_a_unified_express_shipment_keyed_by_merchant_and_out_trade_no():
    shipment = Shipment("o1", "openid-1", "SF", "SF123456", "面膜*2", "138****1234", NOW)
    assert upload_body(shipment, "1900000109", NOW) == {
        "order_key": {"order_number_type": 1, "mchid": "1900000109", "out_trade_no": "o1"},
        "logistics_type": 1, "delivery_mode": 1,
        "shipping_list": [{"tracking_no": "SF123456", "express_company": "SF", "item_desc": "面膜*2",
                           "contact": {"receiver_contact": "138****1234"}}],
        "upload_time": "2026-12-06T13:29:35.120+08:00", "payer": {"openid": "openid-1"}}
    no_phone = upload_body(Shipment("o1", "p", "ZTO", "ZT1234", "x*1", None, NOW), "m", NOW)
    assert "contact" not in no_phone["shipping_list"][0]
    assert upload_time(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T08:00:00.000+08:00"


def test_days_default_to_the_92_days_to_today_newest_first_and_bad_ranges_are_refused():
    today = date(2026, 12, 6)
    days = day_range(None, None, today)
    assert (len(days), days[0], days[-1]) == (MAX_RANGE_DAYS, today, today - timedelta(days=MAX_RANGE_DAYS - 1))
    assert day_range(date(2026, 12, 1), date(2026, 12, 3), today) == [date(2026, 12, 3), date(2026, 12, 2),
                                                                      date(2026, 12, 1)]
    for start, end in [(date(2026, 12, 3), date(2026, 12, 1)), (date(2026, 1, 1), date(2026, 12, 1))]:
        with pytest.raises(DomainError) as refused:
            day_range(start, end, today)
        assert refused.value.code == "INVALID_DATE_RANGE"


@pytest.mark.parametrize("text", ["2026-13-01", "2026-1-1", "yesterday", "2026-12-01T00:00", ""])
def test_a_day_that_is_not_yyyy_mm_dd_is_invalid_date_range(text):
    with pytest.raises(DomainError) as refused:
        parse_day(text, "from")
    assert refused.value.code == "INVALID_DATE_RANGE"


@given(st.lists(st.lists(st.integers(0, 10_000), max_size=30, unique=True), min_size=1, max_size=16),
       st.integers(1, 25))
def test_the_merge_takes_the_newest_keys_over_every_lane(lanes, want):
    """Each lane fetched its ``want`` newest (or all it had): the merge is the ``want`` newest of all."""
    everything = {f"lane{n}": sorted((f"{k:05d}#o{n}" for k in keys), reverse=True) for n, keys in enumerate(lanes)}
    fetched = {lane: keys[:want] for lane, keys in everything.items()}
    taken = newest(fetched, want)
    overall = sorted(((key, lane) for lane, keys in everything.items() for key in keys), reverse=True)[:want]
    assert taken == [(lane, key) for key, lane in overall]


def test_the_merge_is_independent_of_lane_order():
    fetched = {f"l{n}": sorted((f"{random.randint(0, 999):03d}#o{n}{i}" for i in range(5)), reverse=True)
               for n in range(16)}
    shuffled = dict(random.sample(list(fetched.items()), len(fetched)))
    assert newest(fetched, 20) == newest(shuffled, 20)

"""Invitation ladder, invite codes, business time, moderation and month sales."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain.clock import (
    SHANGHAI,
    business_date,
    business_month,
    fixed_clock,
    iso,
    parse_iso,
    previous_month,
)
from chalicelib.domain.invitations import InvitationLadder, Milestone
from chalicelib.domain.invite_codes import (
    ALPHABET,
    LENGTH,
    looks_like_invite_code,
    new_invite_code,
    normalise_invite_code,
)
from chalicelib.domain.moderation import Verdict, check_text
from chalicelib.domain.users import MonthSales

# invitation ladder (DOMAIN.md §4: 10 → gift pack, 50 → cash)

GIFT = Milestone(10, "gift_pack")
CASH = Milestone(50, "cash", cash_fen=5_000)
LADDER = InvitationLadder((GIFT, CASH))


@pytest.mark.parametrize(("invitees", "reached"), [(0, []), (9, []), (10, [GIFT]), (49, [GIFT]), (50, [GIFT, CASH])])
def test_the_invitation_ladder_reaches_each_milestone_at_its_count(invitees, reached):
    assert LADDER.reached(invitees) == reached


@pytest.mark.parametrize(("invitees", "reward", "cash_fen"), [
    (0, "gift_pack", 0), (10, "car", 0), (10, "cash", 0), (10, "cash", -1), (10, "gift_pack", 100)],
    ids=["no-invitees", "unknown-reward", "cash-without-amount", "negative-cash", "gift-pack-with-cash"])
def test_an_invalid_milestone_is_refused(invitees, reward, cash_fen):
    with pytest.raises(ValueError, match=r"invalid milestone|a cash milestone has a positive amount"):
        Milestone(invitees, reward, cash_fen)


@pytest.mark.parametrize("milestones", [(CASH, GIFT), (GIFT, Milestone(10, "cash", 1))], ids=["decreasing", "duplicate"])
def test_a_ladder_out_of_order_or_with_a_repeated_count_is_refused(milestones):
    with pytest.raises(ValueError, match="increasing order of invitees"):
        InvitationLadder(milestones)


# invite codes


def test_new_invite_codes_use_only_unambiguous_characters():
    for code in (new_invite_code() for _ in range(50)):
        assert len(code) == LENGTH and looks_like_invite_code(code) and not set(code) & set("01ILO")
    assert not set(ALPHABET) & set("01ILO")


def test_an_invite_code_typed_with_spaces_and_lower_case_is_normalised():
    assert normalise_invite_code("  abcd2345\n") == "ABCD2345"


@pytest.mark.parametrize("text", ["ABCD234", "ABCD23456", "ABCD2340", "ABCDEFGI", "abcd2345", ""])
def test_text_that_is_not_an_invite_code_is_recognised_as_such(text):
    assert not looks_like_invite_code(text)


# business time: Asia/Shanghai


@pytest.mark.parametrize(("at", "day", "month"), [
    (datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC), date(2026, 3, 31), "2026-03"),
    (datetime(2026, 3, 31, 16, 0, 0, tzinfo=UTC), date(2026, 4, 1), "2026-04"),
    (datetime(2026, 12, 31, 16, 0, 0, tzinfo=UTC), date(2027, 1, 1), "2027-01"),
], ids=["a-second-before-shanghai-midnight", "shanghai-midnight", "new-year-in-shanghai"])
def test_the_business_day_and_month_turn_at_shanghai_midnight(at, day, month):
    assert (business_date(at), business_month(at)) == (day, month)


@pytest.mark.parametrize(("month", "previous"), [("2027-01", "2026-12"), ("2026-11", "2026-10"), ("2026-10", "2026-09")])
def test_the_previous_month_crosses_year_ends(month, previous):
    assert previous_month(month) == previous


def test_iso_writes_utc_with_z_and_parse_iso_reads_it_back():
    at = datetime(2026, 3, 1, 12, 0, 5, tzinfo=SHANGHAI)
    assert iso(at) == "2026-03-01T04:00:05Z"
    assert parse_iso(iso(at)) == at and parse_iso(iso(at)).tzinfo is UTC
    assert parse_iso("2026-03-01T12:00:05+08:00") == at


def test_parse_iso_refuses_a_time_without_a_zone():
    with pytest.raises(ValueError, match="a time needs a zone"):
        parse_iso("2026-03-01T12:00:05")


def test_a_fixed_clock_always_tells_the_same_time():
    at = datetime(2026, 3, 1, tzinfo=UTC)
    clock = fixed_clock(at)
    assert clock() == clock() == at


# moderation (DOMAIN.md §6)


def test_earn_lying_down_is_blocked_with_its_position_and_a_suggested_wording():
    result = check_text("加入我们躺赚")
    assert result.verdict is Verdict.BLOCK
    assert [h.as_dict() for h in result.hits] == [
        {"word": "躺赚", "start": 4, "end": 6, "category": "income_promise", "suggestion": "分享奖励",
         "verdict": "block", "matched": "躺赚"}]


def test_every_forbidden_phrase_is_reported_in_order_of_position():
    result = check_text("月入百万，躺赚，再躺赚")
    assert [(h.word, h.start) for h in result.hits] == [("月入百万", 0), ("躺赚", 5), ("躺赚", 9)]


@pytest.mark.parametrize("text", ["分享奖励，好物推荐", "", "Radiance serum 焕颜精华"])
def test_ordinary_text_passes_moderation(text):
    assert check_text(text).verdict is Verdict.PASS and check_text(text).hits == ()


# month sales


@pytest.mark.parametrize(("month", "fen"), [("2026-03", 700), ("2026-02", 300), ("2026-01", 0), ("2026-04", 0)],
                         ids=["current", "previous", "older", "later"])
def test_month_sales_answer_for_the_current_and_previous_month_only(month, fen):
    assert MonthSales("2026-03", 700, 300).of(month) == fen


def test_month_sales_of_january_know_december_of_the_year_before():
    assert MonthSales("2027-01", 1, 2).of("2026-12") == 2


def test_a_user_who_never_sold_has_no_sales_in_any_month():
    assert MonthSales().of("2026-03") == 0


def test_iso_drops_sub_second_precision():
    assert iso(datetime(2026, 3, 1, tzinfo=UTC) + timedelta(microseconds=999_999)) == "2026-03-01T00:00:00Z"

"""The resident ID number check: format, region, birth date and the MOD 11-2 check digit."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.identity import PROVINCES, InvalidIdNumber, check_char, parse_id_number, valid_name

TODAY = date(2026, 11, 10)
KNOWN = "11010519491231002X"  # the standard's own example


def make(province: int = 11, rest: str = "0105", born: date = date(1990, 3, 7), seq: str = "123") -> str:
    first17 = f"{province:02d}{rest}{born:%Y%m%d}{seq}"
    return first17 + check_char(first17)


def test_the_standard_example_is_valid_and_masked_to_first_three_and_last_four():
    parsed = parse_id_number(KNOWN, TODAY)
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.masked == "110***********002X"
    assert len(parsed.masked) == 18


def test_a_lower_case_x_and_surrounding_spaces_are_accepted():
    assert parse_id_number(" " + KNOWN.lower() + " ", TODAY).number == KNOWN


@pytest.mark.parametrize("text", ["", "1101051949123100", "11010519491231002", "11010519491231002XX",
                                  "1101051949123100X2", "11010519491231002Y", "110105 9491231002X",
                                  "１１0105194912310020"])
def test_anything_but_seventeen_digits_and_a_check_character_is_refused(text):
    with pytest.raises(InvalidIdNumber):
        parse_id_number(text, TODAY)


@pytest.mark.parametrize("province", [0, 10, 16, 20, 24, 30, 38, 40, 47, 49, 55, 60, 66, 70, 72, 80, 83, 90, 92, 99])
def test_a_region_code_outside_the_provinces_is_refused(province):
    with pytest.raises(InvalidIdNumber) as refused:
        parse_id_number(make(province=province), TODAY)
    assert refused.value.details["field"] == "region"


@pytest.mark.parametrize("province", sorted(PROVINCES))
def test_every_province_code_is_accepted(province):
    assert parse_id_number(make(province=province), TODAY)


@pytest.mark.parametrize("digits", ["19900230", "19900431", "19901301", "19900000", "19000229", "20230229"])
def test_a_birth_date_that_does_not_exist_is_refused(digits):
    first17 = "110105" + digits + "123"
    with pytest.raises(InvalidIdNumber) as refused:
        parse_id_number(first17 + check_char(first17), TODAY)
    assert refused.value.details["field"] == "birth_date"


def test_leap_days_exist_in_leap_years():
    assert parse_id_number(make(born=date(2000, 2, 29)), TODAY).birth_date == date(2000, 2, 29)


@pytest.mark.parametrize("born", [TODAY + timedelta(days=1), date(1899, 12, 31), date(2100, 1, 1)])
def test_a_birth_date_in_the_future_or_before_1900_is_refused(born):
    with pytest.raises(InvalidIdNumber):
        parse_id_number(make(born=born), TODAY)


def test_born_today_and_on_the_first_day_of_1900_are_accepted():
    assert parse_id_number(make(born=TODAY), TODAY)
    assert parse_id_number(make(born=date(1900, 1, 1)), TODAY)


def test_a_wrong_check_digit_is_refused():
    with pytest.raises(InvalidIdNumber) as refused:
        parse_id_number(KNOWN[:17] + "0", TODAY)
    assert refused.value.details["field"] == "check_digit"


valid_numbers = st.builds(
    make,
    province=st.sampled_from(sorted(PROVINCES)),
    rest=st.from_regex(r"\A\d{4}\Z"),
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    seq=st.from_regex(r"\A\d{3}\Z"),
)


@given(valid_numbers)
def test_generated_valid_numbers_pass(number):
    parsed = parse_id_number(number, TODAY)
    assert parsed.number == number
    assert parsed.masked[:3] == number[:3] and parsed.masked[-4:] == number[-4:]


@given(valid_numbers, st.integers(0, 16), st.integers(1, 9))
def test_changing_any_single_digit_breaks_the_checksum(number, position, delta):
    digit = str((int(number[position]) + delta) % 10)
    changed = number[:position] + digit + number[position + 1:]
    first17 = changed[:17]
    assert check_char(first17) != changed[17]  # MOD 11-2 detects every single-digit error
    with pytest.raises(InvalidIdNumber):
        parse_id_number(changed, TODAY)


@given(valid_numbers, st.sampled_from("0123456789X"))
def test_any_other_check_character_fails(number, other):
    if other != number[17]:
        with pytest.raises(InvalidIdNumber):
            parse_id_number(number[:17] + other, TODAY)


@pytest.mark.parametrize(("name", "ok"), [("张三", True), ("李", False), (" 李 ", False), ("王" * 30, True),
                                          ("王" * 31, False), ("Anna Lee", True)])
def test_a_name_is_two_to_thirty_characters(name, ok):
    assert valid_name(name) is ok

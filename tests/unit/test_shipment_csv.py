"""The console's CSV of shipments: header, BOM, tabs, blank lines, malformed lines kept by number."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.shipment_csv import CsvLine, parse_shipments


def test_a_header_a_bom_and_blank_lines_are_skipped_and_rows_keep_their_numbers() -> None:
    text = "\ufefforder_id,carrier,tracking_no\n\no1, SF ,SF123456\r\no2,中通,ZT123456\n"
    assert parse_shipments(text) == [CsvLine(3, "o1", "SF", "SF123456"), CsvLine(4, "o2", "中通", "ZT123456")]


def test_a_chinese_header_and_tabs_are_read() -> None:
    assert parse_shipments("订单号\t快递公司\t运单号\no1\tSF\tSF123456\n") == [CsvLine(2, "o1", "SF", "SF123456")]


@pytest.mark.parametrize("line", ["o1,SF", "o1,SF,SF1,extra", "o1,,SF1", "o1,SF," + "9" * 65])
def test_a_line_that_is_not_three_fields_is_kept_as_malformed(line: str) -> None:
    (parsed,) = parse_shipments(line)
    assert parsed.problem == "MALFORMED_LINE" and parsed.row == 1


@pytest.mark.parametrize("text", ["", "\n\n", "order_id,carrier,tracking_no\n", "o,SF,SF1234\n" * 101])
def test_an_empty_file_or_more_than_a_batch_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_shipments(text)

"""Reading an operator's CSV of shipments (the console's "ship many"): one line per order,
``order id, carrier, tracking number``, an optional header line (English or Chinese), UTF-8 with
or without a BOM (Excel's "CSV UTF-8"), commas or tabs. At most ``MAX_BATCH`` lines, as the
batch route. A line that is not three fields is kept with its problem, so the preview and the
results name it by its line number instead of dropping it."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.fulfilment import MAX_BATCH

HEADERS = ({"order_id", "carrier", "tracking_no"}, {"订单号", "快递公司", "运单号"})
MAX_FIELD = 64


@dataclass(frozen=True)
class CsvLine:
    row: int  # 1-based, as a spreadsheet numbers it
    order_id: str
    carrier: str
    tracking_no: str
    problem: str | None = None  # MALFORMED_LINE: not three fields, or one empty or too long


def parse_shipments(text: str) -> list[CsvLine]:
    """The lines of the file; VALIDATION_FAILED when it holds none or more than MAX_BATCH."""
    text = text.lstrip("\ufeff")
    dialect = "excel-tab" if "\t" in text.split("\n", 1)[0] else "excel"
    lines: list[CsvLine] = []
    for number, fields in enumerate(csv.reader(io.StringIO(text), dialect=dialect), start=1):
        values = [f.strip() for f in fields]
        if not any(values):
            continue
        if not lines and number == 1 and {v.lower() for v in values} in HEADERS:
            continue
        if len(values) != 3 or not all(values) or any(len(v) > MAX_FIELD for v in values):
            order_id, carrier, tracking_no = (v[:MAX_FIELD] for v in [*values, "", "", ""][:3])
            lines.append(CsvLine(number, order_id, carrier, tracking_no, problem="MALFORMED_LINE"))
            continue
        lines.append(CsvLine(number, *values))
    if not lines:
        raise ValidationFailed("the file holds no shipment line (order id, carrier, tracking number)")
    if len(lines) > MAX_BATCH:
        raise ValidationFailed(f"the file holds {len(lines)} lines; send at most {MAX_BATCH} at a time")
    return lines

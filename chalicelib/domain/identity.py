"""The 18-digit resident identity number (GB 11643-1999): region, birth date, sequence and an
ISO 7064 MOD 11-2 check character. Pure: the service stores only a keyed hash and a masked form.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from chalicelib.domain.errors import Kind, error

InvalidIdNumber = error("INVALID_ID_NUMBER", Kind.INVALID,
                        "The resident ID number is malformed or its region, birth date or check digit is invalid.")

# Province-level codes: the first two digits of the region code.
PROVINCES = frozenset({
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 91,
})
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)
FORMAT = re.compile(r"^\d{17}[\dX]$")
EARLIEST_BIRTH = date(1900, 1, 1)


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class IdNumber:
    number: str  # normalised: 18 characters, upper-case X
    birth_date: date

    @property
    def masked(self) -> str:
        """First three and last four characters shown, e.g. ``110***********123X``."""
        return self.number[:3] + "*" * 11 + self.number[-4:]


def parse_id_number(text: str, today: date) -> IdNumber:
    """Validate an 18-digit resident ID number as of ``today``; raises InvalidIdNumber."""
    number = text.strip().upper()
    if not FORMAT.match(number):
        raise InvalidIdNumber("an ID number is 17 digits and a check digit (0-9 or X)")
    if int(number[:2]) not in PROVINCES:
        raise InvalidIdNumber("the region code names no province", field="region")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber("the birth date is not a real date", field="birth_date") from exc
    if born < EARLIEST_BIRTH or born > today:
        raise InvalidIdNumber("the birth date is out of range", field="birth_date")
    if check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("the check digit does not match", field="check_digit")
    return IdNumber(number, born)


def valid_name(name: str) -> bool:
    """A real name: 2 to 30 characters once trimmed; nothing more is checked."""
    return 2 <= len(name.strip()) <= 30

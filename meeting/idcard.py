"""The citizen identity number (公民身份号码, GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check character.

A clerk mistyping one digit is the usual error; the check character catches it at the window, before any
department sees the case. Messages are the ones a clerk reads.
"""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_character(first17: str) -> str:
    """The check character the first seventeen digits call for."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise(value: str) -> str:
    """Spaces removed and a lower-case x written as X, as clerks type it."""
    return re.sub(r"\s+", "", value or "").upper()


def problem(value: str, today: date | None = None) -> str | None:
    """Why ``value`` is not a valid identity number, in the clerk's words; None when it is valid."""
    number = normalise(value)
    if len(number) != 18:
        return "身份证号应为18位"
    if not _SHAPE.match(number):
        return "身份证号前17位应为数字，最后一位为数字或X"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "身份证号中的出生日期无效"
    if born.year < 1900 or (today is not None and born > today):
        return "身份证号中的出生日期无效"
    if check_character(number[:17]) != number[17]:
        return "身份证号校验位不正确，请核对后重新输入"
    return None


def mask(value: str | None) -> str:
    """6101**********123X: the region of issue and the last four characters; the birth date is hidden."""
    number = normalise(value or "")
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]

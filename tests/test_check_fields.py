"""The typed list field (``lines``) providers and requesters fill in: one row a line, typed cells, identity numbers
checked, and the refusals in the clerk's words."""

from __future__ import annotations

import pytest

from engine.forms import Field, FormFieldError
from meeting.check_fields import as_text, coerce_lines

MEMBERS = Field("members", "家庭成员", "lines",
                properties={"columns": "name:姓名:text,id_number:身份证号:idcard,relation:与申请人关系:text"})
HOUSES = Field("houses", "房产", "lines", properties={"columns": "address:房屋地址:text,area:建筑面积:number"})


def test_text_becomes_typed_rows() -> None:
    rows = coerce_lines(HOUSES, "安岭村1号，86.5\n安岭村2号, 45 ；安岭村3号\t120", None)
    assert rows == [{"address": "安岭村1号", "area": 86.5}, {"address": "安岭村2号", "area": 45},
                    {"address": "安岭村3号", "area": 120}]
    assert as_text(rows) == "安岭村1号，86.5\n安岭村2号，45\n安岭村3号，120"


def test_a_list_of_objects_is_accepted_and_identity_numbers_normalised() -> None:
    rows = coerce_lines(MEMBERS, [{"name": "李芳", "id_number": " 6109021982 05050020", "relation": "配偶"}], None)
    assert rows == [{"name": "李芳", "id_number": "610902198205050020", "relation": "配偶"}]


@pytest.mark.parametrize(("value", "message"), [
    ("李芳，610902198205050021，配偶", "第1行身份证号：身份证号校验位不正确"),
    ("李芳，61090219820505，配偶", "第1行身份证号：身份证号应为18位"),
    ("李芳", "第1行身份证号：此项必填"),
    ("李芳，610902198205050020，配偶，多余", "第1行多于3项"),
])
def test_bad_rows_are_refused_in_words(value: str, message: str) -> None:
    with pytest.raises(FormFieldError) as err:
        coerce_lines(MEMBERS, value, None)
    assert message in str(err.value)


def test_a_number_column_takes_numbers_only() -> None:
    with pytest.raises(FormFieldError, match="应为数字"):
        coerce_lines(HOUSES, "安岭村1号，八十", None)
    with pytest.raises(FormFieldError, match="不小于0"):
        coerce_lines(HOUSES, "安岭村1号，-3", None)


def test_empty_is_no_rows_and_a_field_without_columns_is_a_modelling_error() -> None:
    assert coerce_lines(HOUSES, "\n  \n", None) == []
    with pytest.raises(FormFieldError, match="缺少列定义"):
        coerce_lines(Field("x", "x", "lines"), "a", None)

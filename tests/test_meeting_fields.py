"""The joint meeting's form field types (units, topics, the resolution-item table) registered on top of the
engine's generic ones: validated and coerced on the server, Chinese messages keyed by field id."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from engine.errors import FormError
from engine.forms import Field, FormSpec, validate
from meeting.fields import field_types

CJK = re.compile(r"[\u4e00-\u9fff]")
UNITS = {"caizheng", "minzheng", "fagai", "weijian"}
TOPICS = {1, 2, 3}
REQUIRED = {"required": None}
TYPES = field_types()


class FakeLookups:
    def __init__(self) -> None:
        self.unit_calls: list[list[str]] = []

    def unknown_units(self, codes: list[str]) -> list[str]:
        self.unit_calls.append(list(codes))
        return [c for c in codes if c not in UNITS]

    def unknown_topics(self, ids: list[int]) -> list[int]:
        return [i for i in ids if i not in TOPICS]

    def attachment_exists(self, attachment_id: str) -> bool:
        return attachment_id == "att-1"


def ok(fields: list[Field], values: dict[str, Any], lookups: FakeLookups | None = None) -> dict[str, Any]:
    return validate(FormSpec(fields), values, lookups if lookups is not None else FakeLookups(), TYPES)


def errors(fields: list[Field], values: dict[str, Any], lookups: FakeLookups | None = None) -> dict[str, str]:
    with pytest.raises(FormError) as info:
        validate(FormSpec(fields), values, lookups if lookups is not None else FakeLookups(), TYPES)
    err = info.value
    assert err.status == 422
    for key, message in err.errors.items():
        assert key in {f.id for f in fields}, f"error not keyed by a field id: {key}"
        assert CJK.search(message), f"message not in Chinese: {message!r}"
    return err.errors


def test_required_unit_says_choose() -> None:
    assert errors([Field("lead", "牵头单位", "unit", constraints=dict(REQUIRED))], {}) == {"lead": "请选择“牵头单位”"}


def test_units_lists() -> None:
    f = Field("units", "相关单位", "units")
    assert ok([f], {"units": ["caizheng", "fagai", "caizheng"]}) == {"units": ["caizheng", "fagai"]}
    assert ok([f], {"units": "caizheng, fagai"}) == {"units": ["caizheng", "fagai"]}
    assert ok([f], {"units": '["minzheng"]'}) == {"units": ["minzheng"]}
    assert ok([f], {}) == {"units": []}
    assert errors([f], {"units": ["caizheng", "nosuch"]}) == {"units": "“相关单位”单位不存在：nosuch"}
    assert errors([f], {"units": "[oops"}) == {"units": "“相关单位”单位列表格式不正确"}
    assert errors([f], {"units": 5}) == {"units": "“相关单位”单位列表格式不正确"}
    assert errors([f], {"units": ["x" * 65]}) == {"units": "“相关单位”单位列表格式不正确"}
    assert errors([f], {"units": ["caizheng"] * 201}) == {"units": "“相关单位”单位列表格式不正确"}


def test_one_unit() -> None:
    f = Field("lead", "牵头单位", "unit")
    assert ok([f], {"lead": " caizheng "}) == {"lead": "caizheng"}
    assert errors([f], {"lead": "nosuch"}) == {"lead": "“牵头单位”单位不存在：nosuch"}
    assert errors([f], {"lead": ["caizheng"]}) == {"lead": "“牵头单位”请选择单位"}


def test_topics() -> None:
    f = Field("topics", "议题", "topics")
    assert ok([f], {"topics": [1, "2", 2]}) == {"topics": [1, 2]}
    assert ok([f], {"topics": "3,1"}) == {"topics": [3, 1]}
    assert errors([f], {"topics": [1, 99]}) == {"topics": "“议题”议题不存在：99"}
    assert errors([f], {"topics": ["1", "x"]}) == {"topics": "“议题”议题列表格式不正确"}
    assert errors([Field("topic", "议题", "topic")], {"topic": "abc"}) == {"topic": "“议题”请选择议题"}
    assert errors([Field("topic", "议题", "topic")], {"topic": 7}) == {"topic": "“议题”议题不存在：7"}
    assert ok([Field("topic", "议题", "topic")], {"topic": "2"}) == {"topic": 2}


def test_without_lookups_only_the_shape_is_checked() -> None:
    assert validate(FormSpec([Field("units", "单位", "units")]), {"units": "anything"}, None, TYPES) == {
        "units": ["anything"]}


# ---------------------------------------------------------------- resolution items

ITEMS = Field("items", "议定事项", "resolution_items")


def row(**kw: Any) -> dict[str, Any]:
    base = {"content": "落实临时救助资金", "lead_unit": "caizheng", "co_units": [], "deadline": "2026-06-30"}
    base.update(kw)
    return base


def test_resolution_items_rows_are_cleaned() -> None:
    lookups = FakeLookups()
    result = ok([ITEMS], {"items": [
        row(co_units=["fagai", "caizheng", "fagai", " minzheng "], topic_id="3"),
        {"content": "", "lead_unit": "", "deadline": ""},  # an empty row the browser always sends
        row(content="  第二项  ", lead_unit="minzheng", co_units="weijian,minzheng"),
    ]}, lookups)
    plain = {"deadline_workdays": None, "co_deadline": None, "key_item": False}
    assert result == {"items": [
        {"content": "落实临时救助资金", "lead_unit": "caizheng", "co_units": ["fagai", "minzheng"],
         "deadline": date(2026, 6, 30), "topic_id": 3, **plain},
        {"content": "第二项", "lead_unit": "minzheng", "co_units": ["weijian"], "deadline": date(2026, 6, 30),
         "topic_id": None, **plain},
    ]}
    assert ["caizheng", "fagai", "minzheng"] in lookups.unit_calls


def test_resolution_items_take_workdays_key_items_and_co_deadlines() -> None:
    """A deadline in 工作日 (the box next to the date, or "10个工作日"), 重点事项 and the co-units' own deadline."""
    result = ok([ITEMS], {"items": [
        row(deadline="", deadline_workdays="10", key_item=True, co_units=["fagai"], co_deadline="2026-06-20"),
        row(deadline="15个工作日"),
    ]}, FakeLookups())["items"]
    assert (result[0]["deadline"], result[0]["deadline_workdays"], result[0]["key_item"]) == (None, 10, True)
    assert result[0]["co_deadline"] == date(2026, 6, 20)
    assert (result[1]["deadline"], result[1]["deadline_workdays"], result[1]["key_item"]) == (None, 15, False)
    assert errors([ITEMS], {"items": [row(deadline="", deadline_workdays="0")]}) == {
        "items": "第 1 行：工作日数须为 1 至 250 的整数"}


def test_resolution_items_as_json_text() -> None:
    assert ok([ITEMS], {"items": '[{"content": "x", "lead_unit": "fagai", "deadline": "2026-06-30"}]'})["items"][0][
        "lead_unit"] == "fagai"


@pytest.mark.parametrize(("bad_row", "message"), [
    (row(content=""), "第 2 行：请填写事项内容"),
    (row(content="   "), "第 2 行：请填写事项内容"),
    (row(content="字" * 2001), "第 2 行：事项内容不能超过 2000 个字"),
    (row(lead_unit=""), "第 2 行：请选择牵头单位"),
    (row(lead_unit=None), "第 2 行：请选择牵头单位"),
    (row(deadline=""), "第 2 行：请填写完成时限（YYYY-MM-DD，或填写工作日数）"),
    (row(deadline="下个月"), "第 2 行：请填写完成时限（YYYY-MM-DD，或填写工作日数）"),
    (row(lead_unit="nosuch"), "第 2 行：单位不存在：nosuch"),
    (row(co_units=["fagai", "ghost"]), "第 2 行：单位不存在：ghost"),
    (row(co_units=5), "第 2 行：配合单位格式不正确"),
    (row(topic_id="abc"), "第 2 行：议题编号不正确"),
])
def test_resolution_items_bad_rows(bad_row: dict[str, Any], message: str) -> None:
    assert errors([ITEMS], {"items": [row(), bad_row]}) == {"items": message}


@pytest.mark.parametrize("bad", ["not a table", '{"content": "x"}', ["row"], [row()] * 101, 5])
def test_resolution_items_bad_tables(bad: Any) -> None:
    assert errors([ITEMS], {"items": bad}) == {"items": "“议定事项”议定事项表格格式不正确"}


def test_resolution_items_required_needs_one_real_row() -> None:
    f = Field("items", "议定事项", "resolution_items", constraints=dict(REQUIRED))
    assert errors([f], {"items": [{"content": "", "lead_unit": "", "deadline": ""}]}) == {
        "items": "请至少填写一项“议定事项”"}
    assert errors([f], {}) == {"items": "请填写“议定事项”"}
    assert ok([ITEMS], {"items": []}) == {"items": []}

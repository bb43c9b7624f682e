"""Typed task forms with the engine's generic field types: validated and coerced on the server, Chinese
messages keyed by field id. The meeting's own types are tested in tests/test_meeting_fields.py."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from engine.errors import FormError
from engine.forms import Field, FormSpec, validate

CJK = re.compile(r"[\u4e00-\u9fff]")


class FakeLookups:
    def attachment_exists(self, attachment_id: str) -> bool:
        return attachment_id == "att-1"


def ok(fields: list[Field], values: dict[str, Any], lookups: FakeLookups | None = None) -> dict[str, Any]:
    return validate(FormSpec(fields), values, lookups if lookups is not None else FakeLookups())


def errors(fields: list[Field], values: dict[str, Any], lookups: FakeLookups | None = None) -> dict[str, str]:
    with pytest.raises(FormError) as info:
        validate(FormSpec(fields), values, lookups if lookups is not None else FakeLookups())
    err = info.value
    assert err.status == 422
    assert err.message.startswith("表单填写有误：")
    for key, message in err.errors.items():
        assert key in {f.id for f in fields}, f"error not keyed by a field id: {key}"
        assert CJK.search(message), f"message not in Chinese: {message!r}"
    return err.errors


def string(fid: str = "title", label: str = "标题", **constraints: str | None) -> Field:
    return Field(fid, label, "string", constraints=dict(constraints))


def long(fid: str = "amount", label: str = "金额", **constraints: str | None) -> Field:
    return Field(fid, label, "long", constraints=dict(constraints))


REQUIRED = {"required": None}


# ---------------------------------------------------------------- required and text

@pytest.mark.parametrize("missing", [{}, {"title": None}, {"title": ""}, {"title": "   "}])
def test_required_text(missing: dict[str, Any]) -> None:
    assert errors([string(**REQUIRED)], missing) == {"title": "请填写“标题”"}


def test_required_choice_says_choose() -> None:
    enum = Field("decision", "结论", "enum", constraints=dict(REQUIRED), options=[("yes", "同意"), ("no", "不同意")])
    assert errors([enum], {}) == {"decision": "请选择“结论”"}


def test_text_is_trimmed_and_optional_empty_is_none() -> None:
    assert ok([string(), Field("note", "备注", "text")], {"title": "  会议  "}) == {"title": "会议", "note": None}


def test_maxlength_and_minlength() -> None:
    f = string(maxlength="5", minlength="2")
    assert ok([f], {"title": "五个字正好"}) == {"title": "五个字正好"}
    assert errors([f], {"title": "六个字就超了"}) == {"title": "“标题”不能超过 5 个字"}
    assert errors([f], {"title": "一"}) == {"title": "“标题”至少需要 2 个字"}


def test_default_max_lengths_and_line_breaks() -> None:
    assert "不能超过 500 个字" in errors([string()], {"title": "字" * 501})["title"]
    assert ok([Field("body", "正文", "text")], {"body": "甲\r\n乙"}) == {"body": "甲\n乙"}
    assert "不能超过 20000 个字" in errors([Field("body", "正文", "text")], {"body": "字" * 20001})["body"]
    assert errors([string()], {"title": "第一行\n第二行"}) == {"title": "“标题”不能换行"}
    assert "控制字符" in errors([string()], {"title": "a\x00b"})["title"]
    assert errors([string()], {"title": ["not", "text"]}) == {"title": "“标题”应为文字"}


# ---------------------------------------------------------------- long

@pytest.mark.parametrize("value", ["12a", True, False, 1.5, 10**30, "1e3", "9" * 18, {"n": 1}, "1.0", [1]])
def test_long_refuses_non_integers(value: Any) -> None:
    assert errors([long()], {"amount": value}) == {"amount": "“金额”应为整数"}


@pytest.mark.parametrize(("value", "expected"), [("12", 12), (" 7 ", 7), ("-3", -3), (4.0, 4), (0, 0),
                                                 (2**53, 2**53)])
def test_long_coerces(value: Any, expected: int) -> None:
    assert ok([long()], {"amount": value}) == {"amount": expected}
    assert type(ok([long()], {"amount": value})["amount"]) is int


def test_long_min_and_max() -> None:
    f = long(min="0", max="100")
    assert ok([f], {"amount": "100"}) == {"amount": 100}
    assert errors([f], {"amount": "-1"}) == {"amount": "“金额”不能小于 0"}
    assert errors([f], {"amount": 101}) == {"amount": "“金额”不能大于 100"}


# ---------------------------------------------------------------- boolean, date, enum

@pytest.mark.parametrize("value", [True, "true", "on", "1", "yes", "是", " TRUE ", 1])
def test_boolean_true(value: Any) -> None:
    assert ok([Field("ok", "同意", "boolean")], {"ok": value}) == {"ok": True}


@pytest.mark.parametrize("value", [False, "false", "off", "0", "no", "否", "", 0, None])
def test_boolean_false(value: Any) -> None:
    assert ok([Field("ok", "同意", "boolean")], {"ok": value}) == {"ok": False}


@pytest.mark.parametrize("value", ["maybe", 2, "对", 1.5])
def test_boolean_refuses_other_values(value: Any) -> None:
    assert errors([Field("ok", "同意", "boolean")], {"ok": value}) == {"ok": "“同意”应为“是”或“否”"}


def test_date() -> None:
    f = Field("deadline", "完成时限", "date")
    assert ok([f], {"deadline": "2026-03-10"}) == {"deadline": date(2026, 3, 10)}
    assert ok([f], {"deadline": date(2026, 3, 10)}) == {"deadline": date(2026, 3, 10)}
    for bad in ["2026/03/10", "2026-3-1", "2026-02-30", "10.03.2026", "2026-03-10T09:00", 20260310]:
        assert errors([f], {"deadline": bad}) == {"deadline": "“完成时限”日期格式应为 YYYY-MM-DD"}, bad


def test_enum_membership() -> None:
    f = Field("decision", "结论", "enum", options=[("accept", "同意"), ("reject", "不同意")])
    assert ok([f], {"decision": "accept"}) == {"decision": "accept"}
    for bad in ["同意", "ACCEPT", "maybe", 1, ["accept"]]:
        assert errors([f], {"decision": bad}) == {"decision": "“结论”请从以下选项中选择：同意、不同意"}, bad


# ---------------------------------------------------------------- attachments

def test_attachment() -> None:
    f = Field("file", "附件", "attachment")
    assert ok([f], {"file": "att-1"}) == {"file": "att-1"}
    assert errors([f], {"file": "att-2"}) == {"file": "“附件”附件不存在或已失效，请重新上传"}



# ---------------------------------------------------------------- what enters the data

def test_undeclared_keys_are_dropped() -> None:
    result = ok([string()], {"title": "标题", "initiator": "mallory", "__class__": 1, "typename": "x"})
    assert result == {"title": "标题"}


def test_readonly_values_are_never_taken_from_the_submission() -> None:
    shown = string("title", "标题", readonly=None)
    result = ok([shown, long()], {"title": "篡改后的标题", "amount": "3"})
    assert result.get("title") is None
    assert result["amount"] == 3


def test_readonly_fields_do_not_overwrite_or_block() -> None:
    # A read-only field only shows what the process already holds: it must not wipe that value
    # (the result is merged into the task data) and cannot be "required" of the user.
    shown = string("title", "标题", readonly=None)
    assert "title" not in ok([shown], {"title": "篡改"})
    assert "title" not in ok([string("title", "标题", readonly=None, required=None)], {})


def test_defaults_are_applied_and_coerced() -> None:
    fields = [Field("amount", "金额", "long", default="5"), Field("ok", "同意", "boolean", default="true"),
              Field("kind", "类别", "enum", default="regular", options=[("regular", "例会"), ("adhoc", "临时")]),
              Field("due", "时限", "date", default="2026-12-31"),
              Field("title", "标题", "string", default="默认标题", constraints=dict(REQUIRED))]
    assert ok(fields, {}) == {"amount": 5, "ok": True, "kind": "regular", "due": date(2026, 12, 31),
                              "title": "默认标题"}
    assert ok(fields, {"amount": "7", "ok": "否", "kind": "adhoc", "title": "新"})["amount"] == 7


def test_a_type_nobody_registered_is_refused_with_a_message() -> None:
    assert errors([Field("lead", "牵头单位", "unit")], {"lead": "caizheng"}) == {
        "lead": "“牵头单位”的类型“unit”不受支持"}


def test_all_errors_come_back_together_keyed_by_field() -> None:
    fields = [string(**REQUIRED), long(min="0"), Field("deadline", "完成时限", "date"),
              Field("decision", "结论", "enum", options=[("a", "甲")])]
    errs = errors(fields, {"amount": "-1", "deadline": "明天", "decision": "b"})
    assert set(errs) == {"title", "amount", "deadline", "decision"}
    assert all("“" in m for m in errs.values())


def test_formspec_round_trips_through_the_projection() -> None:
    f = Field("decision", "结论", "enum", default="a", constraints={"required": None},
              options=[("a", "甲"), ("b", "乙")], properties={"hint": "请选择"})
    spec = FormSpec([f])
    back = FormSpec([FormSpec.field_from_dict(d) for d in spec.as_list()])
    assert back.fields == [f]
    assert spec.as_list()[0]["required"] is True and spec.as_list()[0]["readonly"] is False

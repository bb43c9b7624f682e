"""The document register (meeting/documents.py): patterns, numbering per kind and year, voiding, settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.db import Database
from engine.errors import ActionError
from meeting import documents
from meeting.models import DocumentKind

NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(("pattern", "reason"), [
    ("", "不能为空"), ("汉救联纪〔{year}〕号", "{seq}"), ("汉救联纪〔{year}〕{seq:02d}号", "{seq}"),
    ("汉救联纪〔{year}〕{seq}号{", "不成对"), ("{os.system}{seq}", "只能使用"), ("x" * 61 + "{seq}", "不超过")])
def test_bad_patterns_are_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("{", r"\{").replace("}", r"\}")):
        documents.check_pattern(pattern)


def test_numbers_per_kind_and_year_a_subject_keeps_its_number_and_a_changed_pattern_applies_next(
        sqlite_db: Database) -> None:
    with sqlite_db.transaction() as s:
        first = documents.take_number(s, "minutes", NOW, subject="minutes:1", title="一")
        again = documents.take_number(s, "minutes", NOW, subject="minutes:1", title="一")
        request = documents.take_number(s, "request", NOW, subject="major_issue:1", title="请示")
        assert (first.number, again.id, request.number) == ("汉救联纪〔2026〕1号", first.id, "汉民发〔2026〕1号")
        documents.set_pattern(s, "minutes", "汉社救联纪〔{year}〕{seq}号", NOW)
        second = documents.take_number(s, "minutes", NOW, subject="minutes:2")
        assert second.number == "汉社救联纪〔2026〕2号"
        assert s.get(DocumentKind, "minutes").pattern == "汉社救联纪〔{year}〕{seq}号"  # type: ignore[union-attr]
        # Voided: kept with its reason; the subject may then take a new number; the voided one never comes back.
        documents.void_number(s, second.number, "重新发文", by="office", at=NOW)
        with pytest.raises(ActionError, match="已作废"):
            documents.void_number(s, second.number, "再次作废", by="office", at=NOW)
        third = documents.take_number(s, "minutes", NOW, subject="minutes:2")
        assert third.number == "汉社救联纪〔2026〕3号"
        assert [r.status for r in documents.register_of(s, "minutes", 2026)] == ["used", "void", "used"]
        assert documents.gaps(s, "minutes", 2026) == []
        with pytest.raises(ActionError, match="没有"):
            documents.take_number(s, "nosuch", NOW, subject="x:1")

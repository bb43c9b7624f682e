"""The document register (发文登记): 文号 numbered per year and per kind, never reused, gaps explained.

Every numbered document of the joint meeting takes its 文号 here: 会议纪要 (汉救联纪〔2026〕3号), the 请示 of a
major issue (汉民发〔2026〕5号), and any other kind a module declares (督办函, 通报, 报告 …).

How to use it (inside a command's session, so the number and the document commit together or not at all)::

    from meeting import documents

    # Once, at import time of the module that issues the kind: the default label and pattern.
    documents.declare_kind("letter", "督办函", "汉救联督〔{year}〕{seq}号")

    row = documents.take_number(session, "letter", now, subject=f"letter:{letter.id}", title=letter.title,
                                by=ctx.actor)
    letter.number = row.number                # e.g. 汉救联督〔2026〕1号

    documents.void_number(session, row.number, "发文对象有误，重新发文", by="office", at=now)  # keeps the row
    documents.register_of(session, "letter", 2026)   # the year's rows in order, voided ones with their reason
    documents.gaps(session, "letter", 2026)          # sequence numbers with no row (should stay empty)

Patterns: ``{year}`` is the Beijing calendar year of the moment the number is taken, ``{seq}`` the number within
the kind and the year (1, 2, 3 …; ``{seq:02d}``-style padding is not supported, 公文 write 3号 not 03号). A pattern
may leave out ``{year}`` (期号 such as 第{seq}期) but must contain ``{seq}``. The first use of a declared kind
writes its row into ``document_kinds``; from then on the row is the setting (an administrator may change the
pattern with ``set_pattern``; numbers already given keep their text).

Concurrency: the kind's row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has a single writer) while
the next number is taken, so two commands never take the same number; the unique constraints back this up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import ActionError
from meeting.models import DocumentKind, DocumentNumber
from meeting.statuses import DocumentNumberStatus
from meeting.timeutil import local_today

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_PATTERN = 60


@dataclass(frozen=True)
class KindDeclaration:
    kind: str
    label: str
    pattern: str


# The kinds modules declared, with their default pattern (used when the kind's row does not exist yet).
DECLARED: dict[str, KindDeclaration] = {}


def check_pattern(pattern: str) -> str:
    """The pattern, stripped, or ValueError with the reason in Chinese."""
    text = pattern.strip()
    if not text or len(text) > MAX_PATTERN:
        raise ValueError(f"文号格式不能为空，且不超过{MAX_PATTERN}个字符")
    names = _PLACEHOLDER.findall(text)
    if "seq" not in names:
        raise ValueError("文号格式须包含顺序号 {seq}")
    unknown = sorted(set(names) - {"year", "seq"})
    if unknown:
        raise ValueError(f"文号格式只能使用 {{year}} 和 {{seq}}，不能使用 {'、'.join('{' + n + '}' for n in unknown)}")
    if text.count("{") != len(names) or text.count("}") != len(names):
        raise ValueError("文号格式中的花括号不成对")
    return text


def format_number(pattern: str, year: int, seq: int) -> str:
    return pattern.replace("{year}", str(year)).replace("{seq}", str(seq))


def declare_kind(kind: str, label: str, pattern: str) -> None:
    """Declare a kind of document and its default 文号 pattern (call at import time; idempotent)."""
    DECLARED[kind] = KindDeclaration(kind, label, check_pattern(pattern))


def kind_row(session: Session, kind: str, now: datetime, lock: bool = False) -> DocumentKind:
    """The kind's settings row, written from its declaration on first use."""
    stmt = select(DocumentKind).where(DocumentKind.kind == kind)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is not None:
        return row
    declared = DECLARED.get(kind)
    if declared is None:
        raise ActionError(f"发文登记中没有“{kind}”这类文件。")
    row = DocumentKind(kind=kind, label=declared.label, pattern=declared.pattern, updated_at=now)
    session.add(row)
    session.flush()
    return row


def set_pattern(session: Session, kind: str, pattern: str, now: datetime) -> DocumentKind:
    """Change a kind's pattern (an administrator's setting); ValueError for a bad pattern."""
    row = kind_row(session, kind, now, lock=True)
    row.pattern, row.updated_at = check_pattern(pattern), now
    return row


def take_number(session: Session, kind: str, at: datetime, *, subject: str, title: str = "",
                by: str | None = None) -> DocumentNumber:
    """The next 文号 of ``kind`` in the year of ``at`` (Beijing), registered to ``subject``. A subject that
    already holds a number of this kind that is in use gets that same number back (a command that is retried,
    or a document re-issued, never takes a second number)."""
    held = number_of(session, kind, subject)
    if held is not None:
        return held
    settings = kind_row(session, kind, at, lock=True)
    year = local_today(at).year
    last = session.scalar(select(func.max(DocumentNumber.seq))
                          .where(DocumentNumber.kind == kind, DocumentNumber.year == year))
    seq = (last or 0) + 1
    row = DocumentNumber(kind=kind, year=year, seq=seq, number=format_number(settings.pattern, year, seq),
                         subject=subject, title=title[:200], status=DocumentNumberStatus.USED, taken_by=by,
                         taken_at=at)
    if session.scalar(select(DocumentNumber.id).where(DocumentNumber.number == row.number)) is not None:
        # A pattern changed in the middle of a year could produce a text already given: refuse, never reuse.
        raise ActionError(f"文号“{row.number}”已被使用，请检查“{settings.label}”的文号格式。")
    session.add(row)
    session.flush()
    return row


def number_of(session: Session, kind: str, subject: str) -> DocumentNumber | None:
    """The number in use that ``subject`` holds for ``kind``, if any."""
    return session.scalar(select(DocumentNumber).where(
        DocumentNumber.kind == kind, DocumentNumber.subject == subject,
        DocumentNumber.status == DocumentNumberStatus.USED).order_by(DocumentNumber.id.desc()).limit(1))


def void_number(session: Session, number: str, reason: str, *, by: str | None, at: datetime) -> DocumentNumber:
    """Void a number: it stays in the register with the reason and is never given again."""
    row = session.scalar(select(DocumentNumber).where(DocumentNumber.number == number))
    if row is None:
        raise ActionError(f"发文登记中没有文号“{number}”。")
    if row.status == DocumentNumberStatus.VOID:
        raise ActionError(f"文号“{number}”已作废。")
    if not reason.strip():
        raise ActionError("作废文号须写明原因。")
    row.status, row.void_reason, row.voided_by, row.voided_at = DocumentNumberStatus.VOID, reason.strip(), by, at
    return row


def register_of(session: Session, kind: str, year: int) -> list[DocumentNumber]:
    """The register of one kind and year, by sequence number."""
    return list(session.scalars(select(DocumentNumber).where(DocumentNumber.kind == kind, DocumentNumber.year == year)
                                .order_by(DocumentNumber.seq)))


def gaps(session: Session, kind: str, year: int) -> list[int]:
    """Sequence numbers below the year's highest that have no row. The register writes a row for every number
    it gives and voids instead of deleting, so this stays empty; a gap means rows were removed by hand."""
    seqs = set(session.scalars(select(DocumentNumber.seq).where(DocumentNumber.kind == kind,
                                                                DocumentNumber.year == year)))
    return [n for n in range(1, max(seqs, default=0) + 1) if n not in seqs]


# The kinds of the meeting cycle; other modules declare theirs the same way.
declare_kind("minutes", "纪要", "汉救联纪〔{year}〕{seq}号")
declare_kind("request", "请示", "汉民发〔{year}〕{seq}号")

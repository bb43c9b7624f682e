"""Generated task forms: what each field offers (units, topics) and how a POST becomes form values."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.attachments import store_attachment
from engine.errors import FormError
from engine.models import HumanTask
from meeting.models import MeetingTopic, Topic, Unit

UNIT_KIND_LABELS = {"member": "成员单位", "town": "镇（街办）", "invited": "列席单位", "cc": "抄送单位"}


@dataclass
class FieldView:
    id: str
    label: str
    type: str
    required: bool
    readonly: bool
    value: Any
    error: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    groups: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    maxlength: int | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def values(self) -> list[str]:
        if isinstance(self.value, list):
            return [str(v) for v in self.value]
        return [] if self.value in (None, "") else [str(self.value)]

    @property
    def json_value(self) -> str:
        return json.dumps(_jsonable(self.value or []), ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value


def unit_groups(session: Session, kinds: tuple[str, ...] = ("member", "town", "invited")
                ) -> list[tuple[str, list[tuple[str, str]]]]:
    rows = session.scalars(select(Unit).where(Unit.active, Unit.kind.in_(kinds)).order_by(Unit.sort, Unit.code))
    grouped: dict[str, list[tuple[str, str]]] = {}
    for u in rows:
        grouped.setdefault(UNIT_KIND_LABELS.get(u.kind, u.kind), []).append((u.code, u.name))
    return list(grouped.items())


def topic_options(session: Session, data: dict[str, Any]) -> list[tuple[str, str]]:
    """At a meeting: the meeting's topics; otherwise the pool of accepted topics (plus those already chosen)."""
    meeting_id = data.get("meeting_id")
    if isinstance(meeting_id, int):
        stmt = (select(Topic).join(MeetingTopic, MeetingTopic.topic_id == Topic.id)
                .where(MeetingTopic.meeting_id == meeting_id).order_by(Topic.id))
        rows = list(session.scalars(stmt))
        if rows:
            return [(str(t.id), f"{t.title}（{t.unit_code}）") for t in rows]
    chosen = [int(v) for v in data.get("topic_ids") or [] if isinstance(v, int)]
    stmt = select(Topic).where((Topic.status == "accepted") | (Topic.id.in_(chosen))).order_by(Topic.id)
    return [(str(t.id), f"{t.title}（{t.unit_code}）") for t in session.scalars(stmt)]


def field_views(session: Session, form: list[dict[str, Any]], data: dict[str, Any],
                errors: dict[str, str] | None = None) -> list[FieldView]:
    errors = errors or {}
    views = []
    units = None
    for f in form:
        c = f.get("constraints") or {}
        value = data.get(f["id"], f.get("default"))
        view = FieldView(
            id=f["id"], label=f["label"], type=f["type"], required=bool(f.get("required")),
            readonly=bool(f.get("readonly")), value=value, error=errors.get(f["id"]),
            options=[(o["id"], o["name"]) for o in f.get("options") or []],
            maxlength=int(float(c["maxlength"])) if c.get("maxlength") else None,
            minimum=float(c["min"]) if c.get("min") else None,
            maximum=float(c["max"]) if c.get("max") else None,
        )
        if f["type"] in {"unit", "units", "resolution_items"}:
            units = units or unit_groups(session)
            view.groups = units
        if f["type"] in {"topic", "topics", "resolution_items"}:
            view.options = topic_options(session, data)
        views.append(view)
    return views


@dataclass(frozen=True)
class Upload:
    """A file chosen for an attachment field, not yet checked or stored."""

    field_id: str
    file_name: str
    data: bytes


@dataclass
class ParsedForm:
    """A task form as posted, read without the database: the declared fields' values (an attachment field holds
    the id of the file it already had, or None), the files to store, and what could not even be read."""

    values: dict[str, Any]
    uploads: list[Upload]
    errors: dict[str, str]


def parse_form(req: Request, form: list[dict[str, Any]]) -> ParsedForm:
    """Form values from a POST; only declared ids are read."""
    values: dict[str, Any] = {}
    uploads: list[Upload] = []
    errors: dict[str, str] = {}
    for f in form:
        fid, ftype = f["id"], f["type"]
        if ftype in {"units", "topics"}:
            values[fid] = req.form.getlist(fid)
        elif ftype == "resolution_items":
            raw = req.form.get(fid, "").strip() or "[]"
            try:
                values[fid] = json.loads(raw)
            except (json.JSONDecodeError, RecursionError):
                errors[fid] = f"“{f['label']}”表格数据格式不正确"
        elif ftype == "boolean":
            values[fid] = req.form.get(fid, "false")
        elif ftype == "attachment":
            values[fid] = req.form.get(f"{fid}__keep") or None
            upload = req.files.get(fid)
            if upload is not None and upload.filename:
                uploads.append(Upload(fid, upload.filename, upload.read()))
        else:
            values[fid] = req.form.get(fid)
    return ParsedForm(values, uploads, errors)


def store_uploads(session: Session, uploads: list[Upload], username: str, now: datetime,
                  instance_id: str) -> dict[str, str]:
    """Checks and stores each file in ``session``; returns field id -> attachment id. FormError on a bad file."""
    return {u.field_id: store_attachment(session, u.field_id, u.file_name, u.data, username, now, instance_id).id
            for u in uploads}


class TaskSubmission:
    """One POST of a task page as the ``prepare`` step of ``WorkflowService.complete``: the request is read
    against the form of the locked task and its files are stored in the command's own transaction, so a
    submission that is refused (a field missing, a bad file, a task done meanwhile) leaves no file behind."""

    def __init__(self, req: Request, username: str, now: datetime) -> None:
        self.req, self.username, self.now = req, username, now
        self.parsed: ParsedForm | None = None
        self.task_name = ""

    def prepare(self, session: Session, task: HumanTask) -> dict[str, Any]:
        self.task_name = task.name
        self.parsed = parse_form(self.req, task.form)
        if self.parsed.errors:
            raise FormError(self.parsed.errors)
        stored = store_uploads(session, self.parsed.uploads, self.username, self.now, task.instance_id)
        return {**self.parsed.values, **stored}

    @property
    def dropped_uploads(self) -> bool:
        """Files were chosen but, the submission being refused, not kept."""
        return bool(self.parsed and self.parsed.uploads)

    def redisplay(self) -> dict[str, Any]:
        """What to put back in the form after a refusal: the values as read, or the text as typed where
        reading gave nothing; never a file of this refused submission."""
        if self.parsed is None:
            return {}
        values, errors = self.parsed.values, self.parsed.errors
        typed = {k: v for k, v in self.req.form.items() if k in values and not values[k] and k not in errors}
        return {**values, **typed}

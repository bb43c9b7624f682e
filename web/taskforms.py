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
from engine.forms import FormSpec, is_shown
from engine.models import HumanTask
from meeting.actions.meetings import default_sign_in
from meeting.check_fields import as_text
from meeting.models import Attendance, MeetingTopic, Topic, TopicCallReply, Unit
from meeting.statuses import SignIn

UNIT_KIND_LABELS = {"member": "成员单位", "town": "镇（街办）", "invited": "列席单位", "cc": "抄送单位",
                    "guest": "其他部门（临时邀请）", "gov": "区政府"}
DEFAULT_UNIT_KINDS = ("member", "town", "invited", "guest")


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
    # ``other_field=value``: the field is shown only while that choice is made (the page hides it otherwise).
    show_when: tuple[str, str] | None = None
    placeholder: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)  # a sign-in sheet's rows, with the units' names
    hidden: bool = False  # a conditional field whose choice is not made: rendered hidden, shown by app.js
    sensitive: bool = False  # personal data (property ``sensitive``): not autofilled, the page says where it goes

    @property
    def values(self) -> list[str]:
        if isinstance(self.value, list):
            return [str(v) for v in self.value]
        return [] if self.value in (None, "") else [str(self.value)]

    @property
    def picker_groups(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The units as a clerk groups them when ticking boxes: 成员单位, 镇街, 其他 (invited departments and the
        rest), each in directory order."""
        member: list[tuple[str, str]] = []
        town: list[tuple[str, str]] = []
        other: list[tuple[str, str]] = []
        for label, units in self.groups:
            if label == UNIT_KIND_LABELS["member"]:
                member.extend(units)
            elif label == UNIT_KIND_LABELS["town"]:
                town.extend(units)
            else:
                other.extend(units)
        return [(label, units) for label, units in (("成员单位", member), ("镇街", town), ("其他", other)) if units]

    @property
    def lines_text(self) -> str:
        """A ``lines`` field's rows as the textarea shows them."""
        return as_text(self.value)

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


def _topic_label(topic: Topic, unit_names: dict[str, str]) -> str:
    """The topic as a person names it: its title and the unit that proposed it (by name, never its code)."""
    return f"{topic.title}（{unit_names.get(topic.unit_code, '')}）" if unit_names.get(topic.unit_code) else topic.title


def topic_options(session: Session, data: dict[str, Any]) -> list[tuple[str, str]]:
    """At a meeting: the meeting's topics; in a call for topics, the topics it brought in; otherwise the pool
    of accepted topics (plus those already chosen)."""
    names = dict(session.execute(select(Unit.code, Unit.name)).all())
    call_id = data.get("call_id")
    if isinstance(call_id, int):
        stmt = (select(Topic).join(TopicCallReply, TopicCallReply.topic_id == Topic.id)
                .where(TopicCallReply.call_id == call_id).order_by(Topic.id))
        return [(str(t.id), _topic_label(t, names)) for t in session.scalars(stmt)]
    meeting_id = data.get("meeting_id")
    if isinstance(meeting_id, int):
        stmt = (select(Topic).join(MeetingTopic, MeetingTopic.topic_id == Topic.id)
                .where(MeetingTopic.meeting_id == meeting_id).order_by(Topic.id))
        rows = list(session.scalars(stmt))
        if rows:
            return [(str(t.id), _topic_label(t, names)) for t in rows]
    chosen = [int(v) for v in data.get("topic_ids") or [] if isinstance(v, int)]
    stmt = select(Topic).where((Topic.status == "accepted") | (Topic.id.in_(chosen))).order_by(Topic.id)
    return [(str(t.id), _topic_label(t, names)) for t in session.scalars(stmt)]


def sign_in_rows(session: Session, data: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    """The sign-in sheet of the meeting: every unit on its list with what the office entered, or what its reply
    suggests (who said they come, came)."""
    meeting_id = data.get("meeting_id")
    if not isinstance(meeting_id, int):
        return []
    entered = {str(r.get("unit")): r for r in value or [] if isinstance(r, dict)}
    rows = session.execute(select(Attendance, Unit.name, Unit.kind).join(Unit, Unit.code == Attendance.unit_code)
                           .where(Attendance.meeting_id == meeting_id).order_by(Attendance.invited, Unit.sort,
                                                                                 Unit.code)).all()
    out = []
    for att, name, kind in rows:
        entry = entered.get(att.unit_code) or default_sign_in(att)
        out.append({"unit": att.unit_code, "name_of_unit": name, "invited": att.invited, "kind": kind,
                    "reply": att.reply, "status": str(entry.get("status") or SignIn.ABSENT),
                    "name": entry.get("name") or "", "post": entry.get("post") or ""})
    return out


def _show_when(props: dict[str, Any]) -> tuple[str, str] | None:
    rule = str(props.get("showWhen") or "")
    if "=" not in rule:
        return None
    other, value = rule.split("=", 1)
    return other.strip(), value.strip()


def field_views(session: Session, form: list[dict[str, Any]], data: dict[str, Any],
                errors: dict[str, str] | None = None) -> list[FieldView]:
    errors = errors or {}
    views = []
    units: dict[tuple[str, ...], Any] = {}
    for f in form:
        c = f.get("constraints") or {}
        props = f.get("properties") or {}
        value = data.get(f["id"], f.get("default"))
        view = FieldView(
            id=f["id"], label=f["label"], type=f["type"], required=bool(f.get("required")),
            readonly=bool(f.get("readonly")), value=value, error=errors.get(f["id"]),
            options=[(o["id"], o["name"]) for o in f.get("options") or []],
            maxlength=int(float(c["maxlength"])) if c.get("maxlength") else None,
            minimum=float(c["min"]) if c.get("min") else None,
            maximum=float(c["max"]) if c.get("max") else None,
            show_when=_show_when(props), placeholder=str(props.get("placeholder") or ""),
            sensitive=str(props.get("sensitive") or "").strip().lower() == "true",
        )
        if f["type"] in {"unit", "units", "resolution_items"}:
            kinds = tuple(k.strip() for k in str(props.get("unitKinds") or "").split(",") if k.strip()) \
                or DEFAULT_UNIT_KINDS
            units[kinds] = units.get(kinds) or unit_groups(session, kinds)
            view.groups = units[kinds]
        if f["type"] == "sign_in":
            view.rows = sign_in_rows(session, data, value)
        if f["type"] in {"topic", "topics", "resolution_items"}:
            view.options = topic_options(session, data)
        views.append(view)
    _hide_unchosen(views, form, data)
    return views


def _hide_unchosen(views: list[FieldView], form: list[dict[str, Any]], data: dict[str, Any]) -> None:
    """The page opens with the fields the current choice needs, by the rule the server validates with; a field
    with an error message stays visible so that nothing typed is out of sight."""
    spec = FormSpec([FormSpec.field_from_dict(f) for f in form])
    for view, f in zip(views, spec.fields, strict=True):
        view.hidden = not view.error and not is_shown(spec, f, data)


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
        if ftype in {"units", "topics", "enums"}:
            values[fid] = req.form.getlist(fid)
        elif ftype == "sign_in":
            values[fid] = [{"unit": code, "status": req.form.get(f"{fid}.{code}.status", ""),
                            "name": req.form.get(f"{fid}.{code}.name", ""), "post": req.form.get(f"{fid}.{code}.post", "")}
                           for code in req.form.getlist(f"{fid}.unit")]
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
                  instance_id: str | None) -> dict[str, str]:
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


def typed_values(session: Session, form: list[dict[str, Any]], posted: Any) -> list[tuple[str, str]]:
    """What a refused submission held, as (label, text) in the form's order: choices by their names, units by
    theirs, table rows as sentences; never a field id, a code or a raw value."""
    units = dict(session.execute(select(Unit.code, Unit.name)).all())
    out: list[tuple[str, str]] = []
    for f in form:
        raw = [v for v in posted.getlist(f["id"]) if isinstance(v, str) and v.strip()]
        if not raw:
            continue
        options = {o["id"]: o["name"] for o in f.get("options") or []}
        if f["type"] in ("enum", "enums"):
            text = "、".join(options.get(v, "") for v in raw if v in options)
        elif f["type"] == "boolean":
            text = "是" if "true" in raw else "否"
        elif f["type"] in ("unit", "units"):
            text = "、".join(units.get(v, "") for v in raw if v in units)
        elif f["type"] == "resolution_items":
            text = _item_sentences(raw[0], units)
        elif f["type"] in ("topic", "topics", "attachment", "sign_in"):
            continue  # chosen from lists the page shows again; files are never kept from a refused submission
        else:
            text = "\n".join(raw)
        if text:
            out.append((f["label"], text))
    return out


def _item_sentences(raw: str, units: dict[str, str]) -> str:
    try:
        rows = json.loads(raw)
    except (ValueError, RecursionError):
        return ""
    lines = []
    for r in rows if isinstance(rows, list) else []:
        if isinstance(r, dict) and str(r.get("content") or "").strip():
            lead = units.get(str(r.get("lead_unit") or ""), "")
            lines.append(f"{r['content']}（牵头：{lead or '未选'}；时限：{r.get('deadline') or '未填'}）")
    return "\n".join(lines)

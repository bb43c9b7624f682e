"""The world the features act in: one fresh database per scenario, the demo directory, the five deployed
processes, a clock that only the scenario moves, and the people of the rules acting through the service layer.

Built on ``meeting.demo.Walkthrough`` (act as a user on a task); adds what the features need to read like the
rules: people and units named as in the rules, forms filled in by their Chinese labels, refusals kept for the
next step to check, and snapshots to prove that a refused submission changed nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from engine.clock import SHANGHAI, ManualClock
from engine.db import Base, Database
from engine.errors import EngineError
from engine.models import HumanTask, Instance
from engine.service import Actor
from meeting import directory
from meeting.demo import Walkthrough
from meeting.models import (
    Meeting,
    MembershipChange,
    Notification,
    ResolutionItem,
    Topic,
    Unit,
)
from meeting.runtime import build_service, deploy_defaults
from meeting.statuses import Light

# People of the rules and the demo users who act for them.
ROLE_USERS = {
    "联席会议办公室": "office",
    "办公室": "office",
    "区民政局（联席会议办公室）": "office",
    "召集人": "convener",
    "区政府分管领导": "district",
    "联席会议负责人": "district",
    "区政府": "district",
    "运维管理员": "admin",
    # 三员分立 (meeting/roles.py): three separate administrators.
    "系统管理员": "sysadmin",
    "安全管理员": "secadmin",
    "审计管理员": "auditor",
    "抄送阅文人员": "chaosong",
    # 各镇: 五里镇 is fully staffed in the demo directory, 老城街道办 has its window (meeting/directory.py).
    "五里镇便民服务中心窗口": "wuli_window",
    "五里镇民政办": "wuli_mzb",
    "五里镇急难问题快速响应队员": "wuli_team",
    "五里镇分管领导": "wuli_leader",
    "老城街道办便民服务中心窗口": "laocheng_window",
    "流程设计员": "designer",
    "流程发布审批人": "approver",
    # 救急难.feature names them shorter.
    "五里镇窗口": "wuli_window",
    "五里镇快速响应服务队伍": "wuli_team",
    "区核对办公室": "hedui",
}
# The group a notification to them is addressed to.
ROLE_GROUPS = {
    "联席会议办公室": "office",
    "办公室": "office",
    "召集人": "convener",
    "区政府分管领导": "district",
    "联席会议负责人": "district",
    "区政府": "district",
    "抄送单位": "cc",
    "抄送阅文人员": "cc",
    "五里镇窗口": "town:wuli:window",
    "五里镇民政办": "town:wuli:mzb",
    "五里镇快速响应服务队伍": "town:wuli:team",
    "五里镇分管领导": "town:wuli:leader",
    "区核对办公室": "check",
}
PROCESSES = {
    "议题征集": "topic_proposal",
    "联席会议": "joint_meeting",
    "议定事项落实": "resolution_item",
    "家庭经济状况核对": "household_check",
    "动态复核": "household_batch",
    "重大问题报区政府决定": "major_issue",
    "成员单位调整": "membership_change",
    "交办事项": "assigned_matter",
    "信访转办": "petition_referral",
    "跨部门协调": "coordination_request",
    "一门受理、协同办理": "assistance_referral",
    "部门协同办理": "assistance_handling",
    "救急难": "urgent_assistance",
}
NOTIFICATION_KINDS = {
    "待办": "task",
    "退回": "returned",
    "催办": "reminder",
    "督办": "supervision",
    "决定": "decision",
    "印发": "issued",
    "告知": "info",
}
# Statuses are named by their labels (meeting/statuses.py, ``from_label``); lights by their colours.
LIGHTS = {"绿": Light.GREEN, "黄": Light.YELLOW, "红": Light.RED, Light.CLOSED.label: Light.CLOSED}

RELATIVE_DAY = re.compile(r"^(\d+)天后$")
GENERATED_TEXT = re.compile(r"^（(\d+)个字）$")
EMPTY = "（空）"


def local_day(moment: datetime) -> str:
    """The Beijing calendar day of an instant, as an ISO date."""
    return moment.astimezone(SHANGHAI).date().isoformat()


def names_in(text: str) -> list[str]:
    """The quoted names of a list such as ``"区人社局"、"联席会议办公室"和"召集人"``."""
    found = re.findall(r"[\"“]([^\"”]+)[\"”]", text)
    return found or [n for n in re.split(r"[、，,和]", text) if n]


def split_list(text: str) -> list[str]:
    """``区民政局、区统计局`` → two names; empty and ``无`` → none."""
    text = text.strip()
    if text in ("", "无", EMPTY):
        return []
    return [n.strip() for n in re.split(r"[、，,]", text) if n.strip()]


class World(Walkthrough):
    def __init__(self, db: Database, clock: ManualClock) -> None:
        with db.transaction() as s:
            directory.seed_directory(s)
            directory.create_demo_users(s, None, now=clock.now())
        service = build_service(db, clock)
        deploy_defaults(service)
        super().__init__(db, service, clock)
        self.error: EngineError | None = None
        self.failed = False
        self.before: dict[str, list[tuple[Any, ...]]] | None = None
        self.track_changes = False
        self.instances: dict[str, list[str]] = {}
        self.last_task: HumanTask | None = None
        self.meeting_instance: str | None = None
        self.unit_codes: dict[str, str] = {}
        self.concurrent_results: dict[str, BaseException | None] = {}
        self.start_form: list[dict[str, Any]] = []  # the last start form filled (its labels name refused fields)
        self.revealed: dict[str, str] = {}  # personal data a handler was last shown

    # ------------------------------------------------------------------ people, units, processes
    def unit_code(self, name: str) -> str:
        """A unit by its name (or code); a unit keeps answering to the name it had when first named, so a
        scenario can still say “区扶贫局” after the district approved its new name."""
        if name in self.unit_codes:
            return self.unit_codes[name]
        with self.db.sessions() as s:
            code = s.scalar(select(Unit.code).where((Unit.name == name) | (Unit.code == name)))
        if code is None:
            raise AssertionError(f"单位名录中没有“{name}”")
        self.unit_codes[name] = code
        return code

    def user(self, name: str) -> str:
        """The user who acts for a person or a unit of the rules (a unit's liaison signs in with its code)."""
        return ROLE_USERS.get(name) or self.unit_code(name)

    def group(self, name: str) -> str:
        if name in ROLE_GROUPS:
            return ROLE_GROUPS[name]
        return f"unit:{self.unit_code(name)}"

    def member_names(self) -> list[str]:
        with self.db.sessions() as s:
            return list(s.scalars(select(Unit.name).where(Unit.kind == "member", Unit.active).order_by(Unit.sort)))

    def people(self, text: str) -> list[str]:
        """Who a step names: quoted names, and all member units for “17个成员单位”."""
        found = names_in(text) if "\"" in text or "“" in text else []
        if "个成员单位" in text:
            found = self.member_names() + found
        return found or names_in(text)

    def actor(self, username: str) -> Actor:
        return super().actor(ROLE_USERS.get(username, username))

    def process_key(self, name: str) -> str:
        return PROCESSES.get(name, name)

    # ------------------------------------------------------------------ time
    def local_now(self) -> datetime:
        return self.clock.now().astimezone(SHANGHAI)

    def day(self, text: str) -> str:
        """``今天``, ``N天后`` (from today, Beijing calendar) or an ISO date."""
        if text.strip() == "今天":
            return self.today()
        match = RELATIVE_DAY.match(text.strip())
        if match:
            return self.today(int(match.group(1)))
        return date.fromisoformat(text.strip()).isoformat()

    def advance(self, days: float) -> int:
        return self.move_to(self.clock.now() + timedelta(days=days))

    def move_to(self, when: datetime) -> int:
        """Move the clock forward to ``when`` and let the worker fire every timer that is due."""
        if when < self.clock.now():
            raise AssertionError("时间只能向前")
        self.clock.set(when)
        moved = 0
        for _ in range(50):
            fired = self.service.fire_due_timers(limit=10_000)
            if not fired:
                break
            moved += fired
        return moved

    def restart(self) -> None:
        """A new service over the same database, as after a restart of the application."""
        self.service = build_service(self.db, self.clock)

    # ------------------------------------------------------------------ tasks
    def open_tasks(self, who: str) -> list[HumanTask]:
        return self.service.tasks_for(self.actor(self.user(who)), "open", limit=1000)

    def tasks_named(self, who: str, task_name: str, **context: Any) -> list[HumanTask]:
        return [t for t in self.open_tasks(who)
                if task_name in (t.name, t.bpmn_id) and all(t.context.get(k) == v for k, v in context.items())]

    def find(self, who: str, task_name: str, **context: Any) -> HumanTask:
        found = self.tasks_named(who, task_name, **context)
        if not found:
            names = sorted({t.name for t in self.open_tasks(who)})
            raise AssertionError(f"{who}的待办中没有“{task_name}”{context or ''}；现有待办：{names}")
        if len(found) > 1 and not context:
            raise AssertionError(f"{who}的待办中有{len(found)}件“{task_name}”，请指明是哪一件")
        return found[0]

    def any_task(self, task_name: str, **context: Any) -> HumanTask:
        """An open task with that name, whoever may do it (for steps where someone else tries it)."""
        with self.db.sessions() as s:
            rows = s.scalars(select(HumanTask).where(HumanTask.state == "READY").order_by(HumanTask.created_at))
            for t in rows:
                if task_name in (t.name, t.bpmn_id) and all(t.context.get(k) == v for k, v in context.items()):
                    return t
        raise AssertionError(f"没有待办的“{task_name}”{context or ''}")

    def form_values(self, task: HumanTask, labelled: dict[str, str]) -> dict[str, Any]:
        """Form values from the labels people see: enum option names, unit names, topic titles, ``N天后``."""
        fields = {f["label"]: f for f in task.form} | {f["id"]: f for f in task.form}
        values: dict[str, Any] = {}
        for label, raw in labelled.items():
            f = fields.get(label)
            if f is None:
                raise AssertionError(f"“{task.name}”的表单没有“{label}”一项；有：{[x['label'] for x in task.form]}")
            values[f["id"]] = self.form_value(f, raw)
        return values

    def form_value(self, f: dict[str, Any], raw: str) -> Any:
        raw = raw.strip()
        generated = GENERATED_TEXT.match(raw)
        if raw == EMPTY:
            return ""
        if generated:
            return "议" * int(generated.group(1))
        kind = f["type"]
        if kind == "enum":
            return {o["name"]: o["id"] for o in f["options"]}.get(raw, raw)
        if kind == "boolean":
            return {"是": True, "否": False, "同意": True, "不同意": False}.get(raw, raw)
        if kind == "date":
            return self.day(raw) if RELATIVE_DAY.match(raw) or raw == "今天" else raw
        if kind == "unit":
            return self._code_or_raw(raw)
        if kind == "units":
            return [self._code_or_raw(n) for n in split_list(raw)]
        if kind == "enums":
            names = {o["name"]: o["id"] for o in f["options"]}
            return [names.get(n, n) for n in split_list(raw)]
        if kind in ("topic", "topics"):
            ids = [self.topic_id(t) for t in split_list(raw)]
            return ids[0] if kind == "topic" else ids
        return raw

    def _code_or_raw(self, name: str) -> str:
        try:
            return self.unit_code(name)
        except AssertionError:
            return name

    # ------------------------------------------------------------------ acting, and refusals
    def attempt(self, act: Callable[[], Any]) -> Any:
        """Run a command; a refusal (any engine error) is kept for the next step to check."""
        assert self.error is None, f"上一步的拒绝还没有检查：{self.error}"
        self.take_snapshot()
        try:
            return act()
        except EngineError as exc:
            self.error = exc
            return None

    def submit(self, who: str, task: HumanTask, values: dict[str, Any]) -> None:
        """Claim (if not yet claimed) and complete, as the inbox does; a refusal is kept."""
        actor = self.actor(self.user(who))
        self.last_task = task

        def act() -> None:
            self.service.claim(task.id, actor)
            self.take_snapshot()
            self.service.complete(task.id, actor, values)

        self.attempt(act)

    def fill(self, who: str, task_name: str, labelled: dict[str, str], **context: Any) -> None:
        task = self.find(who, task_name, **context)
        self.submit(who, task, self.form_values(task, labelled))

    def take_error(self, kind: type[EngineError] = EngineError) -> EngineError:
        error, self.error = self.error, None
        assert error is not None, "预期操作被拒绝，但操作成功了"
        assert isinstance(error, kind), f"预期{kind.__name__}，实际为{type(error).__name__}：{error}"
        return error

    def take_snapshot(self) -> None:
        """Before each command, when the scenario checks that a refusal changed nothing."""
        if self.track_changes:
            self.before = self.snapshot()

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table (engine and domain), to prove that a refused command changed nothing."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.db.sessions() as s:
            for table in Base.metadata.sorted_tables:
                rows = s.execute(select(table)).all()
                out[table.name] = sorted((tuple(r) for r in rows), key=repr)
        return out

    # ------------------------------------------------------------------ domain rows
    def topic(self, title: str) -> Topic:
        with self.db.sessions() as s:
            topic = s.scalar(select(Topic).where(Topic.title == title).order_by(Topic.id.desc()))
        assert topic is not None, f"没有议题“{title}”"
        return topic

    def topic_id(self, title: str) -> int:
        return self.topic(title).id

    def item(self, content: str) -> ResolutionItem:
        with self.db.sessions() as s:
            item = s.scalar(select(ResolutionItem).where(ResolutionItem.content == content))
        assert item is not None, f"没有议定事项“{content}”"
        return item

    def meeting(self, title: str | None = None) -> Meeting:
        with self.db.sessions() as s:
            query = select(Meeting).order_by(Meeting.id.desc())
            if title:
                query = query.where(Meeting.title == title)
            meeting = s.scalars(query).first()
        assert meeting is not None, f"没有会议“{title or ''}”"
        return meeting

    def change(self) -> MembershipChange:
        with self.db.sessions() as s:
            change = s.scalars(select(MembershipChange).order_by(MembershipChange.id.desc())).first()
        assert change is not None, "没有成员单位调整申请"
        return change

    def notifications(self, group: str, kind: str | None = None, link: str | None = None) -> list[Notification]:
        with self.db.sessions() as s:
            query = select(Notification).where(Notification.recipient_group == group)
            if kind:
                query = query.where(Notification.kind == NOTIFICATION_KINDS.get(kind, kind))
            if link:
                query = query.where(Notification.link == link)
            return list(s.scalars(query.order_by(Notification.id)))

    def count(self, model: type[Base], *where: Any) -> int:
        with self.db.sessions() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def instance_row(self, instance_id: str) -> Instance:
        return self.service.instance(instance_id)

    def remember_instance(self, key: str, instance_id: str) -> None:
        self.instances.setdefault(key, []).append(instance_id)

    def last_instance(self, process: str) -> str:
        key = self.process_key(process)
        ids = self.instances.get(key)
        if ids:
            return ids[-1]
        with self.db.sessions() as s:
            found = s.scalars(select(Instance.id).where(Instance.process_key == key)
                              .order_by(Instance.started_at.desc())).first()
        assert found is not None, f"没有“{process}”流程实例"
        return found

    # ------------------------------------------------------------------ whole steps of the rules
    def propose(self, unit: str, title: str, urgency: str = "一般") -> str:
        who = self.user(unit)
        instance_id = self.start(who, "topic_proposal")
        self.remember_instance("topic_proposal", instance_id)
        self.fill(unit, "提出议题", {"议题名称": title, "背景情况": f"{title}的背景情况。",
                                    "建议处理意见": "建议提请联席会议研究。", "紧急程度": urgency})
        return instance_id

    def screen(self, title: str, decision: str, comment: str = "") -> None:
        values = {"审核意见": decision}
        if comment:
            values["意见说明"] = comment
        self.fill("联席会议办公室", "审核议题", values, topic_id=self.topic_id(title))

    def accepted_topic(self, unit: str, title: str) -> int:
        self.propose(unit, title)
        self.screen(title, "受理")
        self.ok()
        return self.topic_id(title)

    def plan(self, title: str, days: int, topics: list[str], invited: list[str] | None = None,
             kind: str = "例会") -> None:
        self.fill("联席会议办公室", "拟定会议方案", {
            "会议类型": kind, "会议名称": title, "会议日期": self.today(days), "会议地点": "区民政局三楼会议室",
            "上会议题": "、".join(topics), "列席单位": "、".join(invited or []),
        })

    def convene(self, title: str, days: int, topics: list[str], invited: list[str] | None = None) -> str:
        """The office starts a regular meeting, drafts the plan and the convener approves it."""
        instance_id = self.start("office", "joint_meeting")
        self.remember_instance("joint_meeting", instance_id)
        self.meeting_instance = instance_id
        self.plan(title, days, topics, invited)
        self.ok()
        self.fill("召集人", "审定会议方案", {"审定意见": "同意召开", "意见": "同意。"})
        self.ok()
        return instance_id

    def reply(self, unit: str, reply: str, reason: str = "") -> None:
        code = self.unit_code(unit)
        values = {"参会回执": reply}
        if reply == "参会":
            values["参会人员"] = f"{unit}分管负责人"
        else:
            values["请假事由"] = reason
        self.fill(unit, "确认参会", values, attendee=code)

    def all_reply(self, leave: dict[str, str] | None = None, skip: tuple[str, ...] = ()) -> None:
        leave = leave or {}
        with self.db.sessions() as s:
            codes = list(s.scalars(select(Unit.name).where(Unit.kind == "member", Unit.active)
                                   .order_by(Unit.sort)))
        for name in codes:
            if name in skip:
                continue
            self.reply(name, "请假" if name in leave else "参会", leave.get(name, ""))
            self.ok()

    def meeting_day(self) -> None:
        """Move the clock to an hour after the meeting starts."""
        self.move_to(self.meeting().meeting_at + timedelta(hours=1))

    def sign_in(self) -> None:
        """The office records the 签到 as the replies announced it, the convener presiding."""
        self.fill("联席会议办公室", "会议签到", {"主持人": "召集人（区民政局主要负责人）", "主持人职务": "区民政局局长"})
        self.ok()

    def record_outcome(self, rows: list[dict[str, str]], major: list[str] | None = None,
                       deferred: list[str] | None = None, summary: str = "会议审议了上会议题。") -> None:
        task = self.find("联席会议办公室", "记录审议结果")
        self.submit("联席会议办公室", task, {
            "resolution_items": self.item_rows(rows),
            "major_topics": [self.topic_id(t) for t in major or []],
            "deferred_topics": [self.topic_id(t) for t in deferred or []],
            "outcome_summary": summary,
        })

    def item_rows(self, rows: list[dict[str, str]]) -> list[dict[str, Any]]:
        """The rows of a resolution-item table as the form sends them (议定事项 | 牵头单位 | 配合单位 | 办理时限 | 议题)."""
        items = []
        for row in rows:
            topic_title = row.get("议题") or ""
            items.append({
                "content": row["议定事项"],
                "lead_unit": self.unit_code(row["牵头单位"]),
                "co_units": [self.unit_code(n) for n in split_list(row.get("配合单位", ""))],
                "deadline": self.day(row["办理时限"]),
                "topic_id": self.topic_id(topic_title) if topic_title else None,
            })
        return items

    def draft_minutes(self, body: str = "会议议定事项如下……", days: int = 3) -> None:
        self.fill("联席会议办公室", "起草会议纪要", {"纪要正文": body, "征求意见截止日期": f"{days}天后",
                                                 "报送（区政府分管领导之外）": "区政府办公室"})
        self.ok()

    def answer_comments(self, skip: tuple[str, ...] = ()) -> None:
        """Every unit asked for comments on the draft minutes answers 无意见, except those in ``skip``."""
        with self.db.sessions() as s:
            tasks = list(s.scalars(select(HumanTask).where(HumanTask.state == "READY",
                                                           HumanTask.bpmn_id == "comment_minutes")))
        for task in tasks:
            code = str(task.context.get("comment_unit"))
            if code in skip or self.unit_code(code) in skip:
                continue
            self.fill(code, "纪要征求意见", {"意见": "无意见"}, comment_unit=code)
            self.ok()

    def issue_minutes(self) -> None:
        """The office drafts, every attending unit answers 无意见, the convener signs: the minutes are issued."""
        self.draft_minutes()
        self.answer_comments()
        self.fill("召集人", "审签会议纪要", {"审签意见": "同意印发"})
        self.ok()

    def held_meeting(self, topics: dict[str, str], title: str = "2026年第一次社会救助联席会议") -> None:
        """Topics proposed and accepted, a regular meeting planned, approved, answered by every member unit, and
        the meeting day come: the office has 记录审议结果 in its inbox."""
        for topic_title, unit in topics.items():
            self.accepted_topic(unit, topic_title)
        self.convene(title, 7, list(topics))
        self.all_reply()
        self.meeting_day()
        self.sign_in()

    def ok(self) -> None:
        """The previous command must have succeeded."""
        if self.error is not None:
            error, self.error = self.error, None
            detail = getattr(error, "errors", None) or ""
            raise AssertionError(f"操作被拒绝：{error} {detail}")

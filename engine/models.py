"""Durable state: process models, instances, and the projections that answer queries without the engine."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base


def new_id() -> str:
    return uuid.uuid4().hex


class ProcessSpec(Base):
    """A parsed spec (with its called processes), stored once however many versions or instances share it."""

    __tablename__ = "wf_spec"
    sha: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)


# A version's review state (four eyes, engine/deployment.py): deployed by an operator or published by an approver
# (``published``: instances start on the newest of these), waiting for an approver, or refused by one.
PUBLISHED, PENDING, REJECTED = "published", "pending", "rejected"
VERSION_STATUS_LABELS = {PUBLISHED: "已发布", PENDING: "待审批", REJECTED: "已驳回"}


class ProcessModel(Base):
    """One deployed version of one process (``key``, ``version``); running instances stay on theirs. Only
    ``published`` versions run; a designer's deploy waits as ``pending`` until an approver publishes or rejects
    it (``reviewed_*``)."""

    __tablename__ = "wf_model"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200))
    xml: Mapped[str] = mapped_column(Text)
    source_sha: Mapped[str] = mapped_column(String(64))
    spec_sha: Mapped[str] = mapped_column(ForeignKey("wf_spec.sha"))
    starter_groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    start_events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    called: Mapped[list[Any]] = mapped_column(JSON, default=list)
    deployed_by: Mapped[str | None] = mapped_column(String(100))
    deployed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=PUBLISHED, server_default=PUBLISHED, index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)


class Instance(Base):
    __tablename__ = "wf_instance"
    __table_args__ = (
        Index("ix_wf_instance_timer", "next_timer_at"),
        Index("ix_wf_instance_key_status", "process_key", "status"),
        Index("ix_wf_instance_started", "started_at", "id"),  # the instance list, newest first (keyset)
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    model_id: Mapped[int] = mapped_column(ForeignKey("wf_model.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|suspended|completed|cancelled|error
    business_key: Mapped[str | None] = mapped_column(String(100), index=True)
    title: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(Text)  # SpiffWorkflow JSON without the spec (kept once in wf_spec)
    next_timer_at: Mapped[datetime | None]
    started_by: Mapped[str | None] = mapped_column(String(100), index=True)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)

    model: Mapped[ProcessModel] = relationship(lazy="joined")


class HumanTask(Base):
    """Projection of every user task the engine has made ready; the inbox reads only this."""

    __tablename__ = "wf_task"
    # Inbox indexes, so the inbox stays fast with 100k open instances (bench/run.py): a user's own tasks by
    # assignee (only assigned rows, so a query for the unassigned never scans them), due dates across all
    # tasks by range; "claimable" goes through the candidate rows. The queries in WorkflowService.task_query
    # start from the actor's rows.
    __table_args__ = (
        Index("ix_wf_task_due_state", "due_at", "state"),
        Index("ix_wf_task_assignee_state", "assignee", "state", "due_at",
              sqlite_where=text("assignee IS NOT NULL"), postgresql_where=text("assignee IS NOT NULL")),
        Index("ix_wf_task_completed_by", "completed_by", "completed_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the SpiffWorkflow task id
    instance_id: Mapped[str] = mapped_column(ForeignKey("wf_instance.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="READY")  # READY|COMPLETED|CANCELLED
    assignee: Mapped[str | None] = mapped_column(String(100))
    candidate_groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    candidate_users: Mapped[list[Any]] = mapped_column(JSON, default=list)
    due_at: Mapped[datetime | None]
    follow_up_at: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(Integer, default=50)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    form: Mapped[list[Any]] = mapped_column(JSON, default=list)
    documentation: Mapped[str | None] = mapped_column(Text)
    business_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(100))
    completed_at: Mapped[datetime | None]

    # Loaded only when touched: the inbox and the commands never read them row by row, and loading them with
    # every task would cost each inbox page a query.
    candidates: Mapped[list[TaskCandidate]] = relationship(cascade="all, delete-orphan", lazy="select")


class TaskCandidate(Base):
    """One row per (task, group or user) so "tasks my groups may claim" is an indexed join."""

    __tablename__ = "wf_task_candidate"
    __table_args__ = (Index("ix_wf_task_candidate_ref", "kind", "ref", "state", "task_id"),)  # covering
    task_id: Mapped[str] = mapped_column(ForeignKey("wf_task.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)  # g = group, u = user
    ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="READY")


class AwaitedMessage(Base):
    __tablename__ = "wf_message"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("wf_instance.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # message: delivered to one instance (POST /api/messages); signal: broadcast to all (POST /api/signals)
    kind: Mapped[str] = mapped_column(String(16), default="message", server_default="message")


class AuditEvent(Base):
    """Append-only: who did what, when, to which instance and task, with the submitted data."""

    __tablename__ = "wf_audit"
    __table_args__ = (Index("ix_wf_audit_instance", "instance_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(50))
    instance_id: Mapped[str | None] = mapped_column(String(32))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(200))
    process_key: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)


class Attachment(Base):
    __tablename__ = "wf_attachment"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes]
    uploaded_by: Mapped[str | None] = mapped_column(String(100))
    uploaded_at: Mapped[datetime]
    instance_id: Mapped[str | None] = mapped_column(String(32), index=True)


class ActivityTokens(Base):
    """Projection of tokens per activity and instance (engine/activity.py keeps it in step on every save):
    a heatmap over all instances of a version is one aggregate query, never a walk over workflows.

    ``model_id`` is the model the instance runs; ``process_key`` the diagram the activity belongs to (the
    instance's own process, or a process it calls through a call activity)."""

    __tablename__ = "wf_activity"
    __table_args__ = (Index("ix_wf_activity_heat", "process_key", "model_id", "bpmn_id"),)
    instance_id: Mapped[str] = mapped_column(ForeignKey("wf_instance.id", ondelete="CASCADE"), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    bpmn_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    model_id: Mapped[int] = mapped_column(Integer)
    active: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class ProcessDraft(Base):
    """A designer's work on one process, saved without deploying. ``revision`` grows by one on every save;
    a save names the revision it started from, so a second designer's outdated save is refused (409)."""

    __tablename__ = "wf_draft"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    xml: Mapped[str] = mapped_column(Text)
    base_version: Mapped[int | None] = mapped_column(Integer)  # the deployed version the draft started from
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class Schedule(Base):
    """A start of new instances at set times (engine/schedule.py): one row per timer start event of a deployed
    process (``source='diagram'``, filled at deploy) and one per regular start an administrator configured
    (``source='config'``, ``flask --app web schedule add``). The worker claims due rows like due timers."""

    __tablename__ = "wf_schedule"
    __table_args__ = (Index("ix_wf_schedule_due", "active", "next_run_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(String(10))  # diagram | config
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    start_event: Mapped[str | None] = mapped_column(String(100))  # None: the process's none start event
    expression: Mapped[str] = mapped_column(String(300))  # ISO 8601 date, duration or R[n]/start/period
    anchor_at: Mapped[datetime]  # occurrence k is anchor_at + k × period (no drift)
    occurrence: Mapped[int] = mapped_column(Integer, default=0)  # index of next_run_at
    remaining: Mapped[int] = mapped_column(Integer, default=-1)  # runs left; -1 = unbounded
    next_run_at: Mapped[datetime | None]
    run_as: Mapped[str] = mapped_column(String(100), default="system")  # recorded as the initiator
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    last_run_at: Mapped[datetime | None]
    last_instance_id: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class DecisionModel(Base):
    """One deployed version of one DMN decision table (``key`` = the decision id, ``version``), reviewed like
    process models (four eyes): only ``published`` versions are evaluated unless a caller pins a version.
    ``table`` is the checked table engine/dmn.py evaluates, so evaluation never parses XML."""

    __tablename__ = "wf_decision"
    __table_args__ = (UniqueConstraint("key", "version"),
                      Index("ix_wf_decision_key_status", "key", "status", "version"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200))
    xml: Mapped[str] = mapped_column(Text)
    table: Mapped[dict[str, Any]] = mapped_column(JSON)
    table_sha: Mapped[str] = mapped_column(String(64))
    deployed_by: Mapped[str | None] = mapped_column(String(100))
    deployed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=PUBLISHED, server_default=PUBLISHED)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)

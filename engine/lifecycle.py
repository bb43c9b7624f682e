"""Suspending, resuming and cancelling instances, and firing their due timers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Access, Actor
from engine.db import Database
from engine.errors import Forbidden, FormError, InstanceNotActive
from engine.locks import existing_instance, lock_instance
from engine.models import Instance
from engine.projection import TIMER_EVENT_TYPES, Projector
from engine.runner import Runner
from engine.timers import due_at

_VERB = {"suspended": "挂起", "running": "恢复"}


class Lifecycle:
    def __init__(self, db: Database, runner: Runner, projector: Projector, access: Access,
                 now: Callable[[], datetime]) -> None:
        self.db = db
        self.runner = runner
        self.projector = projector
        self.access = access
        self.now = now

    def _managed(self, s: Session, instance_id: str, actor: Actor, reason: str) -> Instance:
        """The instance, locked, once the actor may manage it and gave a reason (a missing instance is
        reported before a missing reason)."""
        if not self.access.may_manage(actor):
            raise Forbidden("您无权管理流程实例")
        inst = existing_instance(s, instance_id, self.db.is_postgres)
        if not reason or not reason.strip():
            raise FormError({"reason": "请填写原因"})
        return inst

    def set_status(self, instance_id: str, actor: Actor, action: str, expected: str, new: str, reason: str
                   ) -> None:
        with self.db.transaction() as s:
            inst = self._managed(s, instance_id, actor, reason)
            if inst.status != expected:
                raise InstanceNotActive(f"流程当前状态为“{inst.status}”，不能{_VERB[new]}")
            inst.status, inst.updated_at = new, self.now()
            self.projector.audit(s, action, actor=actor, instance=inst, comment=reason)

    def cancel(self, instance_id: str, actor: Actor, reason: str) -> None:
        with self.db.transaction() as s:
            inst = self._managed(s, instance_id, actor, reason)
            if inst.status in ("completed", "cancelled"):
                raise InstanceNotActive("流程已结束，不能终止")
            wf = self.projector.restore(s, inst)
            wf.cancel()
            self.projector.audit(s, "cancel", actor=actor, instance=inst, comment=reason)
            self.projector.save(s, inst, wf, status="cancelled")

    # ------------------------------------------------------------------ timers
    def due_instances(self, limit: int = 100) -> list[str]:
        with self.db.sessions() as s:
            stmt = (select(Instance.id).where(Instance.status == "running", Instance.next_timer_at < self.now())
                    .order_by(Instance.next_timer_at).limit(limit))
            return list(s.scalars(stmt))

    def fire_instance_timers(self, instance_id: str) -> bool:
        with self.db.transaction() as s:
            inst = lock_instance(s, instance_id, self.db.is_postgres, skip_locked=True)
            return inst is not None and self.fire_locked(s, inst)

    def fire_locked(self, s: Session, inst: Instance) -> bool:
        """Fire an instance's due timers; the caller holds its row lock. False when nothing is due (any more)."""
        now = self.now()
        if inst.status != "running" or inst.next_timer_at is None or inst.next_timer_at >= now:
            return False
        due = inst.next_timer_at
        wf = self.projector.restore(s, inst)
        fired = [ev.name for ev in wf.waiting_events()
                 if ev.event_type in TIMER_EVENT_TYPES and (when := due_at(ev.value)) is not None and when < now]
        self.runner.run(s, inst, wf, wf.refresh_timers)
        self.projector.audit(s, "timer", instance=inst,
                             data={"fired": len(fired), "timers": fired, "due_at": due.isoformat()})
        self.projector.save(s, inst, wf)
        return True


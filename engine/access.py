"""Who may read, work on, start and manage: the one place every caller (service, web, API, CLI) asks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

READY = "READY"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user name and the groups they belong to (roles and ``unit:<code>``)."""

    username: str
    groups: frozenset[str] = frozenset()
    unit: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.groups

    @classmethod
    def system(cls) -> Actor:
        return cls("system", frozenset({"system"}))


class TaskLike(Protocol):
    """The projection columns the rules read (a ``HumanTask`` row)."""

    state: str
    assignee: str | None
    completed_by: str | None
    candidate_groups: list[str]
    candidate_users: list[str]


def may_start(groups: Iterable[str], starter_groups: list[str]) -> bool:
    """Whether someone in ``groups`` may use a start event open to ``starter_groups``; ``prefix:*`` admits
    any group of that prefix (e.g. every organisational unit), and a ``*`` segment any one segment
    (``town:*:window``: every town's window)."""
    held = set(groups)
    if "admin" in held:
        return True
    for g in starter_groups:
        if g in held:
            return True
        if g.endswith(":*") and any(x.startswith(g[:-1]) for x in held):
            return True
        if "*" in g and any(_segments_match(g, x) for x in held):
            return True
    return False


def _segments_match(pattern: str, group: str) -> bool:
    """``town:*:window`` admits ``town:wuli:window``: a ``*`` segment stands for any one segment."""
    want, have = pattern.split(":"), group.split(":")
    return len(want) == len(have) and all(w in ("*", h) for w, h in zip(want, have, strict=True))


class Access:
    """The rules, given which groups supervise (read every task, manage instances) and which never work on
    tasks: whoever can change the diagrams (``excluded_groups``) must not also do the work the diagrams assign,
    so a diagram naming such a group or person as candidate or assignee gives them nothing."""

    def __init__(self, supervisor_groups: Iterable[str] = ("admin",),
                 manager_groups: Iterable[str] = ("admin",), excluded_groups: Iterable[str] = ()) -> None:
        self.supervisor_groups = frozenset(supervisor_groups)
        self.manager_groups = frozenset(manager_groups) | {"admin"}
        self.excluded_groups = frozenset(excluded_groups)

    def excluded(self, actor: Actor) -> bool:
        """Never a candidate or assignee of any task (designs processes)."""
        return bool(actor.groups & self.excluded_groups)

    def is_candidate(self, task: TaskLike, actor: Actor) -> bool:
        if self.excluded(actor):
            return False
        return actor.username in (task.candidate_users or []) or bool(set(task.candidate_groups or []) & actor.groups)

    def may_read(self, task: TaskLike, actor: Actor) -> bool:
        if self.excluded(actor) and not actor.groups & self.supervisor_groups:
            return False
        return (task.assignee == actor.username or task.completed_by == actor.username
                or self.is_candidate(task, actor) or bool(actor.groups & self.supervisor_groups))

    def is_party(self, task: TaskLike, actor: Actor) -> bool:
        """Holds, did, or could take the task (or administers): may learn its state and who acted on it."""
        return (task.assignee == actor.username or task.completed_by == actor.username
                or self.is_candidate(task, actor) or actor.is_admin)

    def may_work(self, task: TaskLike, actor: Actor) -> bool:
        """May complete it now: an open task held by the actor, or open to them and not claimed by another."""
        if task.state != READY or self.excluded(actor):
            return False
        if actor.is_admin or task.assignee == actor.username:
            return True
        return task.assignee is None and self.is_candidate(task, actor)

    def may_manage(self, actor: Actor) -> bool:
        """May suspend, resume and cancel instances."""
        return bool(actor.groups & self.manager_groups)

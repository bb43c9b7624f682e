"""The named actions BPMN service tasks and completion hooks call: ``registry`` holds them all."""

from meeting.actions import (
    assistance,
    batches,
    calls,
    checks,
    coordination,
    directory_actions,
    handlings,
    majors,
    matters,
    meetings,
    membership,
    minutes,
    petitions,
    progress,
    reports,
    resolutions,
    topics,
    urgent,
)
from meeting.actions._registry import registry

MODULES = (topics, calls, meetings, minutes, resolutions, reports, majors, matters, petitions, coordination,
           membership, directory_actions, progress, assistance, handlings, urgent,
           checks, batches)

__all__ = ["MODULES", "registry"]

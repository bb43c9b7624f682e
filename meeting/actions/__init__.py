"""The named actions BPMN service tasks and completion hooks call: ``registry`` holds them all."""

from meeting.actions import (
    directory_actions,
    majors,
    meetings,
    membership,
    minutes,
    reports,
    resolutions,
    topics,
)
from meeting.actions._registry import registry

MODULES = (topics, meetings, minutes, resolutions, reports, majors, membership, directory_actions)

__all__ = ["MODULES", "registry"]

"""The one registry every action module registers with (kept apart from ``__init__`` to avoid an import
cycle)."""

from engine.actions import ActionRegistry

registry = ActionRegistry()

"""Task specs and event definitions that make SpiffWorkflow run what Camunda 7 runs, the way it runs it.

* ``bpmn:task`` and ``bpmn:manualTask`` pass straight through (Camunda 7 has no wait state for them; SpiffWorkflow
  would make them human tasks in nobody's inbox);
* ``bpmn:receiveTask messageRef=…`` waits for its message (SpiffWorkflow's own receive task parser builds an event
  definition the Camunda serializer cannot store);
* a delivered message sets its variables as process variables, as Camunda's correlation does (and, as before,
  the whole payload under ``message_<name>``).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.event_parsers import ReceiveTaskParser
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.camunda.parser.event_parsers import CamundaEventDefinitionParser
from SpiffWorkflow.camunda.serializer.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition

from engine.errors import EngineError


class PassThroughTask(BpmnSpecMixin):
    """An activity with no behaviour: its token moves on at once (Camunda 7's task and manual task)."""

    def _run_hook(self, my_task: Any) -> bool:
        return True


class PassThroughTaskConverter(BpmnTaskSpecConverter):
    def to_dict(self, spec: PassThroughTask) -> dict[str, Any]:
        return self.get_default_attributes(spec)


class AppMessageEventDefinition(MessageEventDefinition):
    """Camunda's message: the delivered variables become process variables of the catching path."""

    stock_name = "MessageEventDefinition"

    def update_task_data(self, my_task: Any) -> None:
        super().update_task_data(my_task)
        event_data = my_task.internal_data.get(self.name) or {}
        payload = event_data.get("payload")
        if isinstance(payload, dict):
            my_task.data.update(payload)


class AppMessageEventDefinitionConverter(MessageEventDefinitionConverter):
    """Under SpiffWorkflow's type name, so stored specs restore into ours and a spec's hash stays the same."""

    def __init__(self, target_class: Any, registry: Any, typename: str | None = None) -> None:
        super().__init__(target_class, registry, typename or AppMessageEventDefinition.stock_name)


def app_message(definition: MessageEventDefinition) -> AppMessageEventDefinition:
    return AppMessageEventDefinition(definition.name, definition.correlation_properties,
                                     definition.expression, definition.result_var,
                                     description=definition.description)


class AppMessageParserMixin(CamundaEventDefinitionParser):
    """Builds our message event definition where SpiffWorkflow's Camunda parser builds its own."""

    def parse_message_event(self, message_event: Any) -> Any:
        return app_message(super().parse_message_event(message_event))


class AppReceiveTaskParser(AppMessageParserMixin, ReceiveTaskParser):
    pass


def check_collection(spec: Any, my_task: Any) -> None:
    """A multi-instance activity's ``camunda:collection`` must name a list in the data before any instance is
    made: a Chinese 400 naming the element and the variable, instead of a Python error deep in the engine."""
    ref = getattr(spec, "data_input", None)
    if not isinstance(ref, TaskDataReference):
        return
    child = my_task.workflow.spec.task_specs.get(getattr(spec, "task_spec", None) or "")
    element = spec.bpmn_name or getattr(child, "bpmn_name", None) or spec.bpmn_id
    if not ref.exists(my_task) or ref.get(my_task) is None:
        raise EngineError(f"多实例活动“{element}”的集合变量“{ref.bpmn_id}”不存在：请先提供这个列表")
    if not isinstance(ref.get(my_task), list | tuple):
        raise EngineError(f"多实例活动“{element}”的集合变量“{ref.bpmn_id}”不是列表")

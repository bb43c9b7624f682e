"""Our BPMN dialect on top of SpiffWorkflow's Camunda parser.

* user tasks keep ``assignee``, ``candidateGroups``, ``candidateUsers``, ``dueDate``, ``followUpDate`` and
  ``priority`` (the stock parser drops them) in ``task_spec.extensions``;
* ``serviceTask camunda:type="external" camunda:topic="<action>"`` becomes an :class:`ActionTask` that calls a
  registered action;
* timer events get our timer event definitions (:mod:`engine.timers`: the app clock, calendar-true durations and
  cycles), which the serializer writes and reads under SpiffWorkflow's own type names;
* every expression is evaluated by :mod:`engine.expressions` (simpleeval), scripts are refused;
* multi-instance activities restore as our subclasses, which refuse to create more instances than the command's
  budget allows (:mod:`engine.budgets`) before creating any.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import EventDefinitionParser
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter, MultiInstanceTaskConverter
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ReceiveTask,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaIntermediateCatchEventParser,
    CamundaIntermediateThrowEventParser,
    CamundaStartEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, CamundaTaskParser, UserTaskParser
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG
from SpiffWorkflow.camunda.serializer.task_spec import UserTaskConverter
from SpiffWorkflow.camunda.specs.event_definitions import (
    MessageEventDefinition as CamundaMessageEventDefinition,
)
from SpiffWorkflow.camunda.specs.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.camunda.specs.user_task import EnumFormField, UserTask

from engine import expressions
from engine.budgets import check_multi_instance
from engine.dialect_specs import (
    AppMessageEventDefinition,
    AppMessageEventDefinitionConverter,
    AppMessageParserMixin,
    AppReceiveTaskParser,
    PassThroughTask,
    PassThroughTaskConverter,
    check_collection,
)
from engine.timers import APP_TIMER_CLASSES, app_timer

USER_TASK_ATTRIBUTES = ("assignee", "candidateGroups", "candidateUsers", "dueDate", "followUpDate", "priority")


MULTI_CHOICE = "enums"  # several of the declared values: SpiffWorkflow keeps the values of ``enum`` fields only


class AssignmentAwareUserTaskParser(UserTaskParser):
    def get_form(self) -> Any:
        """The stock form, with the declared values of ``enums`` fields kept as an ``enum`` field's are."""
        form = super().get_form()
        multi = {x.get("id"): x for x in self.xpath(".//camunda:formData/camunda:formField")
                 if x.get("type") == MULTI_CHOICE}
        for i, f in enumerate(form.fields):
            if f.id in multi:
                form.fields[i] = _with_options(f, [(o.id, o.name) for o in self.get_enum_field(multi[f.id]).options])
        return form

    def parse_extensions(self, node: Any = None) -> dict[str, Any]:
        ext = super().parse_extensions(node)
        for attr in USER_TASK_ATTRIBUTES:
            value = self.node.get(f"{{{CAMUNDA_MODEL_NS}}}{attr}")
            if value is not None:
                ext[attr] = value
        return ext


def _with_options(field: Any, options: list[tuple[str, str]]) -> Any:
    choice = EnumFormField()
    choice.__dict__.update({k: v for k, v in vars(field).items() if k != "options"})
    for option_id, name in options:
        choice.add_option(option_id, name)
    return choice


class AppUserTaskConverter(UserTaskConverter):
    """Stores and restores the values of ``enums`` fields too (the stock converter keeps ``enum`` ones only)."""

    def form_to_dict(self, form: Any) -> dict[str, Any]:
        dct: dict[str, Any] = super().form_to_dict(form)
        for field, out in zip(form.fields, dct["fields"], strict=True):
            if field.type == MULTI_CHOICE:
                out["options"] = [dict(vars(o)) for o in getattr(field, "options", [])]
        return dct

    def from_dict(self, dct: dict[str, Any]) -> Any:
        raw = {f["id"]: f.get("options") or [] for f in dct["form"]["fields"] if f["type"] == MULTI_CHOICE}
        spec = super().from_dict(dct)
        fields = spec.form.fields
        for i, f in enumerate(fields):
            if f.id in raw:
                fields[i] = _with_options(f, [(o["id"], o["name"]) for o in raw[f.id]])
        return spec


class ActionTask(BpmnSpecMixin):
    """A service task bound to a named action of the registry."""

    def __init__(self, wf_spec: Any, bpmn_id: str, topic: str | None = None, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic

    def _run_hook(self, my_task: Any) -> bool:
        engine = my_task.workflow.script_engine
        updates = engine.run_action(self.topic, my_task)
        if updates:
            my_task.data.update(updates)
        return True


class ActionTaskParser(CamundaTaskParser):
    def create_task(self) -> ActionTask:
        topic = self.node.get(f"{{{CAMUNDA_MODEL_NS}}}topic")
        return ActionTask(self.spec, self.bpmn_id, topic=topic, **self.bpmn_attributes)


class ActionTaskConverter(BpmnTaskSpecConverter):
    def to_dict(self, spec: ActionTask) -> dict[str, Any]:
        dct = self.get_default_attributes(spec)
        dct["topic"] = spec.topic
        return dct


class AppTimerParserMixin(EventDefinitionParser):
    """Builds our timer event definitions where SpiffWorkflow builds its own (the same checks and messages)."""

    def parse_timer_event(self, event: Any) -> Any:
        return app_timer(super().parse_timer_event(event))


# Every event a timer can sit on. End events take no timer, and an event-based gateway only points at the
# intermediate catch events that hold them.
class AppStartEventParser(AppMessageParserMixin, AppTimerParserMixin, CamundaStartEventParser):
    pass


class AppIntermediateCatchEventParser(AppMessageParserMixin, AppTimerParserMixin,
                                      CamundaIntermediateCatchEventParser):
    pass


class AppIntermediateThrowEventParser(AppTimerParserMixin, CamundaIntermediateThrowEventParser):
    pass


class AppBoundaryEventParser(AppMessageParserMixin, AppTimerParserMixin, CamundaBoundaryEventParser):
    pass


class AppParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (AssignmentAwareUserTaskParser, UserTask),
        full_tag("serviceTask"): (ActionTaskParser, ActionTask),
        full_tag("startEvent"): (AppStartEventParser, StartEvent),
        full_tag("intermediateCatchEvent"): (AppIntermediateCatchEventParser, IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (AppIntermediateThrowEventParser, IntermediateThrowEvent),
        full_tag("boundaryEvent"): (AppBoundaryEventParser, BoundaryEvent),
        # Camunda 7's readings (engine/dialect_specs.py)
        full_tag("task"): (CamundaTaskParser, PassThroughTask),
        full_tag("manualTask"): (CamundaTaskParser, PassThroughTask),
        full_tag("receiveTask"): (AppReceiveTaskParser, ReceiveTask),
    }


def _multi_instance_size(spec: Any, my_task: Any) -> int | None:
    """How many instances a multi-instance activity is about to create (None: not a countable input)."""
    if spec.data_input is not None:
        if not isinstance(spec.data_input, TaskDataReference):
            return None
        data = spec.data_input.get(my_task)
        return len(data) if isinstance(data, Sized) else None
    if spec.cardinality is None:
        return None
    cardinality = my_task.workflow.script_engine.evaluate(my_task, spec.cardinality)
    return cardinality if isinstance(cardinality, int) else None


class AppParallelMultiInstanceTask(ParallelMultiInstanceTask):
    """Counts before creating: a collection or cardinality over the budget creates nothing."""

    stock_name = ParallelMultiInstanceTask.__name__

    def create_children(self, my_task: Any) -> None:
        check_collection(self, my_task)
        size = _multi_instance_size(self, my_task)
        if size is not None:
            check_multi_instance(my_task, size)
        super().create_children(my_task)


class AppSequentialMultiInstanceTask(SequentialMultiInstanceTask):
    """Creates one instance at a time, but a loop over more items than the budget allows is refused at once."""

    stock_name = SequentialMultiInstanceTask.__name__

    def _update_hook(self, my_task: Any) -> Any:
        check_collection(self, my_task)  # runs once, before the first instance
        result = super()._update_hook(my_task)
        remaining = my_task.internal_data.get("remaining")
        size = my_task.internal_data.get("cardinality") if remaining is None else len(remaining) + 1
        if isinstance(size, int):
            check_multi_instance(my_task, size)
        return result


class AppMultiInstanceConverter(MultiInstanceTaskConverter):
    """Our multi-instance classes under SpiffWorkflow's type names: stored specs restore into them, and a
    diagram's serialized spec (and so its hash) stays what it was."""

    def __init__(self, target_class: Any, registry: Any, typename: str | None = None) -> None:
        super().__init__(target_class, registry, typename or target_class.stock_name)


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """Expressions through simpleeval; scripts never run."""

    def __init__(self) -> None:
        super().__init__({})

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        return expressions.evaluate(expression, context)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        raise expressions.ExpressionError("不允许执行脚本")

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise expressions.ExpressionError("不支持此类服务任务")


class AppScriptEngine(PythonScriptEngine):
    """Carries the callback that runs named actions for the command in progress."""

    def __init__(self, action_runner: Any = None, budgets: Any = None) -> None:
        super().__init__(environment=SafeEnvironment())
        self.action_runner = action_runner
        self.budgets = budgets  # engine.budgets.Budgets of the command (read by engine.budgets.of)

    def run_action(self, topic: str | None, task: Any) -> dict[str, Any] | None:
        if self.action_runner is None:
            raise RuntimeError("no action runner installed")
        return self.action_runner(topic, task)


class AppTimerConverter(TimerConditionalEventDefinitionConverter):
    """Our timer classes under SpiffWorkflow's type names (``DurationTimerEventDefinition`` …), the way its Camunda
    serializer writes its own ``MessageEventDefinition``. Specs and state stored before these classes existed
    restore into them, and a diagram's serialized spec, hence its hash and whether a redeploy makes a new
    version, is what it was."""

    def __init__(self, target_class: Any, registry: Any, typename: str | None = None) -> None:
        super().__init__(target_class, registry, typename or target_class.stock_name)


def make_serializer(overrides: dict[type, type] | None = None) -> BpmnWorkflowSerializer:
    config = dict(CAMUNDA_CONFIG)
    config[ActionTask] = ActionTaskConverter
    config[UserTask] = AppUserTaskConverter
    for stock, ours in APP_TIMER_CLASSES.items():
        # Only ours may own the stock type names; a stock instance, which our parser never builds, then fails
        # to serialize instead of coming back as ours.
        config.pop(stock)
        config[ours] = AppTimerConverter
    # Registered after the stock classes, so the stock type names restore into ours (the parser still builds
    # the stock ones, which serialize under the same names).
    config[AppParallelMultiInstanceTask] = AppMultiInstanceConverter
    config[AppSequentialMultiInstanceTask] = AppMultiInstanceConverter
    config[PassThroughTask] = PassThroughTaskConverter
    config.pop(CamundaMessageEventDefinition)  # only ours owns the stock type name, as for the timers
    config[AppMessageEventDefinition] = AppMessageEventDefinitionConverter
    config.update(overrides or {})
    registry = BpmnWorkflowSerializer.configure(config)
    from datetime import date
    from decimal import Decimal

    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]))
    return BpmnWorkflowSerializer(registry)

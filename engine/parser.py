"""SpiffWorkflow's Camunda parser, taught what Camunda Modeler writes and 3.2 does not read.

SpiffWorkflow 3.2's CamundaParser reads only `formKey`/`formData` and `camunda:properties`.
`ModelParser` copies the rest into `task_spec.extensions` — candidate groups and users, assignee,
form references, due dates, the start event's initiator variable, input/output parameters, and
the Camunda 8 (`zeebe:`) equivalents — so the engine can route and render tasks. It also fixes
event subprocesses (`triggeredByEvent`), which 3.2's Camunda subprocess parser turns into
ordinary subprocesses, and swaps timers for the clock-aware ones in `engine.timers`.
"""

import re
from typing import ClassVar

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.task_parsers import SubprocessParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.control import BpmnStartTask
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import CallActivity, EventSubprocess
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.CamundaParser import NSMAP as CAMUNDA_NSMAP
from SpiffWorkflow.camunda.parser.task_spec import BusinessRuleTaskParser, SubWorkflowParser
from SpiffWorkflow.camunda.specs.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.util.task import TaskState

from .timers import use_clock_timers

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
NSMAP = {**CAMUNDA_NSMAP, "zeebe": ZEEBE}

CAMUNDA_ATTRIBUTES = (
    "candidateGroups",
    "candidateUsers",
    "assignee",
    "formRef",
    "formRefBinding",
    "formRefVersion",
    "formKey",
    "dueDate",
    "followUpDate",
    "priority",
    "initiator",
)
LIST_ATTRIBUTES = ("candidateGroups", "candidateUsers")


# A FEEL list of texts, or one text: `=["it", "finance"]`, `="it"`.
_FEEL_TEXTS = re.compile(r'=\s*(\[\s*("[^"]*"\s*(,\s*"[^"]*"\s*)*)?\]|"[^"]*")\s*')


def _split(value):
    return [part.strip() for part in value.split(",") if part.strip()]


class ExtensionsMixin:
    """Reads Camunda 7 and 8 attributes into `task_spec.extensions` (a plain, serializable dict)."""

    def parse_extensions(self, node=None):
        node = self.node if node is None else node
        ext = {}
        properties = self._xpath(node, "./bpmn:extensionElements/camunda:properties/camunda:property")
        if properties:
            ext["properties"] = {p.get("name"): p.get("value") for p in properties}
        for name in CAMUNDA_ATTRIBUTES:
            value = node.get(f"{{{CAMUNDA}}}{name}")
            if value is not None:
                ext[name] = _split(value) if name in LIST_ATTRIBUTES else value
        self._parse_io(node, ext)
        self._parse_zeebe(node, ext)
        return ext

    def _parse_io(self, node, ext):
        for kind in ("inputParameter", "outputParameter"):
            params = self._xpath(node, f"./bpmn:extensionElements/camunda:inputOutput/camunda:{kind}")
            if params:
                # A parameter with child elements (camunda:map, camunda:list, camunda:script) has
                # no text expression; it is kept as None and refused by the deploy checks.
                ext[kind + "s"] = [
                    [p.get("name"), None if len(p) else (p.text or "").strip()] for p in params
                ]

    def _parse_zeebe(self, node, ext):
        form = self._xpath(node, "./bpmn:extensionElements/zeebe:formDefinition")
        if form:
            form_id = form[0].get("formId") or form[0].get("formKey")
            if form_id:
                ext.setdefault("formRef", form_id)
        assignment = self._xpath(node, "./bpmn:extensionElements/zeebe:assignmentDefinition")
        if assignment:
            a = assignment[0]
            if a.get("assignee"):
                ext.setdefault("assignee", a.get("assignee"))
            for name in LIST_ATTRIBUTES:
                value = a.get(name)
                if not value:
                    continue
                if value.startswith("=") and not _FEEL_TEXTS.fullmatch(value):
                    ext.setdefault(name, [value])  # an expression (`=initiator`): evaluated, not a name
                else:  # names, or a FEEL list of texts (`=["it", "finance"]`)
                    ext.setdefault(name, _split(value.lstrip("=").strip("[]").replace('"', "")))
        schedule = self._xpath(node, "./bpmn:extensionElements/zeebe:taskSchedule")
        if schedule and schedule[0].get("dueDate"):
            ext.setdefault("dueDate", schedule[0].get("dueDate"))
        if self._xpath(node, "./bpmn:extensionElements/zeebe:userTask"):
            ext["zeebeUserTask"] = True


class EventTriggerStart(BpmnStartTask):
    """A process start that triggers event subprocesses without rewiring the shared spec.

    SpiffWorkflow's start connects itself to an event subprocess the first time one is
    triggered, changing the spec for good. Specs are shared by every instance of a version, so
    each later instance would carry an event subprocess that was never triggered and never end.
    The subprocess is wired to the process end once, at parse time (`prewire_event_subprocesses`),
    and triggering only adds the task.
    """

    def trigger_wf(self, my_task, spec_name):
        spec = self._wf_spec.task_specs.get(spec_name)
        child = my_task._add_child(spec, TaskState.FUTURE)
        child.triggered = True
        child.task_spec._update(child)
        return child.id


def prewire_event_subprocesses(spec):
    """Use EventTriggerStart and connect each event subprocess to the end (in place)."""
    start = spec.start
    start.__class__ = EventTriggerStart
    for name in start.trigger_specs:
        subprocess = spec.task_specs[name]
        if spec.end not in subprocess.outputs:
            subprocess.connect(spec.end)
        # The start is its input (SpiffWorkflow checks every task has one), but not the other way
        # round: the start must not begin an untriggered event subprocess in every instance.
        if start.name not in subprocess._inputs:
            subprocess._inputs.append(start.name)


class EventSubprocessAwareParser(SubWorkflowParser):
    """Parses `<subProcess triggeredByEvent="true">` as an event subprocess."""

    def create_task(self):
        spec = SubprocessParser.get_subprocess_spec(self)
        cls = EventSubprocess if self.node.get("triggeredByEvent") == "true" else self.spec_class
        return cls(self.spec, self.bpmn_id, subworkflow_spec=spec, **self.bpmn_attributes)


class DecisionRefParser(BusinessRuleTaskParser):
    """Names the task when `camunda:decisionRef` is missing (3.2 raises a bare KeyError)."""

    @staticmethod
    def get_decision_ref(node):
        return node.get(f"{{{CAMUNDA}}}decisionRef")

    def create_task(self):
        if self.get_decision_ref(self.node) is None:
            raise ValidationException(
                "business rule task has no camunda:decisionRef", self.node, self.filename
            )
        return super().create_task()


def _with_extensions(parser_class):
    return type(parser_class.__name__, (ExtensionsMixin, parser_class), {})


class ModelParser(CamundaParser):
    """The parser for every diagram Upgradeflow deploys."""

    OVERRIDE_PARSER_CLASSES: ClassVar[dict] = {
        tag: (_with_extensions(parser), spec)
        for tag, (parser, spec) in CamundaParser.OVERRIDE_PARSER_CLASSES.items()
    }
    OVERRIDE_PARSER_CLASSES[full_tag("businessRuleTask")] = (
        _with_extensions(DecisionRefParser),
        CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag("businessRuleTask")][1],
    )
    OVERRIDE_PARSER_CLASSES[full_tag("subProcess")] = (
        _with_extensions(EventSubprocessAwareParser),
        CallActivity,
    )

    def __init__(self):
        super().__init__(namespaces=NSMAP)

    def get_spec(self, process_id, required=True):
        spec = super().get_spec(process_id, required)
        if spec is not None:
            _use_clock_timers(spec)
            prewire_event_subprocesses(spec)
            _settle_camunda_multiinstance(spec)
        return spec

    def get_subprocess_specs(self, name, specs=None, require_call_activity_specs=True):
        specs = super().get_subprocess_specs(name, specs, require_call_activity_specs)
        for spec in specs.values():
            _use_clock_timers(spec)
            prewire_event_subprocesses(spec)
            _settle_camunda_multiinstance(spec)
        return specs


CamundaMultiInstance = (ParallelMultiInstanceTask, SequentialMultiInstanceTask)


def _settle_camunda_multiinstance(spec):
    # SpiffWorkflow's Camunda multi-instance tasks set their input references on the spec the
    # first time an instance runs them. Specs are shared by every instance of a version, so set
    # them once here, as that first run would; a spec then never changes under a version diff.
    for task_spec in spec.task_specs.values():
        by_collection = isinstance(task_spec, CamundaMultiInstance) and task_spec.cardinality is None
        if by_collection and task_spec.data_output is not None and task_spec.output_item is not None:
            task_spec.data_input = TaskDataReference(task_spec.data_output.bpmn_id)
            task_spec.input_item = TaskDataReference(task_spec.output_item.bpmn_id)


def _use_clock_timers(spec):
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        if definition is None:
            continue
        use_clock_timers(definition)
        for inner in getattr(definition, "event_definitions", ()):
            use_clock_timers(inner)

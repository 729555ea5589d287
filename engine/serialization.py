"""Instance state and process specs as JSON-ready dicts, each carrying its format version.

The spec of a process version is serialized once (`dump_specs`) and stored with the version; an
instance's state (`dump_state`) holds only its tasks and data, so a thousand instances do not
carry a thousand copies of the diagram. Old state is upgraded by `upgrade_state`: an ordered list
of integer-numbered steps applied in a loop, so no step can be skipped.

Tasks and (sub)workflows are written and restored by converters of our own (`TaskDeltaConverter`,
`SpecFreeWorkflowConverter`, `SubWorkflowConverter`): the same dicts as SpiffWorkflow's, at about
half the cost, which is most of what saving or restoring an instance costs. A test compares them
with SpiffWorkflow's at every point of the procedure (tests/processes/test_state_converters.py).
"""

from copy import copy, deepcopy
from types import ModuleType
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnStartTaskConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .errors import StateFormatError
from .parser import EventTriggerStart
from .timers import CLOCK_TIMERS

FORMAT_VERSION = 1


_PLAIN = frozenset({str, int, float, bool, type(None)})
_COPIED = frozenset({dict, list, set})


def _to_json(value):
    """The registry's `convert` for data: the same result (callables and modules left out of
    every dict, typed values converted), without a call per plain value."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {
            k: v if type(v) in _PLAIN else _to_json(v)
            for k, v in value.items()
            if type(v) in _PLAIN or not (callable(v) or isinstance(v, ModuleType))
        }
    if kind is list:
        return [v if type(v) in _PLAIN else _to_json(v) for v in value]
    return _REGISTRY.convert(value)


def _all_plain(mapping: dict) -> bool:
    return all(type(v) in _PLAIN for v in mapping.values())


def _from_json(value):
    """The registry's `restore` for data: new containers, typed values (`typename`) rebuilt."""
    kind = type(value)
    if kind is dict:
        if "typename" in value:
            return _REGISTRY.restore(value)
        return {k: v if type(v) in _PLAIN else _from_json(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _PLAIN else _from_json(v) for v in value]
    if kind in _PLAIN:
        return value
    return _REGISTRY.restore(value)


def copy_data(value):
    """A deep copy of process data, to hand out or to record: new dicts and lists all the way down,
    plain values shared (they cannot change), anything else through `copy.deepcopy`. Several times
    faster than `deepcopy` on JSON-like data, which is what process data is: it keeps no memo of
    the objects it copied (a value that appears twice is copied twice)."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _PLAIN else copy_data(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _PLAIN else copy_data(v) for v in value]
    if kind in _PLAIN:
        return value
    return deepcopy(value)


# Task ids parsed and printed once per process: a state holds each id about three times.
_UUIDS: dict = {}  # text -> UUID
_TEXTS: dict = {}  # UUID -> text
_IDS_KEPT = 200_000  # at most (then forgotten all at once)


def _remembered(cache, key, make):
    found = cache.get(key)
    if found is None:
        if len(cache) >= _IDS_KEPT:
            cache.clear()
        found = cache[key] = make(key)
    return found


def _uuid(text):
    return _remembered(_UUIDS, text, UUID)


def _text(uuid):
    return _remembered(_TEXTS, uuid, str)


def _workflow_dict(converter, workflow) -> dict:
    """What SpiffWorkflow's WorkflowConverter writes of a (sub)workflow."""
    return {
        "data": _to_json(workflow.data),
        "correlations": workflow.correlations,
        "last_task": _text(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": {_text(k): converter.registry.convert(v) for k, v in workflow.tasks.items()},
        "root": _text(workflow.task_tree.id),
    }


def _restore_workflow(converter, workflow, dct):
    """Tasks and attributes of a (sub)workflow, as SpiffWorkflow restores them, leaving `dct`
    (the caller's state) as it was."""
    restore = converter.registry.restore
    workflow.tasks = {_uuid(k): restore(v, workflow=workflow) for k, v in dct["tasks"].items()}
    workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
    workflow.success = dct["success"]
    workflow.completed = dct.get("completed", False)
    workflow.correlations = dct.get("correlations", {})
    if isinstance(dct["last_task"], str):
        workflow.last_task = workflow.tasks.get(_uuid(dct["last_task"]))
    workflow.data = _from_json(dct.get("data", {}))


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without its specs and restores it onto specs the caller provides."""

    def to_dict(self, workflow):
        dct = _workflow_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None, script_engine=None):
        workflow = self.target_class(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
        _restore_workflow(self, workflow, dct)
        self.subprocesses_from_dict(dict(dct["subprocesses"]), workflow)
        workflow.bpmn_events = self.registry.restore(dct.get("bpmn_events", []))
        return workflow


class SubWorkflowConverter(BpmnSubWorkflowConverter):
    """A called or embedded subprocess's workflow, written and restored as the top one is."""

    def to_dict(self, workflow):
        dct = _workflow_dict(self, workflow)
        dct["parent_task_id"] = _text(workflow.parent_task_id)
        dct["spec"] = workflow.spec.name
        return dct

    def from_dict(self, dct, task, top_workflow):
        spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
        subprocess = self.target_class(spec, task.id, top_workflow, deserializing=True)
        _restore_workflow(self, subprocess, dct)
        return subprocess


class TaskDeltaConverter(TaskConverter):
    """SpiffWorkflow's task converter, written for speed: the same dicts out and the same tasks
    back (a task's data as its changes against its parent's). Saving and restoring tasks is most
    of what a step costs beside the database; this takes less than half the time. A value
    identical to the parent's is not compared further."""

    def to_dict(self, task):
        parent_id = task._parent
        parent = task.workflow.tasks.get(parent_id) if parent_id is not None else None
        if parent is None:
            data, delta = task.data, {}
        else:
            before, after = parent.data, task.data
            data = {}
            delta = {
                "updates": {
                    key: value
                    for key, value in after.items()
                    if key not in before or (before[key] is not value and before[key] != value)
                },
                "deletions": [key for key in before if key not in after],
            }
        texts = _TEXTS
        internal = task.internal_data
        return {
            "id": texts.get(task.id) or _text(task.id),
            "parent": (texts.get(parent_id) or _text(parent_id)) if parent is not None else None,
            "children": [texts.get(child) or _text(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            # Most tasks keep nothing or plain values here: copied without a call per value.
            "internal_data": dict(internal) if _all_plain(internal) else _to_json(internal),
            "data": data,
            "delta": delta,
        }

    def from_dict(self, dct, workflow):
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=_uuid(dct["id"]))
        task._parent = _uuid(dct["parent"]) if dct["parent"] is not None else None
        task._children = [_uuid(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = _from_json(dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        parent = task.parent if delta else None
        if parent is not None:
            # The parent's data, each container copied one level deep (as DeepMerge.merge({}, …)).
            data = {
                key: value.copy() if type(value) in _COPIED else _copied(value)
                for key, value in parent.data.items()
            }
            data.update(_from_json(delta.get("updates", {})))
            for key in delta.get("deletions", ()):
                data.pop(key, None)
        else:
            data = _from_json(dct["data"])
        task.data = data
        return task


def _copied(value):
    return copy(value) if isinstance(value, (dict, list, set)) else value


def _config():
    config = dict(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = SpecFreeWorkflowConverter
    config[Task] = TaskDeltaConverter
    config[BpmnSubWorkflow] = SubWorkflowConverter
    config[EventTriggerStart] = BpmnStartTaskConverter
    for twin in CLOCK_TIMERS.values():
        config[twin] = TimerConditionalEventDefinitionConverter
    return config


_REGISTRY = BpmnWorkflowSerializer.configure(_config())
_SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)


def registry():
    """The serializer registry (SpiffWorkflow's spec diff compares specs through it)."""
    return _REGISTRY


def dump_specs(spec, subprocess_specs) -> dict:
    """The process spec and the specs it calls, as a dict to store once per version."""
    return {
        "format": FORMAT_VERSION,
        "spec": _REGISTRY.convert(spec),
        "subprocess_specs": {name: _REGISTRY.convert(s) for name, s in subprocess_specs.items()},
    }


def load_specs(dct: dict):
    """Return (spec, subprocess_specs) from `dump_specs` output. Raises StateFormatError."""
    if dct.get("format") != FORMAT_VERSION:
        raise StateFormatError(f"spec format {dct.get('format')!r} is not {FORMAT_VERSION}")
    spec = _REGISTRY.restore(deepcopy(dct["spec"]))
    subs = {name: _REGISTRY.restore(deepcopy(s)) for name, s in dct["subprocess_specs"].items()}
    return spec, subs


def dump_state(workflow, extra: dict) -> dict:
    """The instance's state without specs: {'format', 'serializer', 'workflow', 'engine'}."""
    return {
        "format": FORMAT_VERSION,
        "serializer": _SERIALIZER.VERSION,
        "workflow": _REGISTRY.convert(workflow),
        "engine": copy_data(extra),
    }


def load_state(state: dict, spec, subprocess_specs, script_engine):
    """Return (workflow, extra) from `dump_state` output. Raises StateFormatError."""
    state = upgrade_state(state)
    # Restoring builds new containers for all data and leaves `state` as it was.
    workflow = _REGISTRY.restore(
        state["workflow"], spec=spec, subprocess_specs=subprocess_specs, script_engine=script_engine
    )
    return workflow, copy_data(state.get("engine", {}))


# Steps that bring state of format N to N + 1, in order. Format 1 is the first; a step is added
# here (never edited) whenever the shape of dump_state changes, with a saved fixture of the old
# format in tests/fixtures that includes subprocesses.
UPGRADES: list = []


def upgrade_state(state: dict) -> dict:
    """Bring state of any known older format to FORMAT_VERSION. Raises StateFormatError."""
    version = state.get("format")
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise StateFormatError(f"state format {version!r} is not one this engine reads (1..{FORMAT_VERSION})")
    if state.get("serializer") != _SERIALIZER.VERSION:
        raise StateFormatError(
            f"state written by SpiffWorkflow serializer {state.get('serializer')!r}, "
            f"this engine writes {_SERIALIZER.VERSION!r}"
        )
    for step in UPGRADES[version - 1 :]:
        state = step(deepcopy(state))
    return state

"""Deploy checks: everything that would otherwise fail at run time is refused before deployment.

Each check returns `Problem`s naming the file, line and element. Checked: every user task
resolves to a group and to a form of the bundle; every branch of a splitting exclusive or
inclusive gateway has a condition or is the default; conditions, input/output mappings,
assignee and due-date expressions, timers, scripts and DMN cells compile under the sandbox;
ids and names fit their columns; step guards name steps; no element is of a kind nothing here
runs (service, send and receive tasks, a signal nothing throws) or names a message or signal its
file lacks. Call activities: `engine.calls`.
"""

from copy import deepcopy
from functools import lru_cache

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from .code_checks import unknown_calls
from .decisions import check_decisions
from .errors import Problem
from .expressions import to_python
from .groups import GROUP_IDS, LANE_GROUPS
from .guards import STEP_GUARDS
from .runnable import thrown_signals, unrunnable_elements
from .sandbox import SandboxError, compile_expression, compile_script
from .timers import _ISO_LITERAL, literal_problem

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


# What the columns hold (engine/models.py): element and process ids, process names, task titles.
MAX_ID, MAX_PROCESS_NAME, MAX_NAME = 200, 200, 300
# SpiffWorkflow names the inner task of a multi-instance or loop activity `<id> [child]`: that
# name is what the task and event rows hold, so such an id must leave room for the suffix.
CHILD_SUFFIX = " [child]"
LOOPS = (f"{BPMN}multiInstanceLoopCharacteristics", f"{BPMN}standardLoopCharacteristics")


def _id_limit(element) -> int:
    looped = any(child.tag in LOOPS for child in element)
    return MAX_ID - len(CHILD_SUFFIX) if looped else MAX_ID


def _check_lengths(name, tree) -> list:
    problems = []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        element_id, label = element.get("id") or "", element.get("name") or ""
        limit = MAX_PROCESS_NAME if element.tag == f"{BPMN}process" else MAX_NAME
        id_limit = _id_limit(element)
        if len(element_id) > id_limit:
            looped = " for a multi-instance or loop activity" if id_limit < MAX_ID else ""
            problems.append(
                Problem(
                    name,
                    f"id is {len(element_id)} characters long; at most {id_limit}{looped}",
                    element.sourceline,
                    element_id[:40],
                )
            )
        if len(label) > limit:
            problems.append(
                Problem(
                    name,
                    f"name is {len(label)} characters long; at most {limit}",
                    element.sourceline,
                    element_id,
                )
            )
    return problems


def check_trees(trees) -> list:
    """Problems visible in the XML alone: lengths, gateways, expressions, scripts, timers, DMN
    cells."""
    problems = []
    thrown = thrown_signals(trees)
    for name, tree in sorted(trees.items()):
        problems.extend(_check_lengths(name, tree))
        if tree.tag.startswith(BPMN):
            problems.extend(_check_flows(name, tree))
            problems.extend(unrunnable_elements(name, tree, thrown))
            problems.extend(_check_gateways(name, tree))
            problems.extend(_check_expressions(name, tree))
        else:
            problems.extend(check_decisions(name, tree))
    return problems


def _check_flows(name, tree):
    """A sequence flow must join two elements of its own process (or subprocess)."""
    problems, ids_in = [], {}  # container -> the ids of its elements, gathered once
    for flow in tree.iter(f"{BPMN}sequenceFlow"):
        container = flow.getparent()
        if container not in ids_in:
            ids_in[container] = {child.get("id") for child in container if child.get("id")}
        ids = ids_in[container]
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if ref not in ids:
                problems.append(
                    Problem(
                        name,
                        f"sequence flow {flow.get('id')!r}: {end} {ref!r} is no element of its process",
                        flow.sourceline,
                        flow.get("id"),
                    )
                )
    return problems


def check_definitions(bundle) -> list:
    """Problems of the parsed processes: groups, forms, mappings, assignees, due dates."""
    problems = []
    index = _element_index(bundle.trees)
    if not bundle.definitions and bundle.trees:
        problems.append(
            Problem(", ".join(sorted(bundle.trees)), 'no executable process (isExecutable="true")')
        )
    seen = set()
    # Every step a guard may name: a called process's task may wait for a step of its caller.
    steps = {
        spec.name
        for definition in bundle.definitions.values()
        for _, process in definition.all_specs()
        for spec in process.task_specs.values()
    }
    for definition in bundle.definitions.values():
        if definition.start_event() is None:
            file, line = index.get(definition.process_id, ("?", None))
            problems.append(Problem(file, "no none start event", line, definition.process_id))
        for _, spec in definition.all_specs():
            for task_spec in spec.task_specs.values():
                key = (spec.file, task_spec.name)
                if key not in seen:
                    seen.add(key)
                    problems.extend(_check_task(definition, task_spec, index, steps))
    return problems


def _check_step_guards(task_spec, ext, steps, file, line):
    """A guard naming a step no process of the bundle has would never (or always) hold."""
    properties = ext.get("properties") or {}
    guards = [name for name in STEP_GUARDS if properties.get(name)]
    problems = []
    condition = properties.get("acceptedWhen")
    if condition:
        problems.extend(_compile(file, line, task_spec.name, to_python(str(condition))))
    for guard in guards:
        unknown = sorted({part.strip() for part in str(properties[guard]).split(",")} - steps)
        if unknown:
            problems.append(
                Problem(
                    file,
                    f"{guard} names no step of the processes: {', '.join(unknown)}",
                    line,
                    task_spec.name,
                )
            )
    return problems


def _element_index(trees):
    index = {}
    for name, tree in trees.items():
        for element in tree.iter():
            if isinstance(element.tag, str) and element.get("id"):
                index.setdefault(element.get("id"), (name, element.sourceline))
    return index


def _check_task(definition, task_spec, index, steps):
    ext = getattr(task_spec, "extensions", None) or {}
    file, line = index.get(task_spec.name, ("?", None))
    problems = []
    is_user_task = task_spec.__class__.__name__ == "UserTask"
    if is_user_task:
        groups = ext.get("candidateGroups") or []
        unknown = [g for g in groups if g not in GROUP_IDS]
        if unknown:
            # An expression is not evaluated: its task would wait for a group nobody is in.
            problems.append(
                Problem(
                    file,
                    f"unknown candidate group(s) {', '.join(unknown)}: name departments "
                    f"({', '.join(sorted(GROUP_IDS))}); expressions are not evaluated here",
                    line,
                    task_spec.name,
                )
            )
        has_lane_group = task_spec.lane in LANE_GROUPS
        if not (groups or ext.get("candidateUsers") or ext.get("assignee") or has_lane_group):
            problems.append(
                Problem(
                    file,
                    "user task has no candidate group, user, assignee or department lane",
                    line,
                    task_spec.name,
                )
            )
    if (is_user_task or isinstance(task_spec, StartEvent)) and (ext.get("formRef") or ext.get("formKey")):
        if definition.form_for(task_spec) is None:
            ref = ext.get("formRef") or ext.get("formKey")
            problems.append(
                Problem(file, f"form {ref!r} is neither in the bundle nor deployed", line, task_spec.name)
            )
    elif is_user_task:
        problems.append(
            Problem(file, "user task has no form (camunda:formRef or formKey)", line, task_spec.name)
        )
    problems.extend(_check_step_guards(task_spec, ext, steps, file, line))
    for attr in ("assignee", "dueDate"):
        if ext.get(attr):
            problems.extend(_compile(file, line, task_spec.name, ext[attr], LITERALS[attr]))
    for user in ext.get("candidateUsers") or ():
        problems.extend(_compile(file, line, task_spec.name, user, LITERALS["assignee"]))
    for name, expression in ext.get("inputParameters", []) + ext.get("outputParameters", []):
        if expression is None:
            problems.append(
                Problem(
                    file, f"parameter {name!r}: only text expressions are supported", line, task_spec.name
                )
            )
        else:
            problems.extend(_compile(file, line, task_spec.name, expression))
    return problems


def _is_wrapped(text):
    return text.startswith(("${", "#{", "="))


LITERALS = {
    # A plain user name is a literal assignee; only ${...} is evaluated.
    "assignee": lambda text: not _is_wrapped(text),
    "dueDate": lambda text: bool(_ISO_LITERAL.match(text)),
}


def _compile(file, line, element, expression, literal=None):
    text = expression.strip()
    if literal is not None and literal(text):
        return []
    try:
        compile_expression(text)
    except SandboxError as error:
        return [Problem(file, f"expression does not compile: {error}", line, element)]
    return _unknown_calls(file, line, element, text)


def _unknown_calls(file, line, element, source, mode="eval"):
    missing = unknown_calls(source, mode)
    if not missing:
        return []
    return [
        Problem(
            file,
            f"calls {', '.join(missing)}, which diagram code does not have (FEEL and Java functions are "
            "not translated; write it in Python)",
            line,
            element,
        )
    ]


def _check_gateways(name, tree):
    problems = []
    leaving = {}  # source id -> its outgoing flows, gathered once (not once per gateway)
    for flow in tree.iter(f"{BPMN}sequenceFlow"):
        leaving.setdefault(flow.get("sourceRef"), []).append(flow)
    for kind in ("exclusiveGateway", "inclusiveGateway"):
        for gateway in tree.iter(f"{BPMN}{kind}"):
            outgoing = leaving.get(gateway.get("id"), [])
            if len(outgoing) < 2:
                continue
            for flow in outgoing:
                has_condition = flow.find(f"{BPMN}conditionExpression") is not None
                if not has_condition and flow.get("id") != gateway.get("default"):
                    problems.append(
                        Problem(
                            name,
                            f"branch {flow.get('id')!r} has no condition and is not the default",
                            flow.sourceline,
                            gateway.get("id"),
                        )
                    )
    return problems


def _check_expressions(name, tree):
    problems = []
    for condition in tree.iter(f"{BPMN}conditionExpression"):
        owner = condition.getparent().get("id")
        problems.extend(_compile(name, condition.sourceline, owner, condition.text or ""))
    for script_task in tree.iter(f"{BPMN}scriptTask"):
        script = script_task.find(f"{BPMN}script")
        if script is None or not (script.text or "").strip():
            problems.append(
                Problem(name, "script task has no script", script_task.sourceline, script_task.get("id"))
            )
            continue
        language = (script_task.get("scriptFormat") or "python").strip().lower()
        if language not in ("python", "python3", "py", "text/x-python"):
            problems.append(
                Problem(
                    name,
                    f"script format {script_task.get('scriptFormat')!r} is not run here: scripts are "
                    "Python (sandboxed); write it in Python and set the format to python",
                    script_task.sourceline,
                    script_task.get("id"),
                )
            )
            continue
        try:
            compile_script(script.text)
            problems.extend(
                _unknown_calls(name, script.sourceline, script_task.get("id"), script.text, "exec")
            )
        except SandboxError as error:
            problems.append(
                Problem(
                    name,
                    f"script does not compile in the sandbox: {error}",
                    script.sourceline,
                    script_task.get("id"),
                )
            )
    for tag in ("timeDate", "timeDuration", "timeCycle"):
        for timer in tree.iter(f"{BPMN}{tag}"):
            owner = timer.getparent().getparent().get("id")
            problems.extend(_check_timer(name, timer, owner, tag))
    return problems


@lru_cache(maxsize=1)
def _bpmn_schema():
    # The BPMN 2.0 XML Schema as SpiffWorkflow ships it (extension elements of any namespace are
    # allowed, as the schema says), loaded once.
    return BpmnValidator()


def schema_problems(name, tree) -> list:
    """Where a .bpmn file breaks the BPMN 2.0 XML Schema: an element BPMN does not have (a
    misspelt `userTaskk`), one out of place, an id used twice. Each names the file, the line and,
    where it has one, the element's id."""
    validator = _bpmn_schema()
    checked = deepcopy(tree)  # SpiffWorkflow's preprocessing rewrites what bpmn-js writes oddly
    validator.preprocess(checked)
    if validator.validator.validate(checked):
        return []
    lines = {element.sourceline: element.get("id") for element in tree.iter() if element.get("id")}
    return [
        Problem(name, f"not valid BPMN 2.0: {error.message}", error.line, lines.get(error.line))
        for error in validator.validator.error_log
    ]


def _check_timer(name, timer, owner, kind):
    text = (timer.text or "").strip()
    if not text:
        return [Problem(name, "timer has no value", timer.sourceline, owner)]
    wrong = literal_problem(kind, text)
    if wrong is not None:
        return [Problem(name, f"timer: {wrong}", timer.sourceline, owner)]
    return _compile(name, timer.sourceline, owner, text, LITERALS["dueDate"])

"""Deploy checks: a bad bundle is refused whole, with problems that name file, line and element."""

import json
from pathlib import Path

import pytest

from engine import Bundle, DeploymentError, load_bundle

SHARED = Path(__file__).resolve().parents[3] / "shared" / "conformance"

FORM = b'{"id": "f", "components": [{"key": "decision", "type": "select", "values": [{"label": "A", "value": "a"}], "validate": {"required": true}}], "type": "default"}'


def bpmn(body, extra=""):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="http://x">{extra}
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"/>
    {body}
  </bpmn:process>
</bpmn:definitions>""".encode()


USER_TASK = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
    <bpmn:userTask id="t" camunda:candidateGroups="it" camunda:formRef="f"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""


def problems_of(files):
    with pytest.raises(DeploymentError) as caught:
        Bundle(files)
    return caught.value.problems


def test_a_correct_bundle_deploys():
    bundle = Bundle({"p.bpmn": bpmn(USER_TASK), "f.form": FORM})
    assert list(bundle.definitions) == ["p"]


def test_a_missing_form_is_named_with_its_task_and_line():
    [problem] = problems_of({"p.bpmn": bpmn(USER_TASK)})
    assert (problem.file, problem.element, problem.line) == ("p.bpmn", "t", 9)
    assert "form 'f' is neither in the bundle nor deployed" in problem.message


def test_a_user_task_without_group_or_lane_is_refused():
    body = USER_TASK.replace('camunda:candidateGroups="it" ', "")
    [problem] = problems_of({"p.bpmn": bpmn(body), "f.form": FORM})
    assert problem.element == "t"
    assert "no candidate group" in problem.message


def test_an_unknown_group_is_refused():
    body = USER_TASK.replace('"it"', '"sales"')
    [problem] = problems_of({"p.bpmn": bpmn(body), "f.form": FORM})
    assert "unknown candidate group(s) sales" in problem.message


def test_every_gateway_branch_needs_a_condition_or_the_default():
    body = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="g"/>
    <bpmn:exclusiveGateway id="g"/>
    <bpmn:sequenceFlow id="a" sourceRef="g" targetRef="e1">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${x == 1}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="b" sourceRef="g" targetRef="e2"/>
    <bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>"""
    [problem] = problems_of({"p.bpmn": bpmn(body)})
    assert problem.element == "g"
    assert "branch 'b' has no condition" in problem.message


def test_a_condition_that_does_not_compile_is_named():
    body = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="g"/>
    <bpmn:exclusiveGateway id="g" default="b"/>
    <bpmn:sequenceFlow id="a" sourceRef="g" targetRef="e1">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${x ==}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="b" sourceRef="g" targetRef="e2"/>
    <bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>"""
    [problem] = problems_of({"p.bpmn": bpmn(body)})
    assert problem.element == "a"
    assert "does not compile" in problem.message


@pytest.mark.parametrize("script", ["import os", "x = y.__class__", ""])
def test_scripts_must_compile_in_the_sandbox(script):
    body = f"""
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="s"/>
    <bpmn:scriptTask id="s" scriptFormat="python"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="s" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""
    [problem] = problems_of({"p.bpmn": bpmn(body)})
    assert problem.element == "s"


def test_a_timer_expression_that_does_not_compile_is_refused():
    body = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="w"/>
    <bpmn:intermediateCatchEvent id="w"><bpmn:timerEventDefinition>
      <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">in two weeks</bpmn:timeDuration>
    </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="w" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""
    [problem] = problems_of({"p.bpmn": bpmn(body)})
    assert problem.element == "w"


def timer_process(kind, value):
    return bpmn(f"""
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="w"/>
    <bpmn:intermediateCatchEvent id="w"><bpmn:timerEventDefinition>
      <bpmn:{kind} xsi:type="bpmn:tFormalExpression">{value}</bpmn:{kind}>
    </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="w" targetRef="end"/>
    <bpmn:endEvent id="end"/>""")


@pytest.mark.parametrize(
    ("kind", "value", "says"),
    [
        ("timeDuration", "PXYZ", "is not an ISO 8601 value"),
        ("timeDuration", "P", "is not an ISO 8601 value"),
        ("timeDate", "2026-13-45T00:00:00", "is not an ISO 8601 date and time"),
        ("timeCycle", "R/P0D", "a repeating interval must be positive"),
        ("timeCycle", "R5", "is not an ISO 8601 value"),
    ],
)
def test_a_timer_value_the_engine_could_not_read_is_refused_at_deploy(kind, value, says):
    """Read at deploy as the engine will read it when the timer starts: before, each of these
    deployed and the instance went into error once it reached the timer."""
    [problem] = problems_of({"p.bpmn": timer_process(kind, value)})
    assert (problem.element, problem.line) == ("w", 10)  # the timer value's line
    assert says in problem.message


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("timeDuration", "P14D"),
        ("timeDuration", "PT20S"),
        ("timeDate", "2026-03-01T09:00:00Z"),
        ("timeCycle", "R/P14D"),
        ("timeCycle", "R3/PT1H"),
        ("timeDuration", "review_period"),  # an expression: a process variable, read when it starts
    ],
)
def test_timer_values_the_engine_reads_deploy(kind, value):
    Bundle({"p.bpmn": timer_process(kind, value)})


def test_a_call_to_an_unknown_process_is_refused():
    body = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="c"/>
    <bpmn:callActivity id="c" calledElement="nowhere"/>
    <bpmn:sequenceFlow id="f2" sourceRef="c" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""
    problems = problems_of({"p.bpmn": bpmn(body)})
    assert any("nowhere" in p.message for p in problems)


def test_xml_entities_are_never_expanded():
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&x;</bpmn:definitions>"""
    [problem] = problems_of({"evil.bpmn": xxe})
    assert problem.file == "evil.bpmn"
    assert "DOCTYPE" in problem.message


def test_malformed_xml_names_file_and_line():
    [problem] = problems_of({"bad.bpmn": b"<a>\n<b>\n</a>"})
    assert (problem.file, problem.line) == ("bad.bpmn", 3)


def test_a_bad_form_file_is_named():
    [problem] = problems_of({"p.bpmn": bpmn(USER_TASK), "f.form": b"{not json"})
    assert problem.file == "f.form"
    assert "invalid JSON" in problem.message


@pytest.mark.parametrize("kind", ["requiredWhen", "validWhen"])
@pytest.mark.parametrize("rule", ["x ==== ", "x.__class__", "import os"])
def test_a_rule_that_cannot_run_is_refused_at_deploy(rule, kind):
    """Evaluated at each submission, a broken requiredWhen counted as "not required": a typo
    switched off a rule such as R5.3.1's measures for high risks without a sign."""
    form = json.loads(FORM)
    form["components"].append({"key": "note", "type": "textfield", "properties": {kind: rule}})
    [problem] = problems_of({"p.bpmn": bpmn(USER_TASK), "f.form": json.dumps(form).encode()})
    assert problem.file == "f.form" and f"note: {kind} cannot be evaluated" in problem.message


def test_a_form_file_over_the_size_limit_is_refused_as_a_diagram_is():
    from engine.specs import MAX_FILE_BYTES

    form = json.loads(FORM)
    form["components"][0]["description"] = "x" * MAX_FILE_BYTES
    [problem] = problems_of({"p.bpmn": bpmn(USER_TASK), "f.form": json.dumps(form).encode()})
    assert (problem.file, problem.message) == ("f.form", f"file is larger than {MAX_FILE_BYTES} bytes")


def test_an_element_bpmn_does_not_have_is_refused_with_its_line():
    body = (
        USER_TASK
        + """
    <bpmn:userTaskk id="zz"/>"""
    )
    problems = problems_of({"p.bpmn": bpmn(body), "f.form": FORM})
    assert [(p.file, p.line, p.element) for p in problems] == [("p.bpmn", 12, "zz")]
    assert "not valid BPMN 2.0" in problems[0].message and "userTaskk" in problems[0].message


def test_an_id_used_twice_is_refused():
    body = USER_TASK.replace('<bpmn:sequenceFlow id="f2"', '<bpmn:sequenceFlow id="f1"')
    problems = problems_of({"p.bpmn": bpmn(body), "f.form": FORM})
    assert any("not valid BPMN 2.0" in p.message and "f1" in p.message for p in problems)


def test_a_doctype_is_named_on_its_own_line():
    text = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<x/>'
    [problem] = problems_of({"p.bpmn": text})
    assert (problem.message, problem.line) == ("a DOCTYPE is not allowed", 2)


def test_a_flow_to_an_element_that_is_not_there_is_named():
    body = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ghost"/>
    <bpmn:endEvent id="end"/>"""
    problems = problems_of({"p.bpmn": bpmn(body)})
    assert ("p.bpmn", 8, "f1") in [(p.file, p.line, p.element) for p in problems]
    assert any("targetRef 'ghost' is no element of its process" in p.message for p in problems)


def test_a_decision_that_is_not_there_is_named_with_the_task_that_calls_it():
    body = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="r"/>
    <bpmn:businessRuleTask id="r" camunda:decisionRef="nope"/>
    <bpmn:sequenceFlow id="f2" sourceRef="r" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""
    [problem] = problems_of({"p.bpmn": bpmn(body)})
    assert (problem.file, problem.line, problem.element) == ("p.bpmn", 9, "r")
    assert 'id "nope"' in problem.message


def test_every_problem_is_reported_at_once():
    body = USER_TASK.replace('camunda:candidateGroups="it" ', "")
    problems = problems_of({"p.bpmn": bpmn(body)})
    assert len(problems) == 2  # no group, and no form


def test_the_procedure_itself_deploys():
    bundle = load_bundle("processes", "forms")
    # The processes software_upgrade calls are not top-level definitions of their own.
    assert "software_upgrade" in bundle.definitions
    assert not {"software_implementation", "testing_acceptance", "golive_operation"} & set(bundle.definitions)


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/conformance is not beside this checkout")
def test_the_camunda_forms_quickstart_deploys_unchanged():
    bundle = load_bundle(SHARED / "camunda-forms-quickstart")
    definition = bundle.definitions["camundaFormsQuickstart"]
    assert definition.form_for(definition.start_event()).id is not None


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/conformance is not beside this checkout")
@pytest.mark.parametrize(
    "path", sorted((SHARED / "miwg-reference").glob("*.bpmn")) if SHARED.exists() else []
)
def test_reference_diagrams_deploy_or_are_refused_with_reasons(path):
    try:
        Bundle({path.name: path.read_bytes()})
    except DeploymentError as error:
        assert error.problems
        assert all(p.message and p.file == path.name for p in error.problems)
        # A problem of an element says where it is; data stores without an implementation too.
        assert all(p.line for p in error.problems if p.element), error.problems
        assert all(p.element and p.line for p in error.problems if "Data Store" in p.message), error.problems


def dmn(cells):
    rules = "".join(
        f'<rule id="r{i}"><inputEntry id="i{i}"><text>{test}</text></inputEntry>'
        f'<outputEntry id="o{i}"><text>"{out}"</text></outputEntry></rule>'
        for i, (test, out) in enumerate(cells)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dd" name="d" namespace="http://x">
  <decision id="size" name="size"><decisionTable id="t" hitPolicy="FIRST">
    <input id="in"><inputExpression id="ie" typeRef="number"><text>amount</text></inputExpression></input>
    <output id="out" name="size" typeRef="string"/>{rules}
  </decisionTable></decision>
</definitions>""".encode()


RULE_TASK = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>
    <bpmn:businessRuleTask id="decide" camunda:decisionRef="size"/>
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""


AMOUNT_FORM = (
    b'{"id": "s", "components": [{"key": "amount", "type": "number", "validate": {"required": true}}]}'
)


DMN_11 = "http://www.omg.org/spec/DMN/20151101/dmn.xsd"


@pytest.mark.parametrize("namespace", ["https://www.omg.org/spec/DMN/20191111/MODEL/", DMN_11])
@pytest.mark.parametrize(("amount", "size"), [(5, "small"), (10, "medium"), (50, "medium"), (51, "large")])
def test_a_camunda_decision_table_with_feel_cells_runs(amount, size, namespace):
    """DMN 1.3 and 1.1 alike (a 1.1 table went unchecked and untranslated: its first run failed)."""
    from engine import Actor, Instance, ManualClock

    cells = [("&lt; 10", "small"), ("[10..50]", "medium"), ("&gt; 50", "large")]
    diagram = bpmn(RULE_TASK).replace(
        b'<bpmn:startEvent id="start"/>', b'<bpmn:startEvent id="start" camunda:formRef="s"/>'
    )
    files = {
        "p.bpmn": diagram,
        "d.dmn": dmn(cells)
        .replace(b"<text>amount</text>", b"<text>start.amount</text>")
        .replace(b"https://www.omg.org/spec/DMN/20191111/MODEL/", namespace.encode()),
    }
    definition = Bundle({**files, "s.form": AMOUNT_FORM}).definitions["p"]
    instance, _ = Instance.start(definition, {"amount": amount}, Actor("a"), ManualClock())
    assert (instance.status, instance.data["size"]) == ("completed", size)


def test_a_feel_cell_the_engine_cannot_run_is_named():
    [problem] = problems_of({"p.bpmn": bpmn(RULE_TASK), "d.dmn": dmn([('date("2020-01-01")', "old")])})
    assert (problem.file, problem.element) == ("d.dmn", "r0")
    assert "cannot be run" in problem.message


def test_a_dmn_11_cell_the_engine_cannot_run_is_named_too():
    table = dmn([('date("2020-01-01")', "old")]).replace(
        b"https://www.omg.org/spec/DMN/20191111/MODEL/", DMN_11.encode()
    )
    [problem] = problems_of({"p.bpmn": bpmn(RULE_TASK), "d.dmn": table})
    assert (problem.file, problem.element) == ("d.dmn", "r0") and "cannot be run" in problem.message


def after_the_user_task(element, extra=""):
    body = USER_TASK.replace('targetRef="end"/>', 'targetRef="x"/>').replace(
        '<bpmn:endEvent id="end"/>',
        f'{element}<bpmn:sequenceFlow id="f3" sourceRef="x" targetRef="end"/><bpmn:endEvent id="end"/>',
    )
    return {
        "p.bpmn": bpmn(body).replace(b"</bpmn:definitions>", f"{extra}</bpmn:definitions>".encode()),
        "f.form": FORM,
    }


@pytest.mark.parametrize(
    ("element", "says"),
    [
        ('<bpmn:serviceTask id="x" camunda:class="org.example.Erp"/>', "a service task cannot run here"),
        (
            '<bpmn:serviceTask id="x" camunda:type="external" camunda:topic="erp"/>',
            "a service task cannot run here",
        ),
        ('<bpmn:sendTask id="x" camunda:expression="${erp}"/>', "a send task cannot run here"),
        ('<bpmn:receiveTask id="x" messageRef="m"/>', "a receive task cannot run here"),
        # Deployed, each left its instances waiting for good, with nothing to do and no incident.
        (
            '<bpmn:intermediateCatchEvent id="x"><bpmn:signalEventDefinition signalRef="s"/></bpmn:intermediateCatchEvent>',
            "waits for signal 's', which no process of its instance throws",
        ),
    ],
)
def test_an_element_nothing_here_runs_is_refused_with_its_line(element, says):
    """A service or send task failed the deploy with a 500 (its spec could not be stored)."""
    extra = '<bpmn:message id="m" name="go"/><bpmn:signal id="s" name="go"/>'
    [problem] = problems_of(after_the_user_task(element, extra))
    assert (problem.file, problem.element, problem.line) == ("p.bpmn", "x", 11)
    assert says in problem.message


@pytest.mark.parametrize(
    ("element", "says"),
    [
        (
            '<bpmn:intermediateCatchEvent id="x"><bpmn:messageEventDefinition messageRef="nope"/></bpmn:intermediateCatchEvent>',
            "messageRef 'nope' names no message of the file",
        ),
        (
            '<bpmn:intermediateThrowEvent id="x"><bpmn:signalEventDefinition signalRef="nope"/></bpmn:intermediateThrowEvent>',
            "signalRef 'nope' names no signal of the file",
        ),
    ],
)
def test_a_reference_to_a_message_or_signal_not_defined_is_named(element, says):
    """SpiffWorkflow's own refusal was a TypeError that named neither the reference nor the element."""
    problems = problems_of(after_the_user_task(element))
    assert any(p.element == "x" and says in p.message for p in problems), problems


def test_a_thrown_signal_may_be_caught_and_a_process_without_a_none_start_says_where():
    body = (
        '<bpmn:parallelGateway id="x"/><bpmn:sequenceFlow id="g1" sourceRef="x" targetRef="throw"/>'
        '<bpmn:intermediateThrowEvent id="throw"><bpmn:signalEventDefinition signalRef="s"/></bpmn:intermediateThrowEvent>'
        '<bpmn:sequenceFlow id="g2" sourceRef="x" targetRef="catch"/>'
        '<bpmn:intermediateCatchEvent id="catch"><bpmn:signalEventDefinition signalRef="s"/></bpmn:intermediateCatchEvent>'
    )
    Bundle(after_the_user_task(body.replace('id="x"/>', 'id="x"/>', 1), '<bpmn:signal id="s" name="go"/>'))
    no_start = bpmn(USER_TASK).replace(
        b'<bpmn:startEvent id="start"/>',
        b'<bpmn:startEvent id="start"><bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>',
    )
    problems = problems_of({"p.bpmn": no_start, "f.form": FORM})
    [where] = [p for p in problems if p.message == "no none start event"]
    assert (where.file, where.element, where.line) == ("p.bpmn", "p", 5)


@pytest.mark.parametrize(
    "element", ['<bpmn:manualTask id="x" name="簽字"/>', '<bpmn:task id="x" name="歸檔"/>']
)
def test_a_manual_task_or_a_task_of_no_kind_is_passed_through_as_camunda_does(element):
    """SpiffWorkflow waits for someone to run them, and no one here could: the instance stood
    still, waiting at nothing, with no task and no incident."""
    from engine import Actor, Instance, ManualClock

    definition = Bundle(after_the_user_task(element)).definitions["p"]
    it = Actor("ivan", frozenset({"it"}))
    instance, _ = Instance.start(definition, {}, it, ManualClock())
    [task] = instance.ready_tasks()
    result = instance.complete_task(task.id, {"decision": "a"}, it)
    assert instance.status == "completed" and instance.completed_elements["x"] == 1
    assert [e.kind for e in result.events] == ["task_completed", "ended"]


def test_a_signal_a_called_process_throws_may_be_caught_by_its_caller():
    """The check looked for a throw in the catching process only: a boundary event on a call
    activity, caught from the process it calls, was refused though it ran."""
    caller = bpmn(
        """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:callActivity id="call" calledElement="child"/>
    <bpmn:boundaryEvent id="x" attachedToRef="call"><bpmn:signalEventDefinition signalRef="s"/></bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="x" targetRef="t"/>
    <bpmn:userTask id="t" camunda:candidateGroups="it" camunda:formRef="f"/>
    <bpmn:sequenceFlow id="f4" sourceRef="t" targetRef="end"/>
    <bpmn:endEvent id="end"/>""",
        '<bpmn:signal id="s" name="escalate"/>',
    )
    child = (
        bpmn(
            """
    <bpmn:sequenceFlow id="c1" sourceRef="start" targetRef="raise"/>
    <bpmn:intermediateThrowEvent id="raise"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="c2" sourceRef="raise" targetRef="done"/>
    <bpmn:endEvent id="done"/>""",
            '<bpmn:signal id="sig" name="escalate"/>',
        )
        .replace(b'id="p"', b'id="child"')
        .replace(b'id="d"', b'id="d2"')
    )
    bundle = Bundle({"p.bpmn": caller, "child.bpmn": child, "f.form": FORM})
    assert "p" in bundle.definitions
    # A process that shares no instance with it throwing the signal counts for nothing: its
    # instances would wait for ever.
    unrelated = caller.replace(b'calledElement="child"', b'calledElement="other"')
    other = child.replace(b'id="child"', b'id="other"').replace(
        b'<bpmn:intermediateThrowEvent id="raise"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateThrowEvent>',
        b'<bpmn:intermediateThrowEvent id="raise"/>',
    )
    problems = problems_of({"p.bpmn": unrelated, "other.bpmn": other, "child.bpmn": child, "f.form": FORM})
    assert [p.element for p in problems if "waits for signal" in p.message] == ["x"]


def test_a_form_deployed_before_a_rule_is_not_refused_by_it_when_sent_again_unchanged():
    """A form stored with a pattern refused since blocked every later deploy of its process: the
    bundle sent again whole, a diagram edited beside it, the form editor sending one file."""
    slow = {
        "id": "f",
        "components": [
            {
                "key": "decision",
                "type": "textfield",
                "validate": {"pattern": "^(\\w+\\s?){1,50}$", "required": True},
            }
        ],
        "type": "default",
    }
    files = {"p.bpmn": bpmn(USER_TASK), "f.form": json.dumps(slow).encode()}
    assert "p" in Bundle(files, deployed_forms={"f": slow}).definitions  # as deployed: taken
    [problem] = problems_of({**files, "f.form": json.dumps(slow).encode()})  # new: refused
    assert "repeats a repetition" in problem.message
    resaved = {**slow, "schemaVersion": 16, "exporter": {"name": "Camunda Modeler", "version": "5.29.0"}}
    assert (
        "p"
        in Bundle({**files, "f.form": json.dumps(resaved).encode()}, deployed_forms={"f": slow}).definitions
    )
    changed = {**slow, "components": [{**slow["components"][0], "label": "決定"}]}
    with pytest.raises(DeploymentError):
        Bundle({**files, "f.form": json.dumps(changed).encode()}, deployed_forms={"f": slow})

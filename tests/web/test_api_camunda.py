"""Camunda compatibility through the API: Camunda 8 (zeebe:) user tasks, FEEL conditions,
formKey `camunda-forms:deployment:`, due dates as ISO durations, and `${initiator}` assignees."""

from datetime import datetime, timedelta

import pytest
from apiclient import API, Caller
from bundles import FORM, bpmn, multipart, user_task

ZEEBE_NS = 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
ZEEBE_TASK = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
    <bpmn:userTask id="t" name="Check">
      <bpmn:extensionElements>
        <zeebe:userTask/>
        <zeebe:formDefinition formId="f"/>
        <zeebe:assignmentDefinition candidateGroups="it, finance"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="g"/>
    <bpmn:exclusiveGateway id="g" default="other"/>
    <bpmn:sequenceFlow id="chosen_a" sourceRef="g" targetRef="end_a">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=t.decision = "a"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="other" sourceRef="g" targetRef="end_b"/>
    <bpmn:endEvent id="end_a"/><bpmn:endEvent id="end_b"/>"""


@pytest.fixture
def owner(make_user, token_for, client):
    user = make_user("olga", "process_owner")
    return Caller(client, user, token_for(user))


def deploy(caller, files):
    response = caller.client.post(
        f"{API}/deployments",
        headers=caller.headers,
        data=multipart(files),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize(("decision", "end"), [("a", "end_a"), ("b", "end_b")])
def test_a_camunda_8_diagram_deploys_and_runs_with_feel_conditions(owner, people, decision, end):
    deploy(owner, {"z.bpmn": bpmn(ZEEBE_TASK, "z", namespaces=ZEEBE_NS), "f.form": FORM})
    started = people["business"].post("/processes/z/instances", {"data": {}}).get_json()
    [task] = started["tasks"]
    assert (task["form"], sorted(task["groups"]), task["assignee"]) == ("f", ["finance", "it"], None)
    assert (
        people["business"].post(f"/tasks/{task['id']}/complete", {"data": {"decision": decision}}).status_code
        == 403
    )
    done = people["finance"].post(f"/tasks/{task['id']}/complete", {"data": {"decision": decision}})
    assert done.status_code == 200, done.get_json()
    final = people["finance"].get(f"/instances/{started['id']}").get_json()
    assert final["status"] == "completed"
    assert end in final["completed_elements"]
    assert ({"end_a", "end_b"} - {end}).isdisjoint(final["completed_elements"])


def test_a_zeebe_assignee_and_due_date_are_honoured(owner, people):
    body = ZEEBE_TASK.replace(
        '<zeebe:assignmentDefinition candidateGroups="it, finance"/>',
        '<zeebe:assignmentDefinition assignee="=initiator"/><zeebe:taskSchedule dueDate="P2D"/>',
    )
    deploy(owner, {"z.bpmn": bpmn(body, "z", namespaces=ZEEBE_NS), "f.form": FORM})
    [task] = people["business"].post("/processes/z/instances", {"data": {}}).get_json()["tasks"]
    assert task["assignee"] == people["business"].user.username
    due = datetime.fromisoformat(task["due_at"]) - datetime.fromisoformat(task["created_at"])
    assert due == timedelta(days=2)


@pytest.mark.parametrize(
    "key",
    [
        "camunda-forms:deployment:check.form",
        # Camunda's documentation writes `app:` keys with the file's path in the application.
        "camunda-forms:app:forms/check.form",
    ],
)
def test_form_key_camunda_forms_deployment_resolves_to_the_bundles_form_file(owner, people, key):
    body = user_task(form="x").replace('camunda:formRef="x"', f'camunda:formKey="{key}"')
    form = FORM.replace(b'"id": "f", ', b"")  # known by its file name, as Camunda 7 knows it
    deploy(owner, {"k.bpmn": bpmn(body, "k"), "check.form": form})
    [task] = people["business"].post("/processes/k/instances", {"data": {}}).get_json()["tasks"]
    opened = people["it"].get(f"/tasks/{task['id']}").get_json()
    assert [c["key"] for c in opened["schema"]["components"]] == ["decision"]
    refused = people["it"].post(f"/tasks/{task['id']}/complete", {"data": {"decision": "zzz"}})
    assert refused.status_code == 422  # the linked form's options are enforced


def test_a_due_date_duration_and_an_initiator_assignee_are_honoured(owner, people):
    body = user_task(attributes='camunda:assignee="${initiator}" camunda:dueDate="P3D"').replace(
        'camunda:candidateGroups="it" ', 'camunda:candidateGroups="business" '
    )
    deploy(owner, {"d.bpmn": bpmn(body, "d"), "f.form": FORM})
    [task] = people["business"].post("/processes/d/instances", {"data": {}}).get_json()["tasks"]
    assert task["assignee"] == people["business"].user.username
    due = datetime.fromisoformat(task["due_at"]) - datetime.fromisoformat(task["created_at"])
    assert due == timedelta(days=3)
    other = people["business2"].post(f"/tasks/{task['id']}/complete", {"data": {"decision": "a"}})
    assert other.status_code == 403  # only the initiator may complete it
    mine = people["business"].post(f"/tasks/{task['id']}/complete", {"data": {"decision": "a"}})
    assert mine.status_code == 200


def test_a_candidate_users_expression_names_the_initiator(owner, people):
    """`${initiator}` was taken for a user named so: the task waited for nobody (403 for all)."""
    body = user_task(group=None, attributes='camunda:candidateUsers="${initiator}, it1"')
    deploy(owner, {"u.bpmn": bpmn(body, "u"), "f.form": FORM})
    business = people["business"]
    [task] = business.post("/processes/u/instances", {"data": {}}).get_json()["tasks"]
    for named in (business, people["it"]):
        assert [t["id"] for t in named.get("/tasks").get_json()] == [task["id"]]
    assert (
        people["business2"].post(f"/tasks/{task['id']}/complete", {"data": {"decision": "a"}}).status_code
        == 403
    )
    assert business.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "a"}}).status_code == 200


def test_a_zeebe_candidate_users_expression_is_evaluated(owner, people):
    """`=initiator` lost its `=` and named a user called "initiator": nobody could do the task."""
    body = ZEEBE_TASK.replace('candidateGroups="it, finance"', 'candidateUsers="=initiator"')
    deploy(owner, {"z.bpmn": bpmn(body, "z", namespaces=ZEEBE_NS), "f.form": FORM})
    business = people["business"]
    [task] = business.post("/processes/z/instances", {"data": {}}).get_json()["tasks"]
    assert [t["id"] for t in business.get("/tasks").get_json()] == [task["id"]]
    assert business.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "a"}}).status_code == 200


CONDITIONS = [
    # JUEL's `empty`: null, "" or no items; a 0 or a false is a value (was `not`: taken for empty).
    ("${empty t.count}", "end_b"),
    ("${not empty t.count}", "end_a"),
    ('${t.decision == "a"}', "end_a"),
    ("#{t.decision eq 'a'}", "end_a"),
    ('${t.decision != "a" && t.decision != "b"}', "end_b"),
    ('${!(t.decision == "a")}', "end_b"),
    ('=t.decision = "a"', "end_a"),
    ('=t.decision != "a" and t.decision != "b"', "end_b"),
    ('=not(t.decision = "a")', "end_b"),
]


# FORM with a number beside the decision.
COUNT_FORM = FORM.replace(
    b'"components": [', b'"components": [{"type": "number", "key": "count", "label": "Count"}, ', 1
)


@pytest.mark.parametrize(("condition", "end"), CONDITIONS)
def test_juel_and_feel_conditions_choose_the_branch_camunda_would(owner, people, condition, end):
    body = ZEEBE_TASK.replace('=t.decision = "a"', condition.replace("&", "&amp;"))
    deploy(owner, {"z.bpmn": bpmn(body, "z", namespaces=ZEEBE_NS), "f.form": COUNT_FORM})
    [task] = people["business"].post("/processes/z/instances", {"data": {}}).get_json()["tasks"]
    done = people["it"].post(f"/tasks/{task['id']}/complete", {"data": {"decision": "a", "count": 0}})
    assert done.status_code == 200, done.get_json()
    final = people["it"].get(f"/instances/{task['instance_id']}").get_json()
    assert (final["status"], end in final["completed_elements"]) == ("completed", True)


def test_a_feel_condition_the_engine_cannot_run_is_refused_at_deploy_naming_it(owner, app):
    body = ZEEBE_TASK.replace('=t.decision = "a"', "=some x in t.items satisfies x > 1")
    response = owner.client.post(
        f"{API}/deployments",
        headers=owner.headers,
        data=multipart({"z.bpmn": bpmn(body, "z", namespaces=ZEEBE_NS), "f.form": FORM}),
        content_type="multipart/form-data",
    )
    [problem] = response.get_json()["problems"]
    assert (response.status_code, problem["element"]) == (400, "chosen_a")
    assert "some x in" in problem["message"]
    assert owner.get("/processes/z/versions").status_code == 404


@pytest.mark.parametrize(
    ("attributes", "words"),
    [
        ('camunda:assignee="${nobody_set_this}"', "assignee '${nobody_set_this}'"),
        ('camunda:dueDate="${nobody_set_this}"', "due date '${nobody_set_this}'"),
        ('camunda:dueDate="${initiator}"', "due date '${initiator}'"),  # a name, no date
    ],
)
def test_an_assignee_or_due_date_the_data_cannot_give_is_an_incident_at_the_task(
    owner, people, attributes, words
):
    """They made the start (and every later read of the instance) a 500."""
    deploy(owner, {"d.bpmn": bpmn(user_task(attributes=attributes), "d"), "f.form": FORM})
    started = people["it"].post("/processes/d/instances", {"data": {}})
    assert started.status_code == 201
    body = started.get_json()
    assert (body["status"], body["tasks"], body["error"]["element"]) == ("error", [], "t")
    assert words in body["error"]["message"]
    again = people["admin"].get(f"/instances/{body['id']}").get_json()
    assert (again["status"], again["error"]) == ("error", body["error"])

"""Who may do which task: each group (and an admin) against each user task of the procedure.

The table is the regulation's (SPEC: one department per step), written out here rather than read
from the diagrams, so a task drawn in the wrong lane fails the test. Instances are moved to each
task with engine calls; every attempt is then made through the API.
"""

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from apiclient import API, REQUEST, Driver, People, form_data, snapshot

import engine
from web import create_app
from web.extensions import db

ROOT = Path(__file__).resolve().parents[2]
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
PASSWORD = "table-password-1"

WHO = {
    "preliminary_review": "it",
    "revise_request": "business",  # and only the applicant: see below
    "requirement_analysis": "it",
    "risk_identification": "it",
    "risk_response": "it",
    "analysis_report": "it",
    "initiation_application": "it",
    "budget_audit": "finance",
    "initiation_review": "management",
    "change_review": "it",
    "change_approval": "management",
    "cost_overrun_review": "finance",
    "sign_contract": "it",
    "implementation_plan": "vendor",
    "plan_review": "it",
    "assign_business_testers": "business",
    "implement": "vendor",
    "risk_reassessment": "it",
    "reassessment_response": "it",
    "self_test": "vendor",
    "joint_test": "qa",
    "rectify": "vendor",
    "acceptance": "it",
    "business_acceptance": "business",
    "training": "vendor",
    "training_assessment": "it",
    "golive_plan": "it",
    "golive": "it",
    "inspection": "it",
    "resolve_support_request": "vendor",
    "confirm_support_resolution": "it",
    "project_closure": "it",
}
# `business` (business1) starts every instance; `business2` is another member of the group.
CALLERS = ("business", "business2", "it", "finance", "management", "vendor", "qa", "admin")


def allowed(task, caller):
    if task == "revise_request":
        return caller == "business"
    return caller.rstrip("2") == WHO[task]


def test_the_table_covers_every_user_task_of_the_diagrams():
    drawn = {
        node.get("id")
        for path in (ROOT / "processes").glob("*.bpmn")
        # document_review runs on its own, per document: tests/processes/test_document_review.py
        # shows that only IT reviews and only the author revises.
        if path.name != "document_review.bpmn"
        for node in ET.parse(path).iter(f"{BPMN}userTask")
    }
    assert drawn == set(WHO)


# One app for the whole table: users and tokens are made once (password hashing is slow on
# purpose); every test starts its own instance, and compares only that instance's tasks.
@pytest.fixture(scope="module")
def table_app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('table') / 'table.db'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t"})
    app.config["ENGINE_CLOCK"] = engine.ManualClock()
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        engine.deploy(
            db.session, engine.bundle_files(ROOT / "processes", ROOT / "forms"), deployed_by="tests"
        )
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def table_people(table_app):
    client = table_app.test_client()

    def make_user(username, *groups, admin=False):
        with table_app.app_context():
            user = engine.create_user(db.session, username, PASSWORD, groups, is_admin=admin)
            db.session.commit()
            return user

    def token_for(user):
        response = client.post(f"{API}/auth/token", json={"username": user.username, "password": PASSWORD})
        return response.get_json()["token"]

    people = People(make_user, token_for, client)
    for name in CALLERS:
        people[name]
    return people


@pytest.mark.parametrize("task_name", list(WHO))
def test_only_the_tasks_group_may_read_and_complete_it(table_app, table_people, task_name):
    drive = Driver(table_app, table_app.config["ENGINE_CLOCK"])
    iid = drive.start(table_people["business"].user)
    task = drive.reach(iid, task_name)
    url = f"/tasks/{task.id}"
    values = {}

    before = snapshot(table_app)
    for caller in (c for c in CALLERS if not allowed(task_name, c)):
        person = table_people[caller]
        listed = [t["id"] for t in person.get("/tasks", instance_id=iid).get_json()]
        assert task.id not in listed, caller
        expected_read = 200 if caller == "admin" else 403  # an admin may look, not act
        opened = person.get(url)
        assert opened.status_code == expected_read, caller
        values = opened.get_json().get("data", values)
        response = person.submit(task.id, form_data(task, values))
        assert (response.status_code, response.get_json()["error"]) == (403, "forbidden"), caller
        assert person.post(f"{url}/claim").status_code == 403, caller
    assert snapshot(table_app) == before

    members = [table_people[c] for c in CALLERS if allowed(task_name, c)]
    for member in members:
        assert task.id in [t["id"] for t in member.get("/tasks", instance_id=iid).get_json()]
        assert member.get(url).status_code == 200
    member = members[0]
    response = member.submit(task.id, form_data(task, member.get(url).get_json()["data"]))
    assert response.status_code == 200, response.get_json()
    events = member.get(f"/instances/{iid}/events").get_json()
    done = [
        (e["task"], e["actor"]) for e in events if e["task_id"] == task.id and e["type"] == "task_completed"
    ]
    assert done == [(task_name, member.user.username)]


def test_only_the_department_the_start_event_is_drawn_in_starts_the_procedure(app, people):
    """The request's start event is in the business lane (R3.1.1: the business department
    raises requirements): other departments get a 403 and nothing is started; an admin may."""
    for group in ("it", "finance", "management", "vendor", "qa", "process_owner"):
        response = people[group].post("/processes/software_upgrade/instances", {"data": dict(REQUEST)})
        assert response.status_code == 403, (group, response.get_json())
        assert "business starts it" in response.get_json()["message"]
    assert people["it"].get("/instances").get_json()["total"] == 0
    assert (
        people["business"].post("/processes/software_upgrade/instances", {"data": dict(REQUEST)}).status_code
        == 201
    )

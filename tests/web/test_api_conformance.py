"""Outside material through the API: the Camunda Forms quickstart end to end, and the 21 MIWG
reference diagrams, each deployed or refused with reasons — never a server error."""

from pathlib import Path

import pytest
from apiclient import API, Caller
from bundles import multipart

import engine

SHARED = Path(__file__).resolve().parents[3] / "shared" / "conformance"
pytestmark = pytest.mark.skipif(
    not SHARED.exists(), reason="../shared/conformance is not beside this checkout"
)
QUICKSTART = SHARED / "camunda-forms-quickstart"
MIWG = sorted((SHARED / "miwg-reference").glob("*.bpmn")) if SHARED.exists() else []


@pytest.fixture
def owner(make_user, token_for, client):
    user = make_user("olga", "process_owner")
    return Caller(client, user, token_for(user))


def deploy(caller, files):
    return caller.client.post(
        f"{API}/deployments",
        headers=caller.headers,
        data=multipart(files),
        content_type="multipart/form-data",
    )


def test_the_camunda_forms_quickstart_deploys_unchanged_and_runs_to_its_end(
    owner, people, make_user, token_for
):
    files = engine.bundle_files(QUICKSTART)
    response = deploy(owner, files)
    assert (response.status_code, response.get_json()) == (
        201,
        {"processes": [{"id": "camundaFormsQuickstart", "version": 1}]},
    )
    for name, content in files.items():
        download = owner.get(f"/processes/camundaFormsQuickstart/versions/1/sources/{name}")
        assert download.data == content
    clerk = people["business"]
    start_form = clerk.get("/processes/camundaFormsQuickstart").get_json()["start_form"]
    assert [c["key"] for c in start_form["components"] if "key" in c] == [
        "creditor",
        "amount",
        "invoiceNumber",
    ]
    invoice = {"creditor": "Great Pizza for Everyone Inc.", "amount": "300", "invoiceNumber": "C-123"}
    started = clerk.post("/processes/camundaFormsQuickstart/instances", {"data": invoice})
    assert started.status_code == 201, started.get_json()
    instance = started.get_json()
    [task] = instance["tasks"]
    assert (task["name"], task["assignee"]) == ("UserTask_1", "demo")
    demo_user = make_user("demo")
    demo = Caller(clerk.client, demo_user, token_for(demo_user))
    assert (
        clerk.post(f"/tasks/{task['id']}/complete", {"data": {**invoice, "approved": "true"}}).status_code
        == 403
    )
    opened = demo.get(f"/tasks/{task['id']}").get_json()
    assert [c["key"] for c in opened["schema"]["components"] if "key" in c][-2:] == ["approved", "approvedBy"]
    # A Camunda Form's fields are process variables: the task form opens with the invoice.
    assert {key: opened["data"].get(key) for key in invoice} == invoice
    done = demo.post(
        f"/tasks/{task['id']}/complete", {"data": {**invoice, "approved": "true", "approvedBy": "demo"}}
    )
    assert done.status_code == 200, done.get_json()
    final = demo.get(f"/instances/{instance['id']}").get_json()
    assert (final["status"], final["tasks"]) == ("completed", [])
    assert "EndEvent_1" in final["completed_elements"]
    # Each submission is also kept under the element that asked for it.
    assert final["data"]["StartEvent_1"] == invoice
    assert (final["data"]["UserTask_1"]["approved"], final["data"]["approved"]) == ("true", "true")


@pytest.mark.parametrize("path", MIWG, ids=[p.name for p in MIWG])
def test_a_reference_diagram_is_deployed_or_refused_with_reasons_never_a_500(owner, path):
    response = deploy(owner, {path.name: path.read_bytes()})
    body = response.get_json()
    assert response.status_code in (201, 400), body
    if response.status_code == 400:
        assert body["error"] == "deployment_refused"
        assert body["problems"] and all(p["message"] and p["file"] for p in body["problems"])
    else:
        assert body["processes"]

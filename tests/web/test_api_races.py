"""Real threads racing through the REST API (on the app's database: `--db=sqlite|postgresql`)."""

import threading

from apiclient import API, form_data
from bundles import multipart
from sqlalchemy.orm import Session

import engine
import engine.deployments as deployments
import engine.plans as plans
from web.extensions import db


def race(app, calls):
    """Run `calls` [(caller, task_id, data)] at once, each on its own client; returns the
    responses' (status, body) in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def post(index, caller, task_id, data):
        client = app.test_client()
        barrier.wait()
        response = client.post(f"{API}/tasks/{task_id}/complete", headers=caller.headers, json={"data": data})
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=post, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def opened(caller, task):
    return form_data(task, caller.get(f"/tasks/{task.id}").get_json()["data"])


def test_parallel_branches_completed_at_once_both_succeed(app, drive, people):
    finance, management = people["finance"], people["management"]
    instance_id = drive.start(people["business"].user)
    audit = drive.reach(instance_id, "budget_audit")
    review = drive.task(instance_id, "initiation_review")
    calls = [(finance, audit.id, opened(finance, audit)), (management, review.id, opened(management, review))]
    results = race(app, calls)
    assert [status for status, _ in results] == [200, 200], results
    events = finance.get(f"/instances/{instance_id}/events").get_json()
    done = sorted(e["task"] for e in events if e["type"] == "task_completed")
    assert done.count("budget_audit") == done.count("initiation_review") == 1
    instance = finance.get(f"/instances/{instance_id}").get_json()
    assert instance["data"]["budget_audit"]["decision"] == "approve"
    assert instance["data"]["initiation_review"]["decision"] == "approve"
    assert {"budget_audit", "initiation_review"}.isdisjoint(t["name"] for t in instance["tasks"])
    assert instance["tasks"], "the approved initiation goes on to its next step"


def test_one_task_completed_twice_at_once_one_200_one_409(app, drive, people):
    it1, it2 = people["it"], people["it2"]
    instance_id = drive.start(people["business"].user)
    task = drive.task(instance_id, "preliminary_review")
    data = opened(it1, task)
    results = race(app, [(it1, task.id, data), (it2, task.id, data)])
    assert sorted(status for status, _ in results) == [200, 409], results
    events = it1.get(f"/instances/{instance_id}/events").get_json()
    assert [e["task"] for e in events if e["type"] == "task_completed"] == ["preliminary_review"]
    assert [t.name for t in drive.ready(instance_id)] == ["requirement_analysis"]


def test_two_plans_for_one_year_created_at_once_one_is_a_409_not_a_500(app, people, monkeypatch):
    """Both requests find no plan for 2027; the database keeps the first one's. The second gets a
    409 that says so, and the year has one plan."""
    it = people["it"]
    check_money = plans._money

    def the_other_request_commits_first(*args):
        monkeypatch.setattr(plans, "_money", check_money)
        with app.app_context(), Session(db.engine) as other, other.begin():
            plans.create_plan(other, it.user.actor, year=2027, budget_ceiling=1, owner="it1")
        return check_money(*args)

    monkeypatch.setattr(plans, "_money", the_other_request_commits_first)
    response = it.post("/plans", {"year": 2027, "budget_ceiling": 5, "owner": "it1"})
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"] == "conflict"
    assert "at the same moment" in response.get_json()["message"]
    with app.app_context():
        admin = engine.Actor("root", frozenset(), is_admin=True)
        found = [(p.year, p.version, str(p.budget_ceiling)) for p in engine.list_plans(db.session, admin)]
    assert found == [(2027, 1, "1.00")]  # the first request's, nothing of the second


def test_two_deployments_taking_one_version_number_one_is_a_409_naming_the_process(
    app, client, make_user, token_for, monkeypatch
):
    """Both read version 1 as the latest; the database keeps the first one's version 2. The
    second answers 409 saying which process (it said only "the same thing"), and stores nothing."""
    owner = make_user("olga", "process_owner")
    files = engine.bundle_files("processes", "forms")
    diagram = files["software_upgrade.bpmn"]
    changed = {
        **files,
        "software_upgrade.bpmn": diagram.replace("需求初審".encode(), "需求初步審核".encode()),
    }
    latest = deployments._latest

    def the_other_deployment_commits_right_after(session, process_id):
        found = latest(session, process_id)
        if process_id == "software_upgrade":
            monkeypatch.setattr(deployments, "_latest", latest)
            with app.app_context(), Session(db.engine) as other, other.begin():
                engine.deploy(other, changed, deployed_by="other")
        return found

    monkeypatch.setattr(deployments, "_latest", the_other_deployment_commits_right_after)
    response = client.post(
        f"{API}/deployments",
        headers={"Authorization": f"Bearer {token_for(owner)}"},
        data=multipart(changed),
        content_type="multipart/form-data",
    )
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"] == "conflict"
    assert response.get_json()["message"].startswith("另一個部署剛同時建立了 software_upgrade 的版本 2")
    with app.app_context():
        versions = engine.list_versions(db.session, "software_upgrade")
        assert [(v.version, v.deployed_by) for v in versions] == [(2, "other"), (1, "tests")]

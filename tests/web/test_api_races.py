"""Real threads racing through the REST API (on the app's database: `--db=sqlite|postgresql`)."""

import threading

from apiclient import API, form_data
from sqlalchemy.orm import Session

import engine
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

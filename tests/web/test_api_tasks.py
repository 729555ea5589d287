"""Tasks through the API: the inbox, a task's form, claims, completions that race or are refused."""

import threading

from apiclient import snapshot

PRELIMINARY = {"decision": "accept", "in_it_plan": True}


def names(tasks):
    return sorted(t["name"] for t in tasks)


def completions(caller, iid):
    events = caller.get(f"/instances/{iid}/events").get_json()
    return [(e["task"], e["actor"]) for e in events if e["type"] == "task_completed"]


def test_the_inbox_lists_what_the_caller_may_act_on(people, clock):
    first = people["business"].start()["id"]
    second = people["business"].start(title="第二個需求")["id"]
    it, finance = people["it"], people["finance"]
    inbox = it.get("/tasks").get_json()
    assert [(t["instance_id"], t["name"], t["group"]) for t in inbox] == [
        (first, "preliminary_review", "it"),
        (second, "preliminary_review", "it"),
    ]
    assert set(inbox[0]) >= {
        "id",
        "instance_id",
        "name",
        "title",
        "group",
        "assignee",
        "form",
        "created_at",
        "due_at",
    }
    assert (inbox[1]["title"], inbox[1]["form"], inbox[1]["instance_title"]) == (
        "需求初審",
        "preliminary_review",
        "第二個需求",
    )
    assert inbox[0]["created_at"] == "2026-01-05T09:00:00+00:00"
    assert [t["instance_id"] for t in it.get("/tasks", instance_id=second).get_json()] == [second]
    assert it.get("/tasks", assigned="me").get_json() == []
    assert len(it.get("/tasks", assigned="group").get_json()) == 2
    assert finance.get("/tasks").get_json() == []


def test_a_task_comes_with_its_form_and_the_values_it_opens_with(people):
    iid = people["business"].start()["id"]
    it = people["it"]
    task = it.task(iid, "preliminary_review")
    body = it.get(f"/tasks/{task['id']}").get_json()
    assert {k: body[k] for k in task} == task
    assert body["schema"]["id"] == "preliminary_review"
    keys = {c.get("key") for c in body["schema"]["components"]}
    assert {"decision", "comment", "in_it_plan"} <= keys
    assert body["data"]["requirement_request"]["title"] == "辦公自動化系統升級"


def test_a_task_of_another_group_is_403_to_read_and_to_complete_but_an_admin_may_read_it(app, people):
    iid = people["business"].start()["id"]
    task = people["it"].task(iid, "preliminary_review")
    before = snapshot(app)
    finance, admin = people["finance"], people["admin"]
    assert finance.get(f"/tasks/{task['id']}").status_code == 403
    assert finance.submit(task["id"], PRELIMINARY).status_code == 403
    assert admin.get(f"/tasks/{task['id']}").status_code == 200
    assert admin.submit(task["id"], PRELIMINARY).get_json()["error"] == "forbidden"
    assert snapshot(app) == before


def test_a_rejected_submission_is_422_with_field_errors_and_leaves_everything_as_it_was(app, people):
    iid = people["business"].start()["id"]
    it = people["it"]
    task = it.task(iid, "preliminary_review")
    before = snapshot(app)
    instance_before = it.get(f"/instances/{iid}").get_json()
    events_before = it.get(f"/instances/{iid}/events").get_json()

    response = it.submit(task["id"], {"decision": "maybe", "comment": 42, "colour": "red"})

    assert response.status_code == 422
    body = response.get_json()
    assert (body["error"], sorted(body["errors"])) == ("validation_failed", ["colour", "comment", "decision"])
    assert all(isinstance(m, str) for messages in body["errors"].values() for m in messages)
    assert snapshot(app) == before
    assert it.get(f"/instances/{iid}").get_json() == instance_before
    assert it.get(f"/instances/{iid}/events").get_json() == events_before
    assert it.get("/tasks").get_json()[0]["id"] == task["id"]
    # and the same task still takes a valid submission
    assert it.submit(task["id"], PRELIMINARY).status_code == 200


def test_money_takes_at_most_the_cents_its_field_shows(app, people):
    """A money field (`decimalDigits: 2`) took any number of places: 0.1 + 0.2 was stored as
    0.30000000000000004 and added into the project's costs."""
    iid = people["business"].start()["id"]
    it = people["it"]
    assert it.complete(iid, "preliminary_review").status_code == 200
    before = snapshot(app)
    for amount in (1000.255, 0.1 + 0.2):
        response = it.complete(iid, "requirement_analysis", cost_licences=amount)
        assert response.status_code == 422
        assert "2" in response.get_json()["errors"]["cost_licences"][0]
    assert snapshot(app) == before
    done = it.complete(iid, "requirement_analysis", cost_licences=1000.25)
    assert done.status_code == 200
    assert done.get_json()["data"]["requirement_analysis"]["cost_licences"] == 1000.25


def test_a_rejected_start_is_422_and_stores_nothing(app, people):
    before = snapshot(app)
    response = people["business"].post(
        "/processes/software_upgrade/instances", {"data": {"title": "x" * 201}}
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {"title", "system", "content"} <= set(errors)
    assert snapshot(app) == before


def test_a_second_completion_of_a_task_is_409_and_records_nothing(people):
    iid = people["business"].start()["id"]
    it, it2 = people["it"], people["it2"]
    task = it.task(iid, "preliminary_review")
    assert it.submit(task["id"], PRELIMINARY).status_code == 200
    second = it2.submit(task["id"], PRELIMINARY)
    assert second.status_code == 409
    assert second.get_json()["error"] == "conflict"
    assert it.get(f"/tasks/{task['id']}").status_code == 409
    assert completions(it, iid) == [("preliminary_review", "it1")]
    assert names(it2.get(f"/instances/{iid}").get_json()["tasks"]) == ["requirement_analysis"]


def test_two_completions_racing_in_threads_one_200_one_409_one_event(app, people):
    iid = people["business"].start()["id"]
    it, other = people["it"], people["it2"]
    task = it.task(iid, "preliminary_review")
    barrier = threading.Barrier(2)
    statuses = []

    def complete(token):
        client = app.test_client()  # one client per thread, like two browsers
        barrier.wait()
        response = client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            headers={"Authorization": f"Bearer {token}"},
            json={"data": PRELIMINARY},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=complete, args=(t,)) for t in (it.token, other.token)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409]
    assert [c[0] for c in completions(it, iid)] == ["preliminary_review"]
    assert names(it.get(f"/instances/{iid}").get_json()["tasks"]) == ["requirement_analysis"]


def test_a_claimed_task_belongs_to_its_claimer_until_given_back(app, people):
    iid = people["business"].start()["id"]
    it, other, finance = people["it"], people["it2"], people["finance"]
    task = it.task(iid, "preliminary_review")

    assert finance.post(f"/tasks/{task['id']}/claim").status_code == 403
    claimed = it.post(f"/tasks/{task['id']}/claim")
    assert claimed.status_code == 200
    assert [(t["id"], t["assignee"]) for t in claimed.get_json()["tasks"]] == [(task["id"], "it1")]
    assert [t["id"] for t in it.get("/tasks", assigned="me").get_json()] == [task["id"]]
    assert other.get("/tasks").get_json() == []

    before = snapshot(app)
    assert other.post(f"/tasks/{task['id']}/claim").get_json()["error"] == "task_claimed"
    assert other.submit(task["id"], PRELIMINARY).status_code == 409
    assert other.post(f"/tasks/{task['id']}/unclaim").status_code == 403
    assert snapshot(app) == before
    # Nor may someone outside the task's groups "give back" a task nobody holds.
    assert it.post(f"/tasks/{task['id']}/unclaim").status_code == 200
    before = snapshot(app)
    assert finance.post(f"/tasks/{task['id']}/unclaim").status_code == 403
    assert snapshot(app) == before
    assert it.post(f"/tasks/{task['id']}/claim").status_code == 200
    before = snapshot(app)
    assert it.post(f"/tasks/{task['id']}/claim").status_code == 200  # again: theirs already
    assert snapshot(app) == before

    assert it.post(f"/tasks/{task['id']}/unclaim").status_code == 200
    assert other.submit(task["id"], PRELIMINARY).status_code == 200
    kinds = [e["type"] for e in it.get(f"/instances/{iid}/events").get_json()]
    assert kinds[:6] == [
        "started",
        "task_claimed",
        "task_unclaimed",
        "task_claimed",
        "task_unclaimed",
        "task_completed",
    ]

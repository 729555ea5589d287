"""Processes and instances as the API shows them: shapes, filters, pages, the event log."""

from apiclient import REQUEST
from sqlalchemy import update

from engine.models import InstanceRecord
from web.extensions import db

INSTANCE_KEYS = {
    "id",
    "process_id",
    "version",
    "status",
    "initiator",
    "data",
    "tasks",
    "created_at",
    "ended_at",
}


def test_processes_are_listed_with_their_latest_version_and_start_form(people):
    it = people["it"]
    processes = it.get("/processes").get_json()
    # the called processes (implementation, testing, go-live) are deployed inside their caller;
    # document_review (R4.3) is started on its own, once per document version
    assert [(p["id"], p["name"], p["version"]) for p in processes] == [
        ("document_review", "文檔審核與歸檔", 1),
        ("software_upgrade", "軟件升級改造", 1),
    ]
    listed = processes[1]
    assert listed["deployed_at"].endswith("+00:00")
    detail = it.get("/processes/software_upgrade").get_json()
    assert {k: detail[k] for k in listed} == listed
    assert detail["start_form"]["id"] == "requirement_request"
    keys = {c.get("key") for c in detail["start_form"]["components"]}
    assert set(REQUEST) <= keys


def test_a_started_instance_is_answered_201_with_the_shape_of_get_instance(people, clock):
    business = people["business"]
    response = business.post("/processes/software_upgrade/instances", {"data": REQUEST})
    assert response.status_code == 201
    started = response.get_json()
    assert set(started) >= INSTANCE_KEYS
    assert started == business.get(f"/instances/{started['id']}").get_json()
    assert (started["process_id"], started["version"], started["status"], started["initiator"]) == (
        "software_upgrade",
        1,
        "running",
        "business1",
    )
    assert (started["created_at"], started["ended_at"]) == ("2026-01-05T09:00:00+00:00", None)
    assert started["data"]["requirement_request"] == REQUEST
    assert [t["name"] for t in started["tasks"]] == ["preliminary_review"]


def test_instances_are_listed_newest_first_filtered_and_paged(people, drive):
    business = people["business"]
    ids = [business.start(title=f"需求{n}")["id"] for n in range(5)]
    drive.complete(ids[1], "preliminary_review", decision="reject")  # ends at once
    it = people["it"]

    first = it.get("/instances", per_page=2).get_json()
    assert (first["total"], first["page"], first["per_page"]) == (5, 1, 2)
    assert [i["id"] for i in first["items"]] == [ids[4], ids[3]]
    # Issue 3's contract: each item as one instance reads, with its data and its ready tasks.
    assert set(first["items"][0]) >= INSTANCE_KEYS
    one = it.get(f"/instances/{ids[4]}").get_json()
    assert (first["items"][0]["data"], first["items"][0]["tasks"]) == (one["data"], one["tasks"])
    assert [t["name"] for t in first["items"][0]["tasks"]] == ["preliminary_review"]
    # What a group may not read is left out of the list as of the instance (R4.3.4).
    listed = people["finance"].get("/instances", per_page=1).get_json()["items"][0]
    assert "requirement_request" not in listed["data"] and "requirement_request" in first["items"][0]["data"]
    # An instance not saved since the data was kept beside the state: read from its state.
    with drive.app.app_context():
        db.session.execute(update(InstanceRecord).where(InstanceRecord.id == ids[4]).values(data=None))
        db.session.commit()
    assert it.get("/instances", per_page=1).get_json()["items"][0]["data"] == one["data"]
    # One whose state cannot be read is listed without data; the list still answers.
    with drive.app.app_context():
        db.session.execute(
            update(InstanceRecord)
            .where(InstanceRecord.id == ids[4])
            .values(state={"format": 1}, version_id=InstanceRecord.version_id + 1)
        )
        db.session.commit()
    listed = it.get("/instances", per_page=2)
    assert listed.status_code == 200 and listed.get_json()["items"][0]["data"] is None
    last = it.get("/instances", per_page=2, page=3).get_json()
    assert [i["id"] for i in last["items"]] == [ids[0]]
    assert it.get("/instances", per_page=2, page=4).get_json()["items"] == []

    completed = it.get("/instances", status="completed").get_json()
    assert ([i["id"] for i in completed["items"]], completed["total"]) == ([ids[1]], 1)
    assert completed["items"][0]["ended_at"] is not None
    assert it.get("/instances", status="running").get_json()["total"] == 4
    assert it.get("/instances", process_id="software_upgrade", status="running").get_json()["total"] == 4
    assert it.get("/instances", process_id="golive_operation").get_json()["total"] == 0


def test_the_event_log_says_who_did_what_when_with_which_data(people, clock):
    iid = people["business"].start()["id"]
    it = people["it"]
    task = it.task(iid, "preliminary_review")
    clock.advance(hours=2)
    assert it.submit(task["id"], {"decision": "accept", "in_it_plan": True}).status_code == 200
    events = it.get(f"/instances/{iid}/events").get_json()
    assert [(e["type"], e["task"], e["actor"], e["at"]) for e in events] == [
        ("started", "requirement_request", "business1", "2026-01-05T09:00:00+00:00"),
        ("task_completed", "preliminary_review", "it1", "2026-01-05T11:00:00+00:00"),
    ]
    assert events[0]["data"] == REQUEST
    assert (events[1]["task_id"], events[1]["data"]) == (
        task["id"],
        {"decision": "accept", "in_it_plan": True},
    )
    assert set(events[0]) == {"seq", "type", "task", "task_id", "actor", "at", "data", "rewound"}

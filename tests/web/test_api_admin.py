"""Issue 5 over the API: admins repair, replay, migrate and undo; everyone else gets 403 and
nothing changes."""

import pytest
from apiclient import snapshot
from bundles import NOTE_FORM, bpmn

import engine
from tests.integration.versions_v2 import version_two
from web.extensions import db


def deploy_version_two(app):
    with app.app_context():
        deployed = engine.deploy(db.session, version_two(engine.bundle_files("processes", "forms")), "po")
        db.session.commit()
    return next(d.version for d in deployed if d.id == "software_upgrade")


def event_log(admin, instance_id):
    return admin.get(f"/instances/{instance_id}/events").get_json()


@pytest.fixture
def started(people, drive):
    return drive.start(people["business"].user)


def test_an_incident_then_a_retry_after_the_fix(people, drive, started):
    admin = people["admin"]
    drive.reach(started, "golive")
    # The contract's support period goes missing: going live cannot start the support period.
    response = admin.patch(f"/instances/{started}/data", {"changes": {"sign_contract": {}}, "reason": "模擬"})
    assert response.status_code == 200
    drive.complete(started, "golive", decision="success")
    failed = admin.get(f"/instances/{started}").get_json()
    assert (failed["status"], failed["error"]["element"]) == ("error", "start_support_period")
    assert "support_months" in failed["error"]["message"]

    fix = {"changes": {"sign_contract": {"support_months": 1}}, "reason": "補錄支持期"}
    edited = admin.patch(f"/instances/{started}/data", fix)
    assert edited.status_code == 200
    retried = admin.post(f"/instances/{started}/retry", {"reason": "支持期已補錄"})
    assert retried.status_code == 200
    assert (retried.get_json()["status"], retried.get_json()["error"]) == ("running", None)
    logged = [e for e in event_log(admin, started) if e["type"] in ("data_edited", "retried")]
    assert [(e["type"], e["actor"]) for e in logged] == [
        ("data_edited", "admin1"),
        ("data_edited", "admin1"),
        ("retried", "admin1"),
    ]
    assert logged[-1]["data"]["reason"] == "支持期已補錄"
    assert logged[1]["data"]["changes"]["sign_contract"] == {"old": {}, "new": {"support_months": 1}}


def test_an_assignee_no_user_could_be_is_an_incident_at_its_task_then_a_fix_and_a_retry(
    app, people, drive, started
):
    """`revise_request` goes to `${initiator}`. An initiator edited to 100 characters made the
    step before it a 500 on PostgreSQL (no task row holds such a name), and every later try."""
    admin, business = people["admin"], people["business"]
    edit = {"changes": {"initiator": "x" * 100}, "reason": "誤改"}
    assert admin.patch(f"/instances/{started}/data", edit).status_code == 200  # no step reads it yet
    done = people["it"].complete(started, "preliminary_review", decision="return")
    assert done.status_code == 200
    failed = done.get_json()
    assert (failed["status"], failed["tasks"]) == ("error", [])
    assert failed["error"]["element"] == "revise_request"
    assert "can be no user name" in failed["error"]["message"]

    fix = {"changes": {"initiator": business.user.username}, "reason": "改回發起人"}
    assert admin.patch(f"/instances/{started}/data", fix).status_code == 200
    retried = admin.post(f"/instances/{started}/retry", {"reason": "已改回"}).get_json()
    assert retried["status"] == "running"
    [task] = retried["tasks"]
    assert (task["name"], task["assignee"]) == ("revise_request", business.user.username)

    # With the step waiting, the same edit is refused: nothing stored, the step still opens.
    before = snapshot(app)
    refused = admin.patch(f"/instances/{started}/data", edit)
    assert refused.status_code == 409 and "revise_request: assignee" in refused.get_json()["message"]
    assert snapshot(app) == before
    assert business.get(f"/tasks/{task['id']}").status_code == 200


TIMED = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t0"/>
    <bpmn:userTask id="t0" camunda:candidateGroups="it" camunda:formRef="check"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t0" targetRef="w"/>
    <bpmn:intermediateCatchEvent id="w"><bpmn:timerEventDefinition>
      <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">${wait_for}</bpmn:timeDuration>
    </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="w" targetRef="t1"/>
    <bpmn:userTask id="t1" camunda:candidateGroups="it" camunda:formRef="check"/>
    <bpmn:sequenceFlow id="f4" sourceRef="t1" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""


def test_a_timer_that_cannot_be_evaluated_when_reached_is_an_incident_then_a_fix_and_a_retry(
    app, people, drive
):
    """The timer after a task read a variable nobody set: each completion of the task was a 500,
    so it could never be done; and an incident at a timer could not be retried (no failed step)."""
    with app.app_context():
        engine.deploy(db.session, {"timed.bpmn": bpmn(TIMED, "timed"), "check.form": NOTE_FORM}, "po")
        db.session.commit()
    it, admin = people["it"], people["admin"]
    started = it.post("/processes/timed/instances", {"data": {}}).get_json()
    done = it.submit(started["tasks"][0]["id"], {"note": "好"})
    assert done.status_code == 200
    assert (done.get_json()["status"], done.get_json()["error"]["element"]) == ("error", "w")
    assert "wait_for" in done.get_json()["error"]["message"]

    fix = {"changes": {"wait_for": "P2D"}, "reason": "補上等待時間"}
    assert admin.patch(f"/instances/{started['id']}/data", fix).status_code == 200
    retried = admin.post(f"/instances/{started['id']}/retry", {"reason": "已補"})
    assert retried.status_code == 200, retried.get_json()
    assert (retried.get_json()["status"], retried.get_json()["tasks"]) == ("running", [])
    assert drive.wait(3) == 1
    assert [t["name"] for t in it.get(f"/instances/{started['id']}").get_json()["tasks"]] == ["t1"]


def test_rewind_to_a_step_from_the_history_then_complete_it_again(people, drive, started):
    admin = people["admin"]
    drive.reach(started, "risk_response")
    analysis = next(e for e in event_log(admin, started) if e["task"] == "requirement_analysis")
    response = admin.post(
        f"/instances/{started}/rewind", {"task_id": analysis["task_id"], "reason": "分析有誤"}
    )
    assert response.status_code == 200
    assert response.get_json()["waiting_at"] == ["requirement_analysis"]
    events = event_log(admin, started)
    assert [e["task"] for e in events if e["rewound"]] == ["requirement_analysis", "risk_identification"]
    drive.complete(started, "requirement_analysis")
    drive.complete(started, "risk_identification")
    assert [t.name for t in drive.ready(started)] == ["risk_response"]
    replay = admin.post(f"/instances/{started}/replay", {"dry_run": True}).get_json()
    assert (replay["matches"], replay["divergence"]) == (True, None)


def test_admins_watch_instances_and_incidents_through_the_api(people, drive, started):
    """Issue 5's watch list is in the API too: filters by process, version, status, waiting step,
    age and initiator; incidents with their error."""
    admin = people["admin"]
    other = drive.start(people["business"].user)
    drive.reach(other, "requirement_analysis")
    found = admin.get("/admin/instances", waiting_at="preliminary_review").get_json()
    assert [i["id"] for i in found["items"]] == [started] and found["total"] == 1
    by_all = admin.get(
        "/admin/instances", process_id="software_upgrade", version=1, status="running", initiator="business1"
    ).get_json()
    assert sorted(i["id"] for i in by_all["items"]) == sorted([started, other])
    assert admin.get("/admin/instances", older_than_days=30).get_json()["total"] == 0
    assert admin.get("/admin/instances", older_than_days=0).status_code == 400
    assert admin.get("/admin/instances", colour="red").status_code == 400
    assert people["it"].get("/admin/instances").status_code == 403
    assert admin.get("/admin/incidents").get_json() == []
    drive.reach(started, "golive")
    admin.patch(f"/instances/{started}/data", {"changes": {"sign_contract": {}}, "reason": "模擬"})
    drive.complete(started, "golive", decision="success")
    [incident] = admin.get("/admin/incidents").get_json()
    assert (incident["id"], incident["status"]) == (started, "error")
    assert incident["error"]["element"] == "start_support_period"
    assert people["it"].get("/admin/incidents").status_code == 403


def test_repairs_with_data_that_does_not_fit_are_refused_and_store_nothing(app, people, drive, started):
    admin = people["admin"]
    before = snapshot(app)
    step = admin.patch(
        f"/instances/{started}/data", {"changes": {"preliminary_review": "zzz"}, "reason": "r"}
    )
    assert (
        step.status_code == 409 and "preliminary_review is the data of a step" in step.get_json()["message"]
    )
    empty = admin.patch(f"/instances/{started}/data", {"changes": {}, "reason": "r"})
    assert empty.status_code == 400 and "changes" in empty.get_json()["message"]
    assert snapshot(app) == before
    [task] = drive.ready(started)
    assert people["it"].get(f"/tasks/{task.id}").status_code == 200  # its form still opens
    drive.reach(started, "risk_identification")
    [task] = drive.ready(started)
    before = snapshot(app)
    skip = {"reason": "線下已識別", "data": {"risks": "not a list"}}
    refused = admin.post(f"/instances/{started}/tasks/{task.id}/skip", skip)
    assert refused.status_code == 409 and "does not fit the step" in refused.get_json()["message"]
    assert snapshot(app) == before


def test_skip_suspend_resume_and_terminate_each_with_a_reason(people, drive, started):
    admin = people["admin"]
    [task] = drive.ready(started)
    skipped = admin.post(
        f"/instances/{started}/tasks/{task.id}/skip", {"reason": "線下已審", "data": {"decision": "accept"}}
    )
    assert skipped.get_json()["waiting_at"] == ["requirement_analysis"]
    assert admin.post(f"/instances/{started}/suspend", {}).status_code == 400  # a reason is required
    blank = admin.post(f"/instances/{started}/suspend", {"reason": "   "})  # was a 409, a conflict
    assert blank.status_code == 400 and "not only spaces" in blank.get_json()["message"]
    assert (
        admin.post(f"/instances/{started}/suspend", {"reason": "等待預算"}).get_json()["status"]
        == "suspended"
    )
    assert admin.post(f"/instances/{started}/resume").get_json()["status"] == "running"
    assert admin.get(f"/instances/{started}").get_json()["ended_at"] is None
    [open_task] = drive.ready(started)
    ended = admin.post(f"/instances/{started}/terminate", {"reason": "項目取消"})
    assert (ended.status_code, ended.get_json()["status"]) == (200, "terminated")
    assert ended.get_json()["ended_at"] is not None  # terminated is ended: retention counts from it
    assert admin.get(f"/instances/{started}").get_json()["ended_at"] == ended.get_json()["ended_at"]
    # Its open task is no longer ready (409), not a task that never was (404).
    late = people["it"].post(f"/tasks/{open_task.id}/complete", {"data": {"decision": "accept"}})
    assert late.status_code == 409 and "no longer ready" in late.get_json()["message"]
    assert people["it"].get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 404
    again = admin.post(f"/instances/{started}/terminate", {"reason": "再次"})
    assert (again.status_code, again.get_json()["error"]) == (409, "instance_state")
    kinds = [(e["type"], (e["data"] or {}).get("reason")) for e in event_log(admin, started)][1:]
    assert kinds == [
        ("task_skipped", "線下已審"),
        ("suspended", "等待預算"),
        ("resumed", ""),
        ("terminated", "項目取消"),
    ]


def test_a_replay_on_a_changed_version_names_the_event_where_it_diverges(app, people, drive, started):
    admin = people["admin"]
    drive.reach(started, "analysis_report")
    version = deploy_version_two(app)
    same = admin.post(f"/instances/{started}/replay", {"dry_run": True})
    assert (same.status_code, same.get_json()["matches"]) == (200, True)
    other = admin.post(f"/instances/{started}/replay", {"version": version, "dry_run": True}).get_json()
    analysis = next(e for e in event_log(admin, started) if e["task"] == "requirement_analysis")
    assert (other["matches"], other["version"], other["replaced"]) == (False, 2, False)
    assert (other["divergence"]["seq"], other["divergence"]["event"]) == (analysis["seq"], "task_completed")
    assert "requirement_analysis is not ready" in other["divergence"]["reason"]


def test_a_replay_rebuilds_an_instance_whose_stored_state_cannot_be_read(app, people, drive, started):
    """The one repair for a state that no longer reads (a retry and a migration must load it):
    the replay answered 500, as it loaded the stored state before comparing."""
    admin = people["admin"]
    drive.reach(started, "requirement_analysis")
    with app.app_context():
        db.session.get(engine.models.InstanceRecord, started).state = {"format": 1}
        db.session.commit()
    dry = admin.post(f"/instances/{started}/replay", {"dry_run": True})
    body = dry.get_json()
    assert (dry.status_code, body["matches"], body["replaced"]) == (200, False, False)
    assert body["divergence"]["reason"].startswith("the stored state cannot be read")
    repaired = admin.post(
        f"/instances/{started}/replay", {"dry_run": False, "reason": "狀態損壞，依日誌重建"}
    )
    assert (repaired.status_code, repaired.get_json()["replaced"]) == (200, True)
    instance = admin.get(f"/instances/{started}").get_json()
    assert (instance["status"], instance["waiting_at"]) == ("running", ["requirement_analysis"])
    logged = event_log(admin, started)[-1]
    assert (logged["type"], logged["data"]["reason"]) == ("replayed", "狀態損壞，依日誌重建")
    drive.complete(started, "requirement_analysis")  # and it goes on


def test_a_step_from_the_history_can_be_rewound_to_after_a_replay_rebuilt_the_state(
    app, people, drive, started
):
    """A replay that writes (or a migration by replay) gives every task a new id, while the event
    log keeps the old ones: each rewind chosen from the history answered 404."""
    admin = people["admin"]
    drive.reach(started, "risk_response")
    assert admin.post(f"/instances/{started}/replay", {"dry_run": False, "reason": "重建"}).get_json()[
        "replaced"
    ]
    analysis = next(e for e in event_log(admin, started) if e["task"] == "requirement_analysis")
    rewound = admin.post(
        f"/instances/{started}/rewind", {"task_id": analysis["task_id"], "reason": "重做分析"}
    )
    assert rewound.status_code == 200, rewound.get_json()
    assert rewound.get_json()["waiting_at"] == ["requirement_analysis"]
    logged = event_log(admin, started)[-1]
    assert (logged["type"], logged["task_id"]) == ("rewound", analysis["task_id"])  # as the log knows it
    again = admin.post(f"/instances/{started}/replay", {"dry_run": True}).get_json()
    assert again["matches"], again["divergence"]  # and the log still replays to the stored state
    drive.complete(started, "requirement_analysis")
    # The step is logged under its new id now: a later replay did not know it for the one the
    # log's older events name, and `verify` reported a consistent instance.
    after = admin.post(f"/instances/{started}/replay", {"dry_run": True}).get_json()
    assert after["matches"], after["divergence"]


def test_a_claimed_step_done_after_a_replay_rebuilt_the_state_still_replays(app, people, drive, started):
    drive.reach(started, "requirement_analysis")
    [task] = [t for t in drive.ready(started) if t.name == "requirement_analysis"]
    assert people["it"].post(f"/tasks/{task.id}/claim").status_code == 200
    admin = people["admin"]
    assert admin.post(f"/instances/{started}/replay", {"dry_run": False, "reason": "重建"}).get_json()[
        "replaced"
    ]
    rebuilt = event_log(admin, started)[-1]
    assert rebuilt["type"] == "replayed" and task.id in rebuilt["data"]["task_ids"]  # old id -> new id
    drive.complete(started, "requirement_analysis")
    again = admin.post(f"/instances/{started}/replay", {"dry_run": True}).get_json()
    assert again["matches"], again["divergence"]
    with app.app_context():
        root = engine.Actor("root", frozenset(), is_admin=True)
        assert [r.instance_id for r in engine.verify_instances(db.session, root)] == []


def test_a_rewind_to_a_timer_is_refused_and_changes_nothing(app, people, drive, started):
    """Accepted, it was not marked in the log and the instance no longer replayed."""
    admin = people["admin"]
    drive.reach(started, "inspection")
    fired = next(e for e in event_log(admin, started) if e["type"] == "timer_fired")
    before = snapshot(app)
    refused = admin.post(f"/instances/{started}/rewind", {"task_id": fired["task_id"], "reason": "x"})
    assert (refused.status_code, refused.get_json()["error"]) == (409, "instance_state")
    assert "only a person's step" in refused.get_json()["message"]
    assert snapshot(app) == before


def test_migrate_one_instance_preview_apply_and_undo(app, people, drive, started):
    admin = people["admin"]
    drive.reach(started, "requirement_analysis")
    version = deploy_version_two(app)
    preview = admin.post(f"/instances/{started}/migrate", {"version": version, "dry_run": True})
    body = preview.get_json()
    assert (preview.status_code, body["ok"], body["migrated"], body["instance"]) == (200, True, False, None)
    assert body["diff"]["processes"][0]["removed"] == ["analysis_report"]
    assert admin.get(f"/instances/{started}").get_json()["version"] == 1

    before = snapshot(app)
    for wrong, field in (
        ({"version": version + 0.9}, "version"),
        ({"version": str(version)}, "version"),
        ({"version": version, "dry_run": "no"}, "dry_run"),
        ({"version": version, "dry_run": 0}, "dry_run"),  # was read as false: migrated for real
    ):
        refused = admin.post(f"/instances/{started}/migrate", wrong)  # never read as some other value
        assert refused.status_code == 400 and f"{field}:" in refused.get_json()["message"], wrong
    refused = admin.post("/migrations", {"instance_ids": [started + 0.5], "version": version})
    assert refused.status_code == 400
    replay = admin.post(f"/instances/{started}/replay", {"dry_run": 0, "reason": "x"})
    assert replay.status_code == 400 and "dry_run:" in replay.get_json()["message"]
    assert snapshot(app) == before
    moved = admin.post(
        f"/instances/{started}/migrate", {"version": version, "dry_run": False, "reason": "新版需求評估"}
    ).get_json()
    assert (moved["migrated"], moved["method"], moved["instance"]["version"]) == (True, "diff", 2)
    assert moved["instance"]["waiting_at"] == ["requirement_evaluation"]
    renamed = {"requirement_analysis": "requirement_evaluation"}  # the step it waits at, renamed
    assert event_log(admin, started)[-1]["data"] == {
        "from": 1,
        "to": 2,
        "method": "diff",
        "renamed": renamed,
        "reason": "新版需求評估",
    }

    undone = admin.post(f"/instances/{started}/undo", {"reason": "遷移過早"})
    assert (undone.status_code, undone.get_json()["version"]) == (200, 1)
    assert undone.get_json()["waiting_at"] == ["requirement_analysis"]
    assert event_log(admin, started)[-1]["data"] == {
        "snapshot": 1,
        "undoes": "migration",
        "reason": "遷移過早",
    }
    nothing = admin.post(f"/instances/{started}/undo")
    assert (nothing.status_code, nothing.get_json()["error"]) == (409, "nothing_to_undo")


def test_undo_after_work_on_the_migrated_instance_is_refused(app, people, drive, started):
    """It put back the state from before the migration and kept the later completion in the log:
    the instance no longer replayed, and an undo after a termination silently revived it."""
    admin = people["admin"]
    drive.reach(started, "requirement_analysis")
    version = deploy_version_two(app)
    moved = admin.post(f"/instances/{started}/migrate", {"version": version, "dry_run": False})
    assert moved.status_code == 200
    drive.complete(started, "requirement_evaluation")
    before = snapshot(app)
    refused = admin.post(f"/instances/{started}/undo", {"reason": "遷移過早"})
    assert (refused.status_code, refused.get_json()["error"]) == (409, "instance_state")
    assert "task_completed happened after the migration" in refused.get_json()["message"]
    assert snapshot(app) == before
    replay = admin.post(f"/instances/{started}/replay", {"dry_run": True}).get_json()
    assert (replay["matches"], replay["divergence"]) == (True, None)


def test_an_instance_waiting_in_a_removed_step_is_refused_409_naming_it(app, people, drive, started):
    admin = people["admin"]
    drive.reach(started, "analysis_report")
    version = deploy_version_two(app)
    before = snapshot(app)
    response = admin.post(f"/instances/{started}/migrate", {"version": version, "dry_run": False})
    assert (response.status_code, response.get_json()["error"]) == (409, "migration_refused")
    assert "analysis_report" in response.get_json()["message"]
    assert snapshot(app) == before


def test_a_bulk_migration_with_one_failure_migrates_the_others(app, people, drive):
    admin = people["admin"]
    business = people["business"].user
    ids = [drive.start(business) for _ in range(3)]
    drive.reach(ids[0], "requirement_analysis")
    drive.reach(ids[1], "analysis_report")  # the step version 2 removes
    drive.reach(ids[2], "initiation_application")
    version = deploy_version_two(app)
    dry = admin.post("/migrations", {"instance_ids": ids, "version": version, "dry_run": True}).get_json()
    assert [(r["ok"], r["migrated"]) for r in dry["instances"]] == [
        (True, False),
        (False, False),
        (True, False),
    ]
    assert dry["diffs"][0]["diff"]["processes"][0]["added"] == ["kickoff_meeting"]
    kept = admin.get(f"/instances/{ids[1]}").get_json()
    beyond = admin.post("/migrations", {"instance_ids": [ids[0], 9223372036854775808], "version": version})
    assert beyond.status_code == 400 and "instance_ids" in beyond.get_json()["message"]
    assert admin.get(f"/instances/{ids[0]}").get_json()["version"] == 1  # checked before any moved

    response = admin.post("/migrations", {"instance_ids": ids, "version": version})
    assert response.status_code == 200
    outcomes = [(r["instance_id"], r["ok"], r["migrated"]) for r in response.get_json()["instances"]]
    assert outcomes == [(ids[0], True, True), (ids[1], False, False), (ids[2], True, True)]
    assert "analysis_report" in response.get_json()["instances"][1]["reason"]
    versions = [admin.get(f"/instances/{i}").get_json()["version"] for i in ids]
    assert versions == [2, 1, 2]
    assert admin.get(f"/instances/{ids[1]}").get_json() == kept


ACTIONS = [
    ("post", "/instances/{id}/suspend", {"reason": "x"}),
    ("post", "/instances/{id}/resume", {}),
    ("post", "/instances/{id}/terminate", {"reason": "x"}),
    ("post", "/instances/{id}/retry", {}),
    ("post", "/instances/{id}/rewind", {"task_id": "x", "reason": "x"}),
    ("post", "/instances/{id}/tasks/x/skip", {"reason": "x"}),
    ("patch", "/instances/{id}/data", {"changes": {"a": 1}, "reason": "x"}),
    ("post", "/instances/{id}/replay", {"dry_run": False}),
    ("post", "/instances/{id}/migrate", {"version": 2, "dry_run": False}),
    ("post", "/migrations", {"instance_ids": ["{id}"], "version": 2}),
    ("post", "/instances/{id}/undo", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), ACTIONS, ids=[f"{m} {p}" for m, p, _ in ACTIONS])
def test_every_admin_action_is_refused_403_to_others_and_changes_nothing(
    app, people, started, method, path, body
):
    deploy_version_two(app)
    before = snapshot(app)
    if "instance_ids" in body:
        body = {**body, "instance_ids": [started]}
    for caller in (people["business"], people["it"]):
        response = getattr(caller, method)(path.format(id=started), body)
        assert (response.status_code, response.get_json()["error"]) == (403, "forbidden")
    assert snapshot(app) == before


def test_a_suspended_instance_migrated_moves_only_once_resumed(app, people):
    """The target version made its waiting step automatic (a script): migrating a suspended
    instance ran it, though nothing moves until the instance is resumed."""
    from bundles import FORM, bpmn, user_task

    script = user_task(form="f").replace(
        '<bpmn:userTask id="t" name="Check" camunda:candidateGroups="it" camunda:formRef="f" />',
        '<bpmn:scriptTask id="t" scriptFormat="python"><bpmn:script>done = 1</bpmn:script></bpmn:scriptTask>',
    )
    assert "scriptTask" in script
    with app.app_context():
        engine.deploy(db.session, {"p.bpmn": bpmn(user_task(form="f")), "f.form": FORM}, "po")
        db.session.commit()
    admin, it = people["admin"], people["it"]
    started = it.post("/processes/p/instances", {"data": {}}).get_json()
    assert admin.post(f"/instances/{started['id']}/suspend", {"reason": "待定"}).status_code == 200
    with app.app_context():
        engine.deploy(db.session, {"p.bpmn": bpmn(script), "f.form": FORM}, "po")
        db.session.commit()
    moved = admin.post(f"/instances/{started['id']}/migrate", {"version": 2, "reason": "新版"})
    assert moved.status_code == 200, moved.get_json()
    after = admin.get(f"/instances/{started['id']}").get_json()
    assert (after["version"], after["status"], "done" in after["data"]) == (2, "suspended", False)
    resumed = admin.post(f"/instances/{started['id']}/resume", {"reason": "繼續"}).get_json()
    assert (resumed["status"], resumed["data"]["done"]) == ("completed", 1)

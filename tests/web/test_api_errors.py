"""Unknown things are 404, malformed requests 400 (nothing stored), refused messages 409/403."""

import pytest
from apiclient import REQUEST, snapshot
from bundles import NOTE_FORM, bpmn

import engine
from web.extensions import db

UNKNOWN_TASK = "00000000-0000-0000-0000-000000000000"


def assert_error(response, status, code):
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/processes/no_such_process", "process_not_found"),
        ("POST", "/processes/no_such_process/instances", "process_not_found"),
        ("GET", "/instances/4242", "instance_not_found"),
        ("GET", "/instances/4242/events", "instance_not_found"),
        ("GET", "/instances/4242/uploads", "instance_not_found"),  # was 200 []: as for no uploads
        ("POST", "/instances/4242/messages/change_request", "instance_not_found"),
        ("GET", f"/tasks/{UNKNOWN_TASK}", "task_not_found"),
        ("POST", f"/tasks/{UNKNOWN_TASK}/claim", "task_not_found"),
        ("POST", f"/tasks/{UNKNOWN_TASK}/unclaim", "task_not_found"),
        ("POST", f"/tasks/{UNKNOWN_TASK}/complete", "task_not_found"),
        ("GET", "/no/such/endpoint", "not_found"),
        ("GET", "/instances/100000000000000000000", "not_found"),  # beyond any id column
        ("GET", "/plans/2147483648", "not_found"),
    ],
)
def test_unknown_processes_instances_and_tasks_are_404(people, method, path, code):
    it = people["it"]
    response = it.get(path) if method == "GET" else it.post(path, {"data": dict(REQUEST)})
    assert_error(response, 404, code)


def test_a_wrong_method_is_405_in_json(people):
    assert_error(people["it"].delete("/processes"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (None, "the body must be a JSON object"),
        ([REQUEST], "the body must be a JSON object"),
        ({}, "data: Missing data for required field."),
        ({"data": "a title"}, "data: Not a valid mapping type."),
        ({"data": REQUEST, "priority": 1}, "priority: Unknown field."),
        # PostgreSQL's text cannot hold NUL (it was a 500 there): refused on both databases.
        ({"data": {**REQUEST, "title": "a\x00b"}}, "data.title: text may not contain the NUL character"),
        ({"data": {**REQUEST, "x\x00": 1}}, "data.x\x00: text may not contain the NUL character"),
    ],
)
def test_a_malformed_start_is_400_naming_the_problem_and_starts_nothing(app, people, body, problem):
    business = people["business"]
    before = snapshot(app)
    response = business.post("/processes/software_upgrade/instances", body)
    assert_error(response, 400, "bad_request")
    assert problem in response.get_json()["message"]
    assert snapshot(app) == before


def test_a_body_that_is_not_json_is_400(people):
    business = people["business"]
    response = business.client.post(
        "/api/v1/processes/software_upgrade/instances",
        headers={**business.headers, "Content-Type": "application/json"},
        data="{not json",
    )
    assert_error(response, 400, "bad_request")
    assert "Failed to decode JSON object" in response.get_json()["message"]  # says why, and where
    assert "line 1 column 2" in response.get_json()["message"]


def test_a_number_too_long_to_read_is_named_as_such(app, people):
    business = people["business"]
    before = snapshot(app)
    response = business.client.post(
        "/api/v1/processes/software_upgrade/instances",
        headers={**business.headers, "Content-Type": "application/json"},
        data='{"data": {"title": ' + "9" * 5000 + "}}",
    )
    assert_error(response, 400, "bad_request")
    assert "Exceeds the limit (4300 digits)" in response.get_json()["message"]
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("path", "query", "problem"),
    [
        ("/instances", {"status": "paused"}, "status: Must be one of"),
        ("/instances", {"page": "first"}, "page: Not a valid integer."),
        ("/instances", {"page": "0"}, "page: Must be greater than or equal to 1."),
        ("/instances", {"per_page": "1000"}, "per_page: Must be greater than or equal to 1 and less"),
        ("/instances", {"state": "running"}, "state: Unknown field."),
        ("/tasks", {"assigned": "everyone"}, "assigned: Must be one of: me, group, any."),
        ("/tasks", {"instance_id": "x"}, "instance_id: Not a valid integer."),
        # An endpoint that reads no query ignored these without a word: a misspelt `version`
        # answered with the latest version, a `since` with the whole log.
        ("/instances/1", {"verison": "2"}, "verison: no such query parameter"),
        ("/instances/1/events", {"since": "5"}, "since: no such query parameter"),
        ("/admin/incidents", {"process_id": "nope"}, "process_id: no such query parameter"),
        ("/processes", {"x": "1"}, "x: no such query parameter"),
        ("/pool/declined", {"status": "x"}, "status: no such query parameter"),
    ],
)
def test_bad_query_parameters_are_400_naming_them(people, path, query, problem):
    response = people["it"].get(path, **query)
    assert_error(response, 400, "bad_request")
    assert problem in response.get_json()["message"]


def test_a_number_beyond_its_column_is_400_out_of_range(people):
    response = people["it"].get("/tasks", instance_id="100000000000000000000")
    assert_error(response, 400, "out_of_range")
    assert "2147483647" in response.get_json()["message"]


def test_a_repeated_query_parameter_is_400(people):
    response = people["it"].client.get(
        "/api/v1/instances?status=running&status=completed", headers=people["it"].headers
    )
    assert_error(response, 400, "bad_request")
    assert "status: given more than once" in response.get_json()["message"]


def test_a_message_to_a_completed_instance_is_409_and_changes_nothing(app, people, drive):
    iid = people["business"].start()["id"]
    drive.complete(iid, "preliminary_review", decision="reject")
    assert people["it"].get(f"/instances/{iid}").get_json()["status"] == "completed"
    before = snapshot(app)
    response = people["it"].post(f"/instances/{iid}/messages/change_request", {"data": {"reason": "加功能"}})
    assert_error(response, 409, "message_refused")
    assert snapshot(app) == before


@pytest.mark.parametrize("waiting_at", ["preliminary_review", "sign_contract", "self_test"])
def test_a_change_request_outside_implementation_is_409(app, people, drive, waiting_at):
    iid = people["business"].start()["id"]
    drive.reach(iid, waiting_at)
    before = snapshot(app)
    response = people["vendor"].post(
        f"/instances/{iid}/messages/change_request", {"data": {"reason": "加功能"}}
    )
    assert_error(response, 409, "message_refused")
    assert "implement" in response.get_json()["message"]
    assert snapshot(app) == before


def test_implementation_reported_done_with_a_change_request_undecided_is_409(app, people, drive):
    iid = people["business"].start()["id"]
    drive.reach(iid, "implement")
    vendor = people["vendor"]
    sent = vendor.post(f"/instances/{iid}/messages/change_request", {"data": {"reason": "加功能"}})
    assert sent.status_code == 202
    before = snapshot(app)
    response = vendor.complete(iid, "implement")
    assert_error(response, 409, "instance_state")
    assert "須待「變更審核」完成後才能提交" in response.get_json()["message"]
    assert snapshot(app) == before


def test_an_unknown_message_is_409(people):
    iid = people["business"].start()["id"]
    response = people["it"].post(f"/instances/{iid}/messages/cancel_everything", {"data": {}})
    assert_error(response, 409, "message_refused")


@pytest.mark.parametrize(
    ("group", "status"),
    [("it", 202), ("business", 202), ("vendor", 202), ("finance", 403), ("management", 403), ("qa", 403)],
)
def test_who_may_send_a_change_request_follows_the_diagram(app, people, drive, group, status):
    iid = people["business"].start()["id"]
    drive.reach(iid, "implement")
    before = snapshot(app)
    response = people[group].post(f"/instances/{iid}/messages/change_request", {"data": {"reason": "加功能"}})
    assert response.status_code == status, response.get_json()
    if status == 403:
        assert response.get_json()["error"] == "forbidden"
        assert snapshot(app) == before
    else:
        assert sorted(t["name"] for t in response.get_json()["tasks"]) == ["change_review", "implement"]


def test_a_change_request_without_its_reason_is_422_and_changes_nothing(app, people, drive):
    iid = people["business"].start()["id"]
    drive.reach(iid, "implement")
    before = snapshot(app)
    response = people["it"].post(f"/instances/{iid}/messages/change_request", {"data": {"scope_change": "x"}})
    assert_error(response, 422, "validation_failed")
    assert list(response.get_json()["errors"]) == ["reason"]
    assert snapshot(app) == before


IN_PLACE = bpmn(
    """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare"/>
    <bpmn:scriptTask id="prepare" scriptFormat="python"><bpmn:script>items = []</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="t"/>
    <bpmn:userTask id="t" name="Check" camunda:candidateGroups="it" camunda:formRef="check"/>
    <bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="spoil"/>
    <bpmn:scriptTask id="spoil" scriptFormat="python"><bpmn:script>items.append({1, 2})</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="spoil" targetRef="end"/>
    <bpmn:endEvent id="end"/>""",
    process_id="in_place",
)


def test_a_script_that_spoils_a_list_in_place_is_an_incident_naming_it(app, people):
    """A script changed a list in place to hold a set: the save failed afterwards (a 500 that
    left the step undone for good). The sandbox checks what a script may have changed in place
    too, so the script's step fails like any failing script: an incident naming the variable."""
    it = people["it"]
    with app.app_context():
        engine.deploy(db.session, {"in_place.bpmn": IN_PLACE, "check.form": NOTE_FORM}, deployed_by="t")
        db.session.commit()
    started = it.post("/processes/in_place/instances", {"data": {}})
    assert started.status_code == 201, started.get_json()
    instance = started.get_json()
    response = it.post(f"/tasks/{instance['tasks'][0]['id']}/complete", {"data": {}})
    assert response.status_code == 200
    failed = response.get_json()
    assert (failed["status"], failed["error"]["element"]) == ("error", "spoil")
    assert "`items` holds a set" in failed["error"]["message"]
    assert it.get(f"/instances/{instance['id']}").get_json()["status"] == "error"


@pytest.mark.parametrize(
    ("path", "body", "problem"),
    [
        (
            "/auth/token",
            '{"username": "a", "password": ' + "[" * 1100 + "]" * 1100 + "}",
            "nested too deeply",
        ),
        (
            "/processes/software_upgrade/instances",
            '{"data": {"x": ' + "[" * 70 + "]" * 70 + "}}",
            "nested more",
        ),
        ("/processes/software_upgrade/instances", '{"data": {"x": NaN}}', "data.x: NaN and Infinity"),
        # orjson read these as floats, which were stored rounded (2**64 and -2**63 - 1).
        (
            "/processes/software_upgrade/instances",
            '{"data": {"x": 18446744073709551616}}',
            "data.x: a whole number beyond 64 bits",
        ),
        (
            "/processes/software_upgrade/instances",
            '{"data": {"x": [-9223372036854775809]}}',
            "data.x.0: a whole number beyond 64 bits",
        ),
        (
            "/processes/software_upgrade/instances",
            '{"data": {"x": 1e400}}',
            "data.x: NaN and Infinity",
        ),
    ],
)
def test_a_body_that_cannot_be_stored_as_it_came_is_400_naming_where(app, people, path, body, problem):
    """Deeper than the parser's own limit was a 500 on every JSON endpoint, the login's too; a
    NaN or a number beyond 64 bits, once stored, made the instance's answers invalid JSON."""
    business = people["business"]
    before = snapshot(app)
    response = business.client.post(
        f"/api/v1{path}", headers={**business.headers, "Content-Type": "application/json"}, data=body
    )
    assert_error(response, 400, "bad_request")
    assert problem in response.get_json()["message"]
    assert snapshot(app) == before

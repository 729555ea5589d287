"""Deployments through the API: upload, versions, byte-for-byte downloads, diffs, refusals, 403s."""

import json

import pytest
from apiclient import API, Caller, snapshot
from bundles import FORM, bpmn, multipart, user_task

import engine
from web.extensions import db


@pytest.fixture
def owner(make_user, token_for, client):
    user = make_user("olga", "process_owner")
    return Caller(client, user, token_for(user))


@pytest.fixture
def files():
    return engine.bundle_files("processes", "forms")


def deploy(caller, files):
    return caller.client.post(
        f"{API}/deployments",
        headers=caller.headers,
        data=multipart(files),
        content_type="multipart/form-data",
    )


def renamed(files):
    changed = dict(files)
    changed["software_upgrade.bpmn"] = files["software_upgrade.bpmn"].replace(
        "需求初審".encode(), "需求初步審核".encode()
    )
    return changed


def stored_versions(app):
    with app.app_context():
        return {
            p.id: [v.version for v in engine.list_versions(db.session, p.id)]
            for p in engine.list_processes(db.session)
        }


def after_renaming(baseline):
    """The answer to deploying `renamed(files)`: software_upgrade v2, every other process kept."""
    return {
        "processes": [
            {"id": pid, "version": 2 if pid == "software_upgrade" else versions[0]}
            for pid, versions in sorted(baseline.items())
        ]
    }


@pytest.fixture
def baseline(app):
    """{process id: versions} as deployed by the app fixture (processes/ and forms/)."""
    versions = stored_versions(app)
    assert versions["software_upgrade"] == [1]
    return versions


def test_a_deployed_bundle_comes_back_byte_for_byte(owner, files, baseline):
    response = deploy(owner, renamed(files))
    assert (response.status_code, response.get_json()) == (201, after_renaming(baseline))
    versions = owner.get("/processes/software_upgrade/versions").get_json()
    assert [(v["version"], v["deployed_by"], v["running"]) for v in versions] == [
        (2, "olga", 0),
        (1, "tests", 0),
    ]
    listed = owner.get("/processes/software_upgrade/versions/2/sources").get_json()
    assert [f["filename"] for f in listed] == sorted(files)
    for entry in listed:
        download = owner.client.get(entry["url"], headers=owner.headers)
        assert download.status_code == 200
        assert download.data == renamed(files)[entry["filename"]]
        assert len(download.data) == entry["size"]
        assert download.mimetype == (
            "application/json" if entry["filename"].endswith(".form") else "application/xml"
        )
        assert download.headers["Content-Disposition"].startswith("attachment")
    old = owner.get("/processes/software_upgrade/versions/1/sources/software_upgrade.bpmn")
    assert old.data == files["software_upgrade.bpmn"]


def test_a_bpmn20_xml_file_is_served_as_xml(owner):
    """The older `.bpmn20.xml` name deployed, and came back as application/octet-stream."""
    files = {"p.bpmn20.xml": bpmn(user_task(form="f")), "f.form": FORM}
    assert deploy(owner, files).status_code == 201
    download = owner.get("/processes/p/versions/1/sources/p.bpmn20.xml")
    assert (download.status_code, download.mimetype) == (200, "application/xml")
    assert download.data == files["p.bpmn20.xml"]


def test_a_missing_source_file_or_version_is_a_404(owner):
    assert owner.get("/processes/software_upgrade/versions/1/sources/nothing.bpmn").status_code == 404
    assert owner.get("/processes/software_upgrade/versions/9/sources").status_code == 404
    assert owner.get("/processes/nothing/versions").status_code == 404


def test_only_the_changed_process_of_a_bundle_gets_a_new_version(owner, app, baseline):
    first = {"a.bpmn": bpmn(user_task("A"), "a"), "b.bpmn": bpmn(user_task("B"), "b"), "f.form": FORM}
    assert deploy(owner, first).get_json() == {
        "processes": [{"id": "a", "version": 1}, {"id": "b", "version": 1}]
    }
    second = {**first, "a.bpmn": bpmn(user_task("A, renamed"), "a")}
    response = deploy(owner, second)
    assert (response.status_code, response.get_json()) == (
        201,
        {"processes": [{"id": "a", "version": 2}, {"id": "b", "version": 1}]},
    )
    assert stored_versions(app) == {**baseline, "a": [2, 1], "b": [1]}
    diff = owner.get("/processes/a/diff", **{"from": 1, "to": 2}).get_json()
    assert diff == {
        "processes": [
            {"process_id": "a", "added": [], "removed": [], "changed": {"t": ["bpmn_name"]}, "renamed": {}}
        ],
        "forms_added": [],
        "forms_removed": [],
        "forms_changed": [],
    }


def test_a_diff_needs_both_versions(owner):
    assert owner.get("/processes/software_upgrade/diff", **{"from": 1}).status_code == 400
    assert owner.get("/processes/software_upgrade/diff", **{"from": 1, "to": 7}).status_code == 404


def test_a_running_instance_stays_on_its_version(owner, people, files):
    alice = people["business"]
    old = alice.start()
    assert deploy(owner, renamed(files)).status_code == 201
    new = alice.start()
    assert (old["version"], new["version"]) == (1, 2)
    again = alice.get(f"/instances/{old['id']}").get_json()
    assert (again["version"], [t["title"] for t in again["tasks"]]) == (1, ["需求初審"])
    assert [t["title"] for t in new["tasks"]] == ["需求初步審核"]
    versions = owner.get("/processes/software_upgrade/versions").get_json()
    assert [(v["version"], v["running"], v["total"]) for v in versions] == [(2, 1, 1), (1, 1, 1)]


def test_a_form_already_deployed_may_be_linked_without_sending_it(owner):
    response = deploy(owner, {"p.bpmn": bpmn(user_task(form="preliminary_review"))})
    assert (response.status_code, response.get_json()) == (201, {"processes": [{"id": "p", "version": 1}]})


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&lol3;</bpmn:definitions>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&x;</bpmn:definitions>"""
GATEWAY = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="g"/>
    <bpmn:exclusiveGateway id="g" default="b"/>
    <bpmn:sequenceFlow id="a" sourceRef="g" targetRef="e1">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="b" sourceRef="g" targetRef="e2"/>
    <bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>"""
SCRIPT = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="s"/>
    <bpmn:scriptTask id="s" scriptFormat="python"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="s" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""
TIMER = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="w"/>
    <bpmn:intermediateCatchEvent id="w"><bpmn:timerEventDefinition>
      <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">in two weeks</bpmn:timeDuration>
    </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="w" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""
CALL = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="c"/>
    <bpmn:callActivity id="c" calledElement="nowhere"/>
    <bpmn:sequenceFlow id="f2" sourceRef="c" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""


def calling(process):
    """start -> a call activity `c` of `process` -> end."""
    return CALL.replace('calledElement="nowhere"', f'calledElement="{process}"')


GUARDED = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
    <bpmn:userTask id="t" camunda:candidateGroups="it" camunda:formRef="f">
      <bpmn:extensionElements>
        <camunda:properties><camunda:property name="refusedWhile" value="t, nowhere"/></camunda:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""


def multi_instance(task_id):
    """start -> a user task done twice (multi-instance) -> end."""
    return f"""
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{task_id}"/>
    <bpmn:userTask id="{task_id}" camunda:candidateGroups="it" camunda:formRef="f">
      <bpmn:multiInstanceLoopCharacteristics isSequential="true">
        <bpmn:loopCardinality>2</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="{task_id}" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""


def _form(component):
    form = json.dumps({"id": "f", "type": "default", "components": [component]}).encode()
    return {"p.bpmn": bpmn(user_task(group="it", form="f")), "f.form": form}


DMN_NS = 'xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"'
# A decision `d` of one input (`name`) and one output (`score`); `{table}` takes attributes.
DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions {ns} id="defs" name="d" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="d" name="d">
    <decisionTable id="table" {table}>
      <input id="i"><inputExpression id="ie" typeRef="string"><text>name</text></inputExpression></input>
      <output id="o" name="score" typeRef="number"/>
      <rule id="r1"><inputEntry id="e1"><text>{test}</text></inputEntry><outputEntry id="o1"><text>10</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="e2"><text>-</text></inputEntry><outputEntry id="o2"><text>5</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""
RULE_TASK = """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="rule"/>
    <bpmn:businessRuleTask id="rule" camunda:decisionRef="d"/>
    <bpmn:sequenceFlow id="f2" sourceRef="rule" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""


def dmn(table='hitPolicy="UNIQUE"', test='"x"'):
    return DMN.format(ns=DMN_NS, table=table, test=test).encode()


BAD_BUNDLES = {
    # Deployed, each failed every instance that reached it.
    "javascript script": (
        {
            "p.bpmn": bpmn(
                SCRIPT.replace('"python"', '"javascript"').replace(
                    "import os", 'execution.setVariable("a", 1);'
                )
            )
        },
        "p.bpmn",
        "s",
        "script format 'javascript' is not run here",
    ),
    "feel function": (
        {"p.bpmn": bpmn(GATEWAY.format(condition="=count([1, 2]) > 1"))},
        "p.bpmn",
        "a",
        "count()",
    ),
    "java method": (
        {"p.bpmn": bpmn(GATEWAY.format(condition='${"a".toUpperCase() == "A"}'))},
        "p.bpmn",
        "a",
        "text.toUpperCase()",
    ),
    "due date function": (
        {
            "p.bpmn": bpmn(user_task(attributes='camunda:dueDate="${dateTime().plusDays(2).toDate()}"')),
            "f.form": FORM,
        },
        "p.bpmn",
        "t",
        "dateTime()",
    ),
    # The engine gave the list of matches where the table asked for their sum.
    "dmn aggregation": (
        {"p.bpmn": bpmn(RULE_TASK), "d.dmn": dmn('hitPolicy="COLLECT" aggregation="SUM"')},
        "d.dmn",
        "d",
        "aggregation SUM is not run here",
    ),
    "dmn priority": (
        {"p.bpmn": bpmn(RULE_TASK), "d.dmn": dmn('hitPolicy="PRIORITY"')},
        "d.dmn",
        "d",
        "PRIORITY",
    ),
    "xxe": ({"evil.bpmn": XXE}, "evil.bpmn", None, "DOCTYPE"),
    "billion laughs": ({"lol.bpmn": BILLION_LAUGHS}, "lol.bpmn", None, "DOCTYPE"),
    "missing form": ({"p.bpmn": bpmn(user_task(form="nowhere"))}, "p.bpmn", "t", "'nowhere'"),
    "missing group": ({"p.bpmn": bpmn(user_task(group="sales")), "f.form": FORM}, "p.bpmn", "t", "sales"),
    # Deployed, its task waited for a group named "${'it'}" that nobody is in (a 500 on
    # PostgreSQL beyond 40 characters).
    "group expression": (
        {"p.bpmn": bpmn(user_task(group="${'it'}")), "f.form": FORM},
        "p.bpmn",
        "t",
        "expressions are not evaluated",
    ),
    "bad condition": ({"p.bpmn": bpmn(GATEWAY.format(condition="${x ==}"))}, "p.bpmn", "a", "compile"),
    "bad script": ({"p.bpmn": bpmn(SCRIPT)}, "p.bpmn", "s", "sandbox"),
    "bad timer": ({"p.bpmn": bpmn(TIMER)}, "p.bpmn", "w", "compile"),
    "unknown call activity": ({"p.bpmn": bpmn(CALL)}, "p.bpmn", "c", "'nowhere'"),
    # Deployed, it failed every start: a date beyond the year 9999.
    "timer beyond any date": (
        {"p.bpmn": bpmn(TIMER.replace("in two weeks", "P99999999D"))},
        "p.bpmn",
        "w",
        "out of range",
    ),
    "untranslatable feel": (
        {"p.bpmn": bpmn(GATEWAY.format(condition="=every x in xs satisfies x > 1"))},
        "p.bpmn",
        "a",
        "every x",
    ),
    "not a diagram": ({"notes.txt": b"hello"}, "notes.txt", None, ".bpmn"),
    "long element id": (
        {"p.bpmn": bpmn(user_task(form="f")).replace(b'id="t"', b'id="' + b"t" * 201 + b'"'), "f.form": FORM},
        "p.bpmn",
        None,
        "at most 200",
    ),
    # SpiffWorkflow's inner task is `<id> [child]`: a longer id deployed, then failed every
    # start on PostgreSQL (the task row's element id).
    "long multi-instance id": (
        {"p.bpmn": bpmn(multi_instance("m" * 193)), "f.form": FORM},
        "p.bpmn",
        None,
        "at most 192 for a multi-instance or loop activity",
    ),
    # A guard naming a step no process has would never hold (a typo in the properties panel).
    # Each start of these called SpiffWorkflow's subprocess depth count without end: a worker
    # hung on every start.
    "process calling itself": ({"p.bpmn": bpmn(calling("p"))}, "p.bpmn", "c", "p → p"),
    "processes calling each other": (
        {"p.bpmn": bpmn(calling("q")), "q.bpmn": bpmn(calling("r"), "q"), "r.bpmn": bpmn(calling("p"), "r")},
        "q.bpmn",
        "c",
        "q → r → p → q",
    ),
    "unknown guarded step": (
        {"p.bpmn": bpmn(GUARDED), "f.form": FORM},
        "p.bpmn",
        "t",
        "refusedWhile names no step of the processes: nowhere",
    ),
    "message condition that cannot be evaluated": (
        {
            "p.bpmn": bpmn(
                GUARDED.replace(
                    'name="refusedWhile" value="t, nowhere"', 'name="acceptedWhen" value="today( &lt;"'
                )
            )
        },
        "p.bpmn",
        "t",
        "expression does not compile",
    ),
    "message condition calling what diagrams do not have": (
        {
            "p.bpmn": bpmn(
                GUARDED.replace(
                    'name="refusedWhile" value="t, nowhere"', 'name="acceptedWhen" value="open(x)"'
                )
            )
        },
        "p.bpmn",
        "t",
        "calls open",
    ),
    "long task name": (
        {"p.bpmn": bpmn(user_task(name="任務" * 151)), "f.form": FORM},
        "p.bpmn",
        "t",
        "at most 300",
    ),
    # Forms whose rules no submission could meet without a crash: refused when deployed.
    "form pattern": (
        _form({"type": "textfield", "key": "n", "validate": {"pattern": "["}}),
        "f.form",
        None,
        "pattern",
    ),
    "form bound": (
        _form({"type": "number", "key": "n", "validate": {"min": "abc"}}),
        "f.form",
        None,
        "validate.min",
    ),
    "form length": (
        _form({"type": "textarea", "key": "n", "validate": {"maxLength": "x"}}),
        "f.form",
        None,
        "maxLength",
    ),
    "form key": (_form({"type": "textfield", "key": 5}), "f.form", None, "key must be text"),
    # Deployed, a task showing it failed on PostgreSQL (tasks.form_id).
    "long form id": (
        {
            "p.bpmn": bpmn(user_task(form="f" * 201)),
            "f.form": json.dumps({"id": "f" * 201, "components": []}).encode(),
        },
        "f.form",
        None,
        "at most 200",
    ),
    # Deployed, these failed every submission or every opening of the task (a 500).
    "form subtype": (_form({"type": "datetime", "key": "d", "subtype": ["date"]}), "f.form", None, "subtype"),
    "form huge length": (
        _form({"type": "textarea", "key": "n", "validate": {"maxLength": 2**64}}),
        "f.form",
        None,
        "maxLength: a number no browser can hold",
    ),
    "form component": (_form("textfield"), "f.form", None, "must be an object"),
}


@pytest.mark.parametrize("case", sorted(BAD_BUNDLES))
def test_a_bad_bundle_is_refused_with_its_problems_and_nothing_is_stored(owner, app, files, baseline, case):
    bad, file, element, words = BAD_BUNDLES[case]
    # The procedure changed too, so a partial deployment would show as its version 2.
    response = deploy(owner, {**renamed(files), **bad})
    body = response.get_json()
    assert (response.status_code, body["error"]) == (400, "deployment_refused")
    named = [p for p in body["problems"] if p["file"] == file and words in p["message"]]
    assert named, body["problems"]
    if element:
        assert named[0]["element"] == element
    assert set(body["problems"][0]) == {"file", "line", "element", "message"}
    assert stored_versions(app) == baseline


def test_a_multi_instance_task_with_the_longest_id_allowed_runs(owner, people):
    long_id = "m" * 192
    assert deploy(owner, {"p.bpmn": bpmn(multi_instance(long_id)), "f.form": FORM}).status_code == 201
    it = people["it"]
    started = it.post("/processes/p/instances", {"data": {}})
    assert started.status_code == 201, started.get_json()
    instance_id = started.get_json()["id"]
    for _ in range(2):
        (task,) = started.get_json()["tasks"]
        # The element id, which the diagram holds, not SpiffWorkflow's inner task `<id> [child]`.
        assert task["name"] == long_id and started.get_json()["waiting_at"] == [long_id]
        assert [t["name"] for t in it.get("/tasks").get_json()] == [long_id]
        started = it.submit(task["id"], {"decision": "a"})
        assert started.status_code == 200, started.get_json()
    assert started.get_json()["status"] == "completed"
    assert started.get_json()["completed_elements"][long_id] == 2
    logged = [
        e["task"]
        for e in it.get(f"/instances/{instance_id}/events").get_json()
        if e["type"] == "task_completed"
    ]
    assert logged == [long_id, long_id]


def test_an_upload_without_files_is_a_400(owner):
    response = owner.client.post(
        f"{API}/deployments", headers=owner.headers, data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("name", ["f%0A.form", "f" * 200 + ".form"])
def test_a_file_name_no_download_could_carry_is_refused(owner, app, baseline, name):
    """A line break in a deployed file's name (sent RFC 5987-encoded, as a client may) made
    every download of it a 500 (a header)."""
    parts = [("p.bpmn", bpmn(user_task(form="f"), process_id="p")), (name, FORM)]
    body = b"".join(
        b"--XX\r\nContent-Disposition: form-data; name=\"files\"; filename*=UTF-8''"
        + part.encode()
        + b"\r\nContent-Type: application/octet-stream\r\n\r\n"
        + content
        + b"\r\n"
        for part, content in parts
    )
    before = snapshot(app)
    response = owner.client.post(
        f"{API}/deployments",
        headers=owner.headers,
        data=body + b"--XX--\r\n",
        content_type="multipart/form-data; boundary=XX",
    )
    assert response.status_code == 400 and "file name may not hold" in response.get_json()["message"]
    assert snapshot(app) == before


@pytest.mark.parametrize("who", ["business", "it", "nobody"])
def test_only_admins_and_process_owners_may_deploy_or_download(
    make_user, token_for, client, app, files, baseline, who
):
    user = make_user(f"user_{who}", *([] if who == "nobody" else [who]))
    caller = Caller(client, user, token_for(user))
    assert deploy(caller, renamed(files)).status_code == 403
    for path, query in (
        ("/processes/software_upgrade/versions", {}),
        ("/processes/software_upgrade/versions/1/sources", {}),
        ("/processes/software_upgrade/versions/1/sources/software_upgrade.bpmn", {}),
        ("/processes/software_upgrade/diff", {"from": 1, "to": 1}),
    ):
        assert caller.get(path, **query).status_code == 403, path
    assert stored_versions(app) == baseline


def test_an_admin_may_deploy(people, files, baseline):
    response = deploy(people["admin"], renamed(files))
    assert (response.status_code, response.get_json()) == (201, after_renaming(baseline))


def test_problems_in_the_xml_and_in_the_processes_are_reported_together(owner, app, baseline):
    body = (
        GATEWAY.format(condition="${x ==}")
        .replace(
            '<bpmn:endEvent id="e1"/>',
            '<bpmn:userTask id="t" camunda:candidateGroups="sales" camunda:formRef="nowhere"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e1"/><bpmn:endEvent id="e1"/>',
        )
        .replace('targetRef="e1">', 'targetRef="t">')
    )
    response = deploy(owner, {"p.bpmn": bpmn(body)})
    problems = {(p["element"], p["message"].split(" ")[0]) for p in response.get_json()["problems"]}
    assert problems == {("a", "expression"), ("t", "unknown"), ("t", "form")}
    assert stored_versions(app) == baseline


@pytest.mark.parametrize(
    ("test", "name", "score"),
    [
        ('"it\'s"', "it's", 10),
        ('"it\'s"', "its", 5),
        ('"Really? It\'s fine"', "Really? It's fine", 10),  # `?` then an apostrophe: never matched
        ('"Why?"', "Why?", 10),
    ],
)
def test_a_dmn_text_with_an_apostrophe_is_matched(owner, people, test, name, score):
    """`"it's"` deployed and failed every instance (SyntaxError: `? == "it's"`): SpiffWorkflow
    replaces `?` only where the quotes after it pair up."""
    named = f"""
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="s"/>
    <bpmn:scriptTask id="s" scriptFormat="python"><bpmn:script>name = {name!r}</bpmn:script></bpmn:scriptTask>
    {RULE_TASK.replace('sourceRef="start"', 'sourceRef="s"')}"""
    files = {"p.bpmn": bpmn(named), "d.dmn": dmn(test=test)}
    assert deploy(owner, files).status_code == 201
    started = people["it"].post("/processes/p/instances", {"data": {}})
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    assert (body["status"], body["data"]["score"]) == ("completed", score)


def test_a_refused_bundle_names_the_problems_of_every_file(owner, app):
    """Checking stopped at the first file that was not UTF-8, and a file that did not parse kept
    the other files' own checks from running: each try named one more problem."""
    unconditioned = (
        GATEWAY.format(condition="")
        .replace(
            '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"></bpmn:conditionExpression>', ""
        )
        .replace(' default="b"', "")
    )
    files = {
        "a.bpmn": b"<bpmn:definitions",  # not XML
        "b.bpmn": bpmn(unconditioned, "b"),
        "l1.form": '{"id": "caf\u00e9"}'.encode("latin-1"),
        "l2.form": '{"id": "na\u00efve"}'.encode("latin-1"),
    }
    baseline = stored_versions(app)
    response = deploy(owner, files)
    assert response.status_code == 400
    named = {p["file"] for p in response.get_json()["problems"]}
    assert named == {"a.bpmn", "b.bpmn", "l1.form", "l2.form"}, response.get_json()["problems"]
    assert stored_versions(app) == baseline


def test_a_multi_instance_task_claimed_and_done_replays(owner, people):
    """Its claims were logged as `t [child]`, which no ready task of a replay is: it diverged."""
    assert deploy(owner, {"p.bpmn": bpmn(multi_instance("t")), "f.form": FORM}).status_code == 201
    it = people["it"]
    started = it.post("/processes/p/instances", {"data": {}}).get_json()
    for _ in range(2):
        [task] = [t for t in it.get("/tasks").get_json() if t["instance_id"] == started["id"]]
        assert it.post(f"/tasks/{task['id']}/claim").status_code == 200
        assert it.submit(task["id"], {"decision": "a"}).status_code == 200
    admin = people["admin"]
    logged = [
        e["task"]
        for e in admin.get(f"/instances/{started['id']}/events").get_json()
        if e["type"] == "task_claimed"
    ]
    assert logged == ["t", "t"]
    replay = admin.post(f"/instances/{started['id']}/replay", {"dry_run": True}).get_json()
    assert replay["matches"], replay["divergence"]

"""Messages from the instance page: a change request (R3.4.5) offered only while the vendor
implements, a problem report (R3.6.4) only in the support period, each only to the groups the
diagram lets send it; posted like a task's form."""

import json
import re

from conftest_pages import DEFAULTS, browser_fixture, start_request  # noqa: F401 - the browser fixture

import engine
from web.extensions import db

CHANGE = {"reason": "增加公文批量審批。", "scope_change": "增加批量審批功能。"}
EVERYONE = engine.Actor("observer", frozenset(g.id for g in engine.GROUPS))


def walk_to(app, instance_id, element):
    """Complete the open steps with the harness's defaults until `element` is open."""
    with app.app_context():
        for _ in range(30):
            tasks = [t for t in engine.list_tasks(db.session, EVERYONE) if t.instance_id == instance_id]
            if element in [t.name for t in tasks]:
                return
            task = tasks[0]
            actor = engine.Actor("walker", frozenset(task.groups))
            _, _, values = engine.get_task(db.session, task.id, actor)
            default = DEFAULTS[task.form]
            data = default(values or {}) if callable(default) else default
            engine.complete_task(db.session, task.id, data, actor)
            db.session.commit()
    raise AssertionError(f"{element} not reached")


def message_form(html):
    match = re.search(r'<script type="application/json" id="form-config">(.*?)</script>', html, re.S)
    return json.loads(match.group(1)) if match else None


def events(app, instance_id, kind):
    with app.app_context():
        return [e for e in engine.instance_events(db.session, instance_id) if e.type == kind]


def test_the_vendor_raises_a_change_request_while_implementing(app, browser):
    browser("alice", "business")
    vera = browser("vera", "vendor")
    instance_id = start_request(app, "alice")
    walk_to(app, instance_id, "implement")

    page = vera.get(f"/instances/{instance_id}")
    config = message_form(page.text)
    assert config["schema"]["id"] == "change_request"
    assert config["submitUrl"] == f"/instances/{instance_id}/messages/change_request"

    response = vera.post_json(config["submitUrl"], {"data": CHANGE, "instance_id": instance_id})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["redirect"] == f"/instances/{instance_id}"
    [received] = events(app, instance_id, "message_received")
    assert received.actor == "vera"
    assert {k: received.data[k] for k in CHANGE} == CHANGE
    with app.app_context():
        assert "change_review" in engine.get_instance(db.session, instance_id).waiting_at


def test_no_change_request_is_offered_before_implementation_or_to_other_groups(app, browser):
    alice = browser("alice", "business")
    fay = browser("fay", "finance")
    instance_id = start_request(app, "alice")
    assert message_form(alice.get(f"/instances/{instance_id}").text) is None  # not implementing yet
    refused = alice.post_json(f"/instances/{instance_id}/messages/change_request", {"data": CHANGE})
    assert refused.status_code == 409
    assert events(app, instance_id, "message_received") == []

    walk_to(app, instance_id, "implement")
    assert message_form(alice.get(f"/instances/{instance_id}").text) is not None  # the business may
    assert message_form(fay.get(f"/instances/{instance_id}").text) is None  # finance may not
    forbidden = fay.post_json(f"/instances/{instance_id}/messages/change_request", {"data": CHANGE})
    assert forbidden.status_code == 403
    invalid = alice.post_json(f"/instances/{instance_id}/messages/change_request", {"data": {}})
    assert invalid.status_code == 422
    assert "reason" in invalid.get_json()["errors"]
    assert events(app, instance_id, "message_received") == []


def test_a_problem_is_reported_in_the_support_period_while_the_inspection_timer_waits(app, browser):
    """Most of the support period no step is open (the next inspection's timer waits): the page
    asks the engine what the instance takes, not which steps are open."""
    alice = browser("alice", "business")
    vera = browser("vera", "vendor")
    instance_id = start_request(app, "alice")
    walk_to(app, instance_id, "golive")
    assert message_form(alice.get(f"/instances/{instance_id}").text) is None  # not live yet
    with app.app_context():
        [golive] = [t for t in engine.list_tasks(db.session, EVERYONE) if t.instance_id == instance_id]
        engine.complete_task(
            db.session, golive.id, DEFAULTS["golive"], engine.Actor("it1", frozenset({"it"}))
        )
        db.session.commit()
        assert engine.get_instance(db.session, instance_id).waiting_at == []

    page = alice.get(f"/instances/{instance_id}")
    config = message_form(page.text)
    assert config["schema"]["id"] == "support_request"
    assert "報告問題" in page.text
    assert message_form(vera.get(f"/instances/{instance_id}").text) is None  # the vendor resolves them
    report = {"problem": "移動端無法登入。", "severity": "high"}
    sent = alice.post_json(config["submitUrl"], {"data": report, "instance_id": instance_id})
    assert sent.status_code == 200, sent.get_json()
    with app.app_context():
        assert engine.get_instance(db.session, instance_id).waiting_at == ["resolve_support_request"]

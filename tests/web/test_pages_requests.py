"""A new request: the start form rendered with form-js, validated by the server on submit."""

import json
import re

from conftest_pages import REQUEST, browser_fixture  # noqa: F401 - the browser fixture

import engine
from web.extensions import db


def form_config(html):
    match = re.search(r'<script type="application/json" id="form-config">(.*?)</script>', html, re.S)
    assert match, "no form configuration on the page"
    return json.loads(match.group(1))


def stored(app):
    with app.app_context():
        return engine.list_instances(db.session).total


def test_the_start_form_page_renders_the_form_with_form_js(browser):
    page = browser("alice", "business").get("/requests/new")
    assert page.status_code == 200
    assert 'id="form-root"' in page.text
    assert "/static/vendor/form-js/dist/form-viewer.umd.js" in page.text
    assert "/static/js/form.js" in page.text
    config = form_config(page.text)
    assert config["schema"]["id"] == "requirement_request"
    assert config["submitUrl"] == "/requests/new?process=software_upgrade"
    assert config["readOnly"] is False
    assert config["data"] == {}


def test_a_bad_submission_returns_422_with_field_errors_and_stores_nothing(app, browser):
    alice = browser("alice", "business")
    response = alice.post_json(
        "/requests/new", {"data": {**REQUEST, "title": "", "system": "cobol", "extra": 1}}
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_failed"
    assert set(body["errors"]) == {"title", "system", "extra"}
    assert body["errors"]["system"][0].startswith("不是可選的值")
    assert stored(app) == 0
    response = alice.post_json("/requests/new", {"data": {}})
    assert response.status_code == 422
    assert {"title", "system", "content"} <= set(response.get_json()["errors"])
    assert stored(app) == 0
    # Text the API refuses is refused here too (a NUL cannot be stored on PostgreSQL).
    response = alice.post_json("/requests/new", {"data": {**REQUEST, "content": "a\x00b"}})
    assert response.status_code == 400 and "data.content" in response.get_json()["message"]
    assert stored(app) == 0


def test_a_malformed_submission_is_a_bad_request(app, browser):
    alice = browser("alice", "business")
    assert alice.post_json("/requests/new", {"data": "not an object"}).status_code == 400
    assert alice.post_json("/requests/new", [1, 2]).status_code == 400
    assert stored(app) == 0


def test_a_good_submission_starts_the_procedure(app, browser):
    alice = browser("alice", "business")
    response = alice.post_json("/requests/new", {"data": REQUEST})
    assert response.status_code == 201
    body = response.get_json()
    assert body["redirect"] == f"/instances/{body['instance_id']}"
    with app.app_context():
        info = engine.get_instance(db.session, body["instance_id"])
    assert info.initiator == "alice"
    assert info.waiting_at == ["preliminary_review"]
    page = alice.get(body["redirect"])
    assert "申請已提交" in page.text  # the flash message


def test_an_unknown_process_is_404(browser):
    page = browser("alice", "business").get("/requests/new?process=nothing")
    assert page.status_code == 404
    assert "找不到此流程" in page.text


def test_a_department_that_does_not_start_the_procedure_gets_no_form_to_fill(app, browser):
    """Only business (the lane of the start event) or an admin starts it: the others got the
    form, filled it in and were refused only when they sent it."""
    page = browser("ivan", "it").get("/requests/new")
    assert page.status_code == 403
    assert "business starts it" in page.text
    assert browser("alice", "business").get("/requests/new").status_code == 200

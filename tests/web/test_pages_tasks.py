"""A task's page: its form with the current data, completion through the page, and the 403 /
404 / 409 pages."""

import json
import re

from conftest_pages import DEFAULTS, Browser, browser_fixture, start_request  # noqa: F401 - the browser fixture

import engine
from web.extensions import db


def form_config(html):
    match = re.search(r'<script type="application/json" id="form-config">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def events(app, instance_id):
    with app.app_context():
        return [(e.type, e.task) for e in engine.instance_events(db.session, instance_id)]


def review_task(app, browser):
    browser("alice", "business")
    ivan = browser("ivan", "it")
    instance_id = start_request(app, "alice", title="CRM 升級")
    [task] = ivan.tasks()
    return ivan, task, instance_id


def test_the_task_page_shows_the_form_and_the_data_it_reviews(app, browser):
    ivan, task, instance_id = review_task(app, browser)
    page = ivan.get(f"/tasks/{task.id}")
    assert page.status_code == 200
    assert "需求初審" in page.text
    assert "CRM 升級" in page.text
    assert "R3.1.2" in page.text  # the clause the step carries in the diagram
    config = form_config(page.text)
    assert config["schema"]["id"] == "preliminary_review"
    assert config["data"]["requirement_request"]["title"] == "CRM 升級"  # for the form's templating
    assert config["submitUrl"] == f"/tasks/{task.id}/complete"
    assert config["instanceId"] == instance_id
    assert config["readOnly"] is False


def test_completing_a_task_through_the_page(app, browser):
    ivan, task, instance_id = review_task(app, browser)
    response = ivan.post_json(
        f"/tasks/{task.id}/complete", {"data": DEFAULTS["preliminary_review"], "instance_id": instance_id}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"redirect": "/", "instance_id": instance_id}
    assert events(app, instance_id)[-1] == ("task_completed", "preliminary_review")
    with app.app_context():
        assert engine.get_instance(db.session, instance_id).waiting_at == ["requirement_analysis"]
    assert "已提交" in ivan.get("/").text


def test_a_rejected_completion_returns_the_errors_and_changes_nothing(app, browser):
    ivan, task, instance_id = review_task(app, browser)
    before = events(app, instance_id)
    response = ivan.post_json(f"/tasks/{task.id}/complete", {"data": {"decision": "maybe"}})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"decision"}
    assert events(app, instance_id) == before
    assert [t.id for t in ivan.tasks()] == [task.id]


def test_another_group_gets_403_and_an_unknown_task_404(app, browser):
    ivan, task, _ = review_task(app, browser)
    fiona = browser("fiona", "finance")
    page = fiona.get(f"/tasks/{task.id}")
    assert page.status_code == 403
    assert "無權執行此操作" in page.text
    assert (
        fiona.post_json(f"/tasks/{task.id}/complete", {"data": DEFAULTS["preliminary_review"]}).status_code
        == 403
    )
    page = ivan.get("/tasks/00000000-0000-0000-0000-000000000000")
    assert page.status_code == 404
    assert "找不到此任務" in page.text


def test_a_task_someone_else_just_completed_is_409(app, browser):
    ivan, task, instance_id = review_task(app, browser)
    browser("iris", "it")
    iris = Browser(app, "iris")
    page = iris.get(f"/tasks/{task.id}?instance={instance_id}")  # iris opens the form ...
    assert page.status_code == 200
    ivan.post_json(
        f"/tasks/{task.id}/complete", {"data": DEFAULTS["preliminary_review"], "instance_id": instance_id}
    )
    # ... and submits after ivan.
    response = iris.post_json(
        f"/tasks/{task.id}/complete", {"data": DEFAULTS["preliminary_review"], "instance_id": instance_id}
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "task_completed"
    assert response.get_json()["completed_by"] == "ivan"
    assert [e for e in events(app, instance_id) if e[0] == "task_completed"] == [
        ("task_completed", "preliminary_review")
    ]
    page = iris.get(f"/tasks/{task.id}?instance={instance_id}")
    assert page.status_code == 409
    assert "其他同事剛剛已完成此任務" in page.text
    assert f"/instances/{instance_id}" in page.text


def test_an_admin_may_look_at_a_task_but_not_submit_it(app, browser):
    _, task, _ = review_task(app, browser)
    admin = browser("root", admin=True)
    page = admin.get(f"/tasks/{task.id}")
    assert page.status_code == 200
    assert form_config(page.text)["readOnly"] is True
    assert 'id="form-submit"' not in page.text

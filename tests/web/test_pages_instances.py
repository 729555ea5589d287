"""Instances: the filtered list, and one instance's diagram, history, data and documents."""

import json
import re

from conftest_pages import DEFAULTS, Browser, browser_fixture, start_request  # noqa: F401 - the browser fixture

import engine
from web.extensions import db


def diagram_config(html):
    match = re.search(r'<script type="application/json" id="diagram-config">(.*?)</script>', html, re.S)
    assert match, "no diagram configuration on the page"
    return json.loads(match.group(1))


def listed(page):
    return re.findall(r'href="/instances/(\d+)"', page.text)


def complete(app, username, instance_id, **overrides):
    """Complete the instance's one ready task as `username` with its default data."""
    with app.app_context():
        actor = engine.get_user_by_name(db.session, username).actor
        [task] = engine.list_tasks(db.session, actor, instance_id=instance_id)
        _, _, values = engine.get_task(db.session, task.id, actor)
        default = DEFAULTS[task.form]
        data = default(values) if callable(default) else dict(default)
        engine.complete_task(db.session, task.id, {**data, **overrides}, actor)
        db.session.commit()


def test_the_list_filters_by_status_process_step_and_mine(app, browser):
    alice = browser("alice", "business")
    browser("bob", "business")
    browser("ivan", "it")
    mine = start_request(app, "alice", title="Alice 的申請")
    rejected = start_request(app, "alice", title="會被駁回")
    theirs = start_request(app, "bob", title="Bob 的申請")
    complete(app, "ivan", rejected, decision="reject")
    complete(app, "ivan", theirs)  # accepted: now at requirement_analysis

    assert set(listed(alice.get("/instances"))) == {str(mine), str(rejected), str(theirs)}
    assert listed(alice.get("/instances?status=completed")) == [str(rejected)]
    assert set(listed(alice.get("/instances?status=running"))) == {str(mine), str(theirs)}
    assert listed(alice.get("/instances?waiting_at=requirement_analysis")) == [str(theirs)]
    assert listed(alice.get("/instances?waiting_at=preliminary_review")) == [str(mine)]
    assert listed(alice.get("/instances?waiting_at=requirement")) == []  # whole element ids only
    assert listed(alice.get("/instances?waiting_at=review")) == []
    assert set(listed(alice.get("/instances?mine=1"))) == {str(mine), str(rejected)}
    assert listed(alice.get("/instances?mine=1&status=running")) == [str(mine)]
    assert len(listed(alice.get("/instances?process=software_upgrade"))) == 3
    assert listed(alice.get("/instances?process=other")) == []

    page = alice.get("/instances?status=running")
    assert '<option value="running" selected>' in page.text
    assert '<option value="requirement_analysis"' in page.text  # the steps to filter on, by name
    assert "需求分析與評估" in page.text
    assert "沒有符合篩選條件的流程實例" in alice.get("/instances?status=suspended").text
    assert alice.get("/instances?status=bogus").status_code == 400
    assert alice.get("/instances?page=0").status_code == 400


def test_the_list_pages_through_many_instances(app, browser):
    alice = browser("alice", "business")
    ids = [start_request(app, "alice", title=f"申請 {n}") for n in range(27)]
    first = alice.get("/instances")
    assert len(listed(first)) == 25
    assert 'rel="next"' in first.text
    second = alice.get("/instances?page=2")
    assert set(listed(second)) == {str(ids[1]), str(ids[0])}
    assert 'rel="prev"' in second.text


def test_the_detail_page_marks_the_diagram_and_shows_history_data_and_documents(app, browser):
    alice = browser("alice", "business")
    browser("ivan", "it")
    instance_id = start_request(app, "alice", title="OA 升級")
    complete(app, "ivan", instance_id)  # preliminary review accepted

    page = alice.get(f"/instances/{instance_id}")
    assert page.status_code == 200
    html = page.text
    assert 'id="diagram"' in html
    assert "/static/vendor/bpmn-js/dist/bpmn-navigated-viewer.production.min.js" in html
    config = diagram_config(html)
    assert config["url"] == "/processes/software_upgrade/1/files/software_upgrade.bpmn"
    assert {"requirement_request", "preliminary_review"} <= set(config["completed"])
    assert config["waiting"] == ["requirement_analysis"]
    assert config["counts"]["preliminary_review"] == 1
    # Links to the called processes' diagrams.
    for process_id in ("software_implementation", "testing_acceptance", "golive_operation"):
        assert f"/instances/{instance_id}/diagrams/{process_id}" in html
    # History, newest first, with who did it.
    assert html.index("完成步驟：需求初審") < html.index("提交申請，流程開始")
    assert "ivan" in html
    # Current data with the forms' labels and option labels.
    assert "初審結論" in html and "受理" in html
    assert "需求標題" in html and "OA 升級" in html
    # Documents so far: the request form.
    assert "《軟件升級改造需求申請表》" in html
    assert "《軟件升級改造需求分析報告》" not in html
    assert f"/instances/{instance_id}/documents/requirement_request" in html


def test_a_step_inside_a_called_process_is_marked_at_its_call_activity(app, browser, drive):
    """Waiting at `implement` (in the implementation process), the main diagram marked nothing."""
    alice = browser("alice", "business")
    instance_id = start_request(app, "alice", title="OA 升級")
    drive.walk(instance_id, "implement")
    config = diagram_config(alice.get(f"/instances/{instance_id}").text)
    assert config["waiting"] == ["implementation"]
    called = diagram_config(alice.get(f"/instances/{instance_id}/diagrams/software_implementation").text)
    assert "implement" in called["waiting"]


def test_the_diagram_file_is_served_as_deployed(app, browser):
    alice = browser("alice", "business")
    response = alice.get("/processes/software_upgrade/1/files/software_upgrade.bpmn")
    assert response.status_code == 200
    # Text for the viewer's script, never a document the browser renders: an XML page would run
    # an XHTML <script> a diagram's extension elements carry.
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == "attachment"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with open("processes/software_upgrade.bpmn", encoding="utf-8") as source:
        assert response.text == source.read()
    assert alice.get("/processes/software_upgrade/1/files/risk_matrix.dmn").status_code == 403  # owners'
    assert (
        browser("olga", "process_owner")
        .get("/processes/software_upgrade/1/files/risk_matrix.dmn")
        .status_code
        == 200
    )
    assert alice.get("/processes/software_upgrade/1/files/nothing.bpmn").status_code == 404
    assert alice.get("/processes/software_upgrade/9/files/software_upgrade.bpmn").status_code == 404
    assert alice.get("/processes/nothing/1/files/software_upgrade.bpmn").status_code == 404


def test_a_called_process_diagram_page(app, browser):
    alice = browser("alice", "business")
    instance_id = start_request(app, "alice")
    page = alice.get(f"/instances/{instance_id}/diagrams/testing_acceptance")
    assert page.status_code == 200
    assert "測試與驗收" in page.text
    assert diagram_config(page.text)["url"].endswith("/files/testing_acceptance.bpmn")
    assert alice.get(f"/instances/{instance_id}/diagrams/nothing").status_code == 404


def test_a_document_page(app, browser):
    alice = browser("alice", "business")
    instance_id = start_request(app, "alice", title="文件測試")
    page = alice.get(f"/instances/{instance_id}/documents/requirement_request")
    assert page.status_code == 200
    assert "《軟件升級改造需求申請表》" in page.text
    assert "文件測試" in page.text
    assert "辦公自動化(OA)系統" in page.text  # the option's label, not its value "oa"
    assert alice.get(f"/instances/{instance_id}/documents/analysis_report").status_code == 404
    assert alice.get(f"/instances/{instance_id}/documents/nothing").status_code == 404


def test_an_unknown_instance_is_404(browser):
    page = browser("alice", "business").get("/instances/999")
    assert page.status_code == 404
    assert "找不到此流程實例" in page.text


def test_the_detail_page_offers_the_task_to_who_may_do_it(app, browser):
    alice = browser("alice", "business")
    browser("ivan", "it")
    instance_id = start_request(app, "alice")
    ivan = Browser(app, "ivan")
    [task] = ivan.tasks()
    assert f'href="/tasks/{task.id}?instance={instance_id}"' in ivan.get(f"/instances/{instance_id}").text
    assert f"/tasks/{task.id}" not in alice.get(f"/instances/{instance_id}").text


def test_a_called_step_is_drawn_at_every_call_activity_to_it_and_through_nested_calls():
    from bundles import bpmn

    from web.pages.instances import _drawn_at
    from web.pages.sources import Sources

    def calling(*calls):
        return "".join(f'<bpmn:callActivity id="{c}" calledElement="{called}"/>' for c, called in calls)

    files = {
        "main.bpmn": bpmn(calling(("first_review", "sub"), ("second_review", "sub")), "main").decode(),
        "sub.bpmn": bpmn(calling(("deep", "leaf")) + '<bpmn:userTask id="look"/>', "sub").decode(),
        "leaf.bpmn": bpmn('<bpmn:userTask id="check"/>', "leaf").decode(),
    }
    sources = Sources(files)
    assert _drawn_at(sources, "main", "look") == {"first_review", "second_review"}
    assert _drawn_at(sources, "main", "check") == {"first_review", "second_review"}  # two calls deep
    assert _drawn_at(sources, "sub", "check") == {"deep"}
    assert _drawn_at(sources, "main", "first_review") == {"first_review"}


def test_a_called_step_is_found_once_through_calls_inside_one_file():
    """Calls from a called file to another process of that file were searched again and again:
    five of them took seconds on every page view."""
    from bundles import bpmn

    from web.pages.instances import _drawn_at
    from web.pages.sources import Sources

    calls = "".join(f'<bpmn:callActivity id="c{n}" calledElement="q"/>' for n in range(12))
    sub = (
        bpmn(calls, "p")
        .decode()
        .replace(
            "</bpmn:definitions>",
            '<bpmn:process id="q" isExecutable="false"><bpmn:userTask id="u"/></bpmn:process></bpmn:definitions>',
        )
    )
    main = bpmn('<bpmn:callActivity id="call_p" calledElement="p"/>', "main").decode()
    sources = Sources({"main.bpmn": main, "sub.bpmn": sub})
    assert _drawn_at(sources, "main", "u") == {"call_p"}

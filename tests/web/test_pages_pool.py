"""The requirement pool and annual plan pages (issue 9): who sees what, CSV, and a plan's life."""

import csv
import io
import re

from conftest_pages import Browser, browser_fixture, start_request  # noqa: F401 - the browser fixture

import engine
from web.extensions import db


def review(app, instance_id, decision, comment=""):
    """Preliminary review by an IT member (engine call)."""
    with app.app_context():
        actor = engine.Actor("ivan_it", frozenset({"it"}))
        [task] = engine.list_tasks(db.session, actor, instance_id=instance_id)
        data = {"decision": decision, "comment": comment, "in_it_plan": decision == "accept"}  # R3.1.2
        engine.complete_task(db.session, task.id, data, actor)
        db.session.commit()


def listed(html):
    return [int(i) for i in re.findall(r'href="/instances/(\d+)"', html)]


def test_it_sees_the_pool_and_the_declined_requests_with_reasons(app, browser):
    ivan = browser("ivan", "it")
    browser("alice", "business")
    accepted = start_request(app, "alice", title="公文系統升級")
    rejected = start_request(app, "alice", title="遊戲平台")
    returned = start_request(app, "alice", title="報表工具")
    review(app, accepted, "accept")
    review(app, rejected, "reject", "不符合信息化規劃。")
    review(app, returned, "return", "請補充業務背景。")

    page = ivan.get("/pool")
    assert page.status_code == 200
    pool, declined = page.text.split('id="declined-title"')
    assert listed(pool) == [accepted] and "公文系統升級" in pool
    assert sorted(listed(declined)) == sorted([rejected, returned])
    assert "不符合信息化規劃。" in declined and "請補充業務背景。" in declined
    assert listed(ivan.get("/pool?q=遊戲").text.split('id="declined-title"')[0]) == []


def test_business_sees_only_its_own_accepted_requests_and_no_declined_list(app, browser):
    alice = browser("alice", "business")
    browser("bob", "business")
    mine = start_request(app, "alice", title="Alice 的需求")
    theirs = start_request(app, "bob", title="Bob 的需求")
    declined = start_request(app, "alice", title="被駁回的")
    review(app, mine, "accept")
    review(app, theirs, "accept")
    review(app, declined, "reject", "不需要。")
    page = alice.get("/pool")
    assert page.status_code == 200
    assert listed(page.text) == [mine]
    assert 'id="declined-title"' not in page.text and "不需要。" not in page.text
    assert 'href="/pool"' in page.text  # the nav item
    assert alice.get("/plans").status_code == 403


def test_other_groups_are_refused(app, browser):
    fiona = browser("fiona", "finance")
    for path in ("/pool", "/pool.csv", "/plans"):
        assert fiona.get(path).status_code == 403, path
    assert 'href="/pool"' not in fiona.get("/instances").text
    anonymous = app.test_client().get("/pool")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_pool_exports_csv_with_the_filters_applied(app, browser):
    ivan = browser("ivan", "it")
    browser("alice", "business")
    oa = start_request(app, "alice", title="公文系統升級", system="oa", department="行政部")
    crm = start_request(app, "alice", title="客戶管理", system="crm", department="銷售部")
    review(app, oa, "accept")
    review(app, crm, "accept")
    response = ivan.get("/pool.csv?system=crm")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8").removeprefix("\ufeff"))))
    assert rows[0][:3] == ["編號", "標題", "軟件系統"]
    assert [r[0] for r in rows[1:]] == [str(crm)]
    assert rows[1][3] == "銷售部"
    assert 'href="/pool.csv?system=crm"' in ivan.get("/pool?system=crm").text


def test_it_creates_fills_and_publishes_a_plan_that_then_stays_read_only(app, browser):
    ivan = browser("ivan", "it")
    maria = browser("maria", "management")
    browser("alice", "business")
    accepted = start_request(app, "alice", title="公文系統升級")
    review(app, accepted, "accept")

    created = ivan.post_form("/plans", {"year": "2026", "budget_ceiling": "100000", "owner": "ivan"})
    assert created.status_code == 302
    plan_url = created.headers["Location"]
    plan_page = ivan.get(plan_url).text
    assert "2026 v1" in plan_page and f'<option value="{accepted}">' in plan_page
    plan_id = int(plan_url.rsplit("/", 1)[1])

    too_much = ivan.post_form(
        f"/plans/{plan_id}/items", {"instance_id": accepted, "quarter": "Q2", "planned_budget": "150000"}
    )
    assert too_much.status_code == 302
    refused = ivan.post_form(f"/plans/{plan_id}/publish")
    assert refused.status_code == 302
    assert "超出預算上限" in ivan.get(plan_url).text  # the message, and the plan is still a draft
    ivan.post_form(
        f"/plans/{plan_id}/items", {"instance_id": accepted, "quarter": "Q2", "planned_budget": "90000"}
    )
    assert ivan.post_form(f"/plans/{plan_id}/publish").status_code == 302

    shown = maria.get(plan_url)
    assert shown.status_code == 200
    assert "Q2" in shown.text and "90,000" in shown.text and "需求分析" in shown.text  # phase
    assert "發佈計劃" not in shown.text and "列入計劃" not in shown.text
    # Read-only once published, whoever asks.
    assert (
        ivan.post_form(
            f"/plans/{plan_id}/items", {"instance_id": accepted, "quarter": "Q1", "planned_budget": "1"}
        ).status_code
        == 409
    )
    assert ivan.post_form(f"/plans/{plan_id}/items/{accepted}/remove").status_code == 409
    assert (
        maria.post_form("/plans", {"year": "2027", "budget_ceiling": "1", "owner": "maria"}).status_code
        == 403
    )
    with app.app_context():
        plan = engine.get_plan(db.session, engine.Actor("x", frozenset({"it"})), plan_id)
        assert [(i.instance_id, i.quarter, float(i.planned_budget)) for i in plan.items] == [
            (accepted, "Q2", 90000.0)
        ]

    revised = ivan.post_form(f"/plans/{plan_id}/revise")
    assert revised.status_code == 302 and "2026 v2" in ivan.get(revised.headers["Location"]).text
    listing = maria.get("/plans").text
    assert "2026 v1" in listing and "2026 v2" in listing and "建立年度計劃" not in listing


def test_an_estimate_in_fen_is_shown_to_the_fen(app, browser, drive):
    """The pool page and the plan's list showed 33,000 for 33,000.50 (rounded half to even, and
    to the yuan), while the CSV and the plan's own figures kept the fen."""
    ivan = browser("ivan", "it")
    browser("alice", "business")
    instance_id = start_request(app, "alice", title="公文系統升級")
    review(app, instance_id, "accept")
    drive.complete(
        instance_id,
        "requirement_analysis",
        cost_licences=10000,
        cost_implementation=20000.5,
        cost_training=3000,
    )
    page = ivan.get("/pool").text
    assert "33,000.50" in page and ">33,000<" not in page

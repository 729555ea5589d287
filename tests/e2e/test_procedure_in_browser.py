"""The whole procedure, by clicking: six departments and an admin, each logging in for their steps
and filling every form through form-js, in a real Chromium."""

import json
import re

from browser_staff import Staff, assert_stored
from e2e_config import ADMIN, PASSWORD
from formfill import fill_form
from harness import REQUEST
from playwright.sync_api import expect

import engine
from web.extensions import db


def request_form(live):
    with live.app.app_context():
        return engine.get_process(db.session, "software_upgrade").start_form


def raise_request(staff, live) -> int:
    """The business department fills in the request; an empty first try shows the form's errors."""
    page = staff.page
    staff.log_in("business")
    page.get_by_role("navigation", name="主導航").get_by_role("link", name="新需求申請").click()
    expect(page.locator("#form-root .fjs-form")).to_be_visible()
    before = staff_instances(live)
    staff.submit()
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator(".fjs-form-field-error").first).to_contain_text("此欄位為必填項。")
    assert staff_instances(live) == before  # nothing started

    fill_form(page, request_form(live), REQUEST)
    staff.submit()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect(page.locator(".flash--success")).to_contain_text("申請已提交")
    return int(page.url.rsplit("/", 1)[1])


def staff_instances(live) -> int:
    with live.app.app_context():
        return engine.list_instances(db.session).total


def test_the_whole_procedure_by_clicking(page, live, artifacts):
    staff = Staff(page, live, PASSWORD)
    instance_id = raise_request(staff, live)
    assert_stored(staff.instance(instance_id).data["requirement_request"], REQUEST)

    # R3.1–R3.2: IT reviews and analyses the request and its risks.
    staff.log_in("it")
    with live.app.app_context():
        waiting = len(engine.list_tasks(db.session, engine.get_user_by_name(db.session, "it").actor))
    expect(page.locator('.main-nav a[href="/"] .badge')).to_contain_text(str(waiting))
    page.screenshot(path=artifacts / "inbox.png", full_page=True)
    for step in ("preliminary_review", "requirement_analysis", "risk_identification"):
        staff.complete(instance_id, step)
    refused_then_answered(staff, instance_id, artifacts)
    staff.complete(instance_id, "analysis_report")

    # R3.3: IT applies; finance and management decide side by side.
    for step in ("initiation_application", "budget_audit", "initiation_review"):
        staff.complete(instance_id, step)

    # R3.4: contract, plan, implementation — with a change request on the way (R3.4.5).
    staff.complete(instance_id, "sign_contract", support_months=1)
    for step in ("implementation_plan", "plan_review", "assign_business_testers"):
        staff.complete(instance_id, step)
    change_request(staff, live, instance_id)
    staff.complete(instance_id, "change_review")
    admin_sees_progress(staff, live, instance_id, artifacts)
    staff.complete(instance_id, "change_approval")
    staff.complete(instance_id, "implement")

    # R3.5: tested, failed once, rectified, tested again; accepted by IT and the business.
    staff.complete(instance_id, "self_test")
    staff.complete(instance_id, "joint_test", decision="fail", issues=[FOUND])
    staff.complete(instance_id, "rectify")
    staff.complete(instance_id, "joint_test", decision="pass")
    for step in ("acceptance", "business_acceptance", "training", "training_assessment"):
        staff.complete(instance_id, step)

    # R3.6: go-live, then an inspection every 30 days until the support period is over.
    staff.complete(instance_id, "golive_plan")
    staff.complete(instance_id, "golive")
    inspections = 0
    while not [t for t in staff.open_tasks(instance_id) if t.name == "project_closure"]:
        assert inspections < 4, "the support period never ended"
        live.clock.advance(days=30)
        assert live.fire_timers() >= 1
        staff.complete(instance_id, "inspection")
        inspections += 1
    staff.complete(instance_id, "project_closure")

    info = staff.instance(instance_id)
    assert info.status == "completed"
    assert info.completed_elements["joint_test"] == 2
    assert info.completed_elements["rectify"] == 1
    assert info.completed_elements["change_approval"] == 1
    page.goto(f"{live.url}/instances/{instance_id}")
    expect(page.locator(".page-head .status")).to_have_text("已完成")


FOUND = {"title": "移動端審批按鈕無響應", "severity": "high", "description": "在部分手機上點擊審批無反應。"}


def refused_then_answered(staff, instance_id, artifacts):
    """R5.3.1: a high risk needs measures. The server refuses the form without them, and its
    message appears under the field; nothing is stored until the measures are given."""
    page = staff.page
    task = staff.task(instance_id, "risk_response")
    staff.log_in("it")
    staff.open_from_inbox(task)
    page.expect_statuses({422})
    staff.submit()
    error = page.locator(".fjs-form-field-textarea .fjs-form-field-error")
    expect(error).to_be_visible()
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#form-errors")).to_contain_text("第 1 項")
    page.screenshot(path=artifacts / "task-form-refused.png", full_page=True)
    assert "risk_response" not in staff.instance(instance_id).data
    assert staff.task(instance_id, "risk_response").id == task.id  # still waiting

    schema, values = staff.form(task, "it")
    data = staff.data_for(task, values)
    fill_form(page, schema, data)
    page.screenshot(path=artifacts / "task-form.png", full_page=True)
    staff.submit()
    expect(page.locator(".flash--success")).to_be_visible()
    assert staff.instance(instance_id).data["risk_response"]["risks"][0]["measures"]


CHANGE = {"reason": "業務部門要求增加公文批量審批功能。", "scope_change": "增加批量審批。"}


def change_request(staff, live, instance_id):
    """The vendor raises a change request from the instance's page while implementing."""
    page = staff.page
    staff.log_in("vendor")
    page.goto(f"{live.url}/instances/{instance_id}")
    page.get_by_text("填寫變更請求").click()
    expect(page.locator("#form-root .fjs-form")).to_be_visible()
    with live.app.app_context():
        schema = engine.process_sources(db.session, "software_upgrade")["change_request.form"]
    fill_form(page, json.loads(schema), CHANGE)
    staff.submit()
    expect(page.locator(".flash--success")).to_be_visible()
    expect(page).to_have_url(f"{live.url}/instances/{instance_id}")
    events = [e for e in instance_events(live, instance_id) if e.type == "message_received"]
    assert len(events) == 1
    assert events[0].actor == "vendor"
    assert {k: events[0].data[k] for k in CHANGE} == CHANGE
    assert "change_review" in [t.name for t in staff.open_tasks(instance_id)]


def instance_events(live, instance_id):
    with live.app.app_context():
        return engine.instance_events(db.session, instance_id)


def admin_sees_progress(staff, live, instance_id, artifacts):
    """The admin opens the instance: done steps and waiting ones are marked on the diagram."""
    page = staff.page
    staff.log_in(ADMIN)
    page.goto(f"{live.url}/instances/{instance_id}")
    diagram = page.locator("#diagram[data-ready=true]")
    expect(diagram).to_be_visible()
    expect(diagram.locator('.djs-element.uf-completed[data-element-id="preliminary_review"]')).to_have_count(
        1
    )
    expect(diagram.locator('.djs-element.uf-waiting[data-element-id="change_approval"]')).to_have_count(1)
    assert diagram.locator(".djs-element.uf-completed").count() >= 10
    diagram.screenshot(path=artifacts / "instance-diagram.png")

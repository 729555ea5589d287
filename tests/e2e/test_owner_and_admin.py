"""A process owner changes the diagram in the modeller and deploys it; an admin watches an
instance on its diagram and suspends and resumes it."""

import pytest
from browser_staff import Staff, start_instance, walk_to
from e2e_config import ADMIN, PASSWORD
from live_server import start_server
from page_watch import Watch
from playwright.sync_api import expect

import engine
from web.extensions import db

NEW_NAME = "用戶培訓（分批進行）"


@pytest.fixture
def own_server(database_url):
    """A server of its own: deploying version 2 must not change what the other tests see."""
    server, stop = start_server(database_url, {"owner": ("process_owner",)}, password=PASSWORD)
    yield server
    stop()


def test_the_process_owner_renames_a_task_and_deploys_version_2(chromium, own_server):
    live = own_server
    assert live.has_endpoint("pages.edit_source")
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        watch = Watch(page, live.url)
        Staff(page, live, PASSWORD).log_in("owner")
        page.goto(live.url + "/processes/software_upgrade/edit/software_upgrade.bpmn")
        editor = page.locator("#editor")
        expect(editor).to_have_attribute("data-ready", "true")

        editor.locator('.djs-element[data-element-id="training"]').dblclick()
        box = page.locator(".djs-direct-editing-parent")
        expect(box).to_be_visible()
        page.keyboard.press("Control+A")
        page.keyboard.type(NEW_NAME)
        editor.locator('.djs-element[data-element-id="training_assessment"]').click()  # done editing
        expect(editor.locator('.djs-element[data-element-id="training"]')).to_contain_text("分批進行")
        page.locator("#editor-deploy").click()
        expect(page.locator("#editor-status")).to_contain_text("software_upgrade v2")

        with live.app.app_context():
            process = engine.get_process(db.session, "software_upgrade")
            assert process.version == 2
            assert (
                f'name="{NEW_NAME}"'
                in engine.process_sources(db.session, "software_upgrade", 2)["software_upgrade.bpmn"]
            )
            assert (
                NEW_NAME
                not in engine.process_sources(db.session, "software_upgrade", 1)["software_upgrade.bpmn"]
            )
        page.goto(live.url + "/processes/software_upgrade/versions/2")
        expect(page.locator("#diagram")).to_have_attribute("data-ready", "true")
        expect(page.locator("#diagram")).to_contain_text("分批進行")
        watch.check()
    finally:
        context.close()


def test_the_admin_sees_progress_on_the_diagram_and_suspends_and_resumes(page, live, artifacts):
    instance_id = start_instance(live, title="管理員查看")
    walk_to(live, instance_id, "risk_identification")
    staff = Staff(page, live, PASSWORD)
    staff.log_in(ADMIN)
    page.goto(f"{live.url}/instances/{instance_id}")
    diagram = page.locator("#diagram[data-ready=true]")
    expect(diagram).to_be_visible()
    for done in ("preliminary_review", "requirement_analysis"):
        expect(diagram.locator(f'.djs-element.uf-completed[data-element-id="{done}"]')).to_have_count(1)
    expect(diagram.locator('.djs-element.uf-waiting[data-element-id="risk_identification"]')).to_have_count(1)
    expect(diagram.locator('.djs-element.uf-completed[data-element-id="risk_identification"]')).to_have_count(
        0
    )
    expect(diagram.locator('.djs-element.uf-waiting[data-element-id="analysis_report"]')).to_have_count(0)
    page.screenshot(path=artifacts / "instance-admin.png", full_page=True)

    assert live.has_endpoint("pages.admin_repair")
    page.get_by_label("原因").first.fill("等待供應商確認合同條款。")
    page.get_by_role("button", name="暫停").click()
    expect(page.locator(".page-head .status")).to_have_text("已暫停")
    assert staff.instance(instance_id).status == "suspended"

    page.get_by_label("原因").first.fill("合同條款已確認。")
    page.get_by_role("button", name="恢復").click()
    expect(page.locator(".page-head .status")).to_have_text("進行中")
    assert staff.instance(instance_id).status == "running"
    assert "risk_identification" in [t.name for t in staff.open_tasks(instance_id)]


def test_a_bulk_operation_shows_it_is_working_until_the_results_come(page, live):
    assert live.has_endpoint("pages.admin_bulk")
    ids = [start_instance(live, title=f"批量暫停 {n}") for n in (1, 2)]
    Staff(page, live, PASSWORD).log_in(ADMIN)
    page.goto(live.url + "/admin/instances")
    for instance_id in ids:
        page.locator(f"#pick-{instance_id}").check()
    page.get_by_label("操作").select_option("suspend")
    page.locator("#bulk-reason").fill("系統維護。")

    # The request is held back until the page has been seen waiting for its answer.
    held, released = [], []

    def hold(route):
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route("**/admin/instances/bulk", hold)
    # Clicked from the page's own script, which then reads the page while the answer is held
    # (Playwright's locators would wait for the pending navigation instead).
    disabled, busy, status = page.evaluate(
        """() => new Promise(resolve => {
             const button = document.querySelector('.bulk-actions [type=submit]');
             button.click();
             setTimeout(() => {
               const status = document.querySelector('.bulk-actions [role=status]');
               resolve([button.disabled, button.getAttribute('aria-busy'), status && status.textContent]);
             }, 0);
           })"""
    )
    assert (disabled, busy, status) == (True, "true", "正在處理，請稍候…")
    released.append(True)
    for route in held:
        route.continue_()

    expect(page.locator("h1")).to_have_text("批量操作結果")
    expect(page.locator(".result--ok")).to_have_count(2)
    with live.app.app_context():
        assert [engine.get_instance(db.session, i).status for i in ids] == ["suspended", "suspended"]

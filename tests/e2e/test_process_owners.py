"""Process owners in the browser: every MIWG reference diagram drawn by the viewer, the version
page's waiting counts, and the modeller, form and DMN editors loading from our own static files."""

from pathlib import Path

import pytest
from e2e_config import PASSWORD, ROOT
from playwright.sync_api import expect

import engine
from web.extensions import db

MIWG = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "miwg-reference"
OWNER = "owner"
EDITOR_FILES = (
    "node_modules/bpmn-js-properties-panel/dist/bpmn-js-properties-panel.umd.js",
    "node_modules/dmn-js/dist/dmn-modeler.development.js",
    "node_modules/camunda-bpmn-moddle/resources/camunda.json",
)
MISSING_EDITORS = [path for path in EDITOR_FILES if not (ROOT / path).exists()]


@pytest.fixture
def owner_page(page, live):
    with live.app.app_context():
        if engine.get_user_by_name(db.session, OWNER) is None:
            engine.create_user(db.session, OWNER, PASSWORD, ["process_owner"], display_name=OWNER)
            db.session.commit()
    page.goto(live.url + "/login")
    page.get_by_label("用戶名").fill(OWNER)
    page.get_by_label("密碼").fill(PASSWORD)
    page.locator(".login__card").get_by_role("button", name="登入").click()
    expect(page.locator(".user-box__name")).to_contain_text(OWNER)
    return page


@pytest.mark.skipif(
    not MIWG.exists(), reason="../shared/conformance/miwg-reference is not beside this checkout"
)
def test_the_viewer_draws_every_miwg_reference_diagram(owner_page, live):
    owner_page.goto(live.url + "/processes/viewer")
    report = owner_page.locator("#import-report")
    drawn = {}
    for path in sorted(MIWG.glob("*.bpmn")):
        owner_page.evaluate("document.getElementById('import-report').dataset.status = 'loading'")
        owner_page.set_input_files("#viewer-file", str(path))
        expect(report).not_to_have_attribute("data-status", "loading")
        drawn[path.name] = report.get_attribute("data-status")
        assert owner_page.locator("#viewer .djs-element").count() > 0, path.name
    assert len(drawn) == 21
    assert set(drawn.values()) <= {"ok", "warnings"}, drawn  # never "failed"


@pytest.mark.skipif(
    bool(MISSING_EDITORS), reason=f"node_modules lacks {MISSING_EDITORS} (npm ci --ignore-scripts)"
)
def test_the_editors_open_the_latest_version_and_the_modeller_deploys_through_the_checks(owner_page, live):
    owner_page.goto(live.url + "/processes/software_upgrade/versions/1")
    expect(owner_page.locator("#diagram")).to_have_attribute("data-ready", "true")
    owner_page.goto(live.url + "/processes/software_upgrade/edit/software_upgrade.bpmn")
    expect(owner_page.locator("#editor")).to_have_attribute("data-ready", "true")
    expect(owner_page.locator("#properties .bio-properties-panel")).to_be_visible()
    owner_page.locator("#editor-deploy").click()
    # Saved by bpmn-js without changes: the checks pass and the process keeps its version.
    expect(owner_page.locator("#editor-status")).to_contain_text("software_upgrade v1")
    for filename, ready in (
        ("risk_matrix.dmn", ".tjs-table"),
        ("requirement_request.form", ".fjs-editor-container"),
    ):
        owner_page.goto(live.url + f"/processes/software_upgrade/edit/{filename}")
        expect(owner_page.locator("#editor")).to_have_attribute("data-ready", "true")
        expect(owner_page.locator(ready).first).to_be_visible()


QUICKSTART = MIWG.parent / "camunda-forms-quickstart"


@pytest.mark.skipif(not QUICKSTART.exists(), reason="../shared/conformance is not beside this checkout")
def test_the_camunda_forms_quickstart_runs_to_its_end_in_the_browser(page, live):
    from browser_staff import Staff

    with live.app.app_context():
        engine.deploy(db.session, engine.bundle_files(QUICKSTART), "e2e")  # unchanged if deployed
        if engine.get_user_by_name(db.session, "demo") is None:
            engine.create_user(db.session, "demo", PASSWORD, (), display_name="demo")
        db.session.commit()
    staff = Staff(page, live, PASSWORD)
    staff.log_in("business")
    page.goto(live.url + "/requests/new?process=camundaFormsQuickstart")
    invoice = {"creditor": "Great Pizza for Everyone Inc.", "amount": "30", "invoiceNumber": "C-7"}
    # The quickstart's components have no ids (form-js makes them up), so fields go by label.
    form = page.locator("#form-root")
    for label, key in (("Creditor", "creditor"), ("Amount", "amount"), ("Invoice Number", "invoiceNumber")):
        form.get_by_label(label).fill(invoice[key])
    staff.submit()
    expect(page.locator(".flash--success")).to_be_visible()
    with live.app.app_context():
        [started] = engine.list_instances(
            db.session, process_id="camundaFormsQuickstart", initiator="business", status="running"
        ).items
        demo = engine.get_user_by_name(db.session, "demo").actor
        [task] = [t for t in engine.list_tasks(db.session, demo) if t.instance_id == started.id]
    assert (task.name, task.assignee) == ("UserTask_1", "demo")
    staff.log_in("demo")
    staff.open_from_inbox(task)
    _, values = staff.form(task, "demo")
    assert {key: values.get(key) for key in invoice} == invoice  # the start form's variables
    expect(form.get_by_label("Creditor")).to_have_value(invoice["creditor"])
    form.get_by_label("Approved?").fill("true")
    form.get_by_label("Approved By").fill("demo")
    staff.submit()
    expect(page.locator(".flash--success")).to_be_visible()
    finished = staff.instance(started.id)
    assert (finished.status, finished.data["UserTask_1"]["creditor"]) == ("completed", invoice["creditor"])

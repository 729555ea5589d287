"""Process owners' pages: processes and versions, a version's diagram with waiting counts,
downloads, diffs, the upload form (CSRF, every problem shown), the editors and the viewer."""

import json
import re
from io import BytesIO

import pytest
from bundles import FORM, NOTE_FORM, bpmn, user_task
from conftest_pages import Browser, browser_fixture, start_request  # noqa: F401 - the fixture

import engine
from tests.integration.versions_v2 import version_two
from web.extensions import db

OWNER_PAGES = [
    "/processes",
    "/processes/software_upgrade/versions/1",
    "/processes/software_upgrade/versions/1/sources/software_upgrade.bpmn",
    "/processes/software_upgrade/diff?from=1&to=1",
    "/processes/deploy",
    "/processes/software_upgrade/edit/software_upgrade.bpmn",
    "/processes/software_upgrade/edit/risk_matrix.dmn",
    "/processes/software_upgrade/edit/requirement_request.form",
    "/processes/viewer",
]


@pytest.fixture
def owner(browser):
    return browser("olga", "process_owner")


def versions_of(app, process_id="software_upgrade"):
    with app.app_context():
        return [v.version for v in engine.list_versions(db.session, process_id)]


def renamed_bundle():
    files = engine.bundle_files("processes", "forms")
    files["software_upgrade.bpmn"] = files["software_upgrade.bpmn"].replace(
        "需求初審".encode(), "需求初步審核".encode()
    )
    return files


def upload(owner, files, csrf=True):
    data = {"files": [(BytesIO(content), name) for name, content in files.items()]}
    if csrf:
        data["csrf_token"] = owner.token()
    return owner.client.post("/processes/deploy", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("path", OWNER_PAGES)
def test_every_owner_page_renders_for_a_process_owner(owner, path):
    response = owner.get(path)
    assert response.status_code == 200, response.text[:500]


@pytest.mark.parametrize("path", OWNER_PAGES)
def test_others_get_a_403(browser, path):
    assert browser("ivy", "it").get(path).status_code == 403


def test_an_admin_sees_the_processes_in_the_navigation(browser):
    page = browser("ada", admin=True).get("/processes").text
    assert 'href="/processes" aria-current="page"' in page
    assert 'href="/processes"' not in browser("bob", "business").get("/instances").text


def test_the_processes_page_lists_who_deployed_each_version_and_the_instances_on_it(app, owner, make_user):
    make_user("bob", "business")
    start_request(app, "bob")
    assert upload(owner, renamed_bundle()).status_code == 302
    page = owner.get("/processes").text
    page = page[page.index('id="p-software_upgrade"') :].split("</section>")[0]
    rows = re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", page, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows]
    assert [(c[0], c[2], c[3]) for c in cells] == [("olga", "0", "0"), ("tests", "1", "1")]
    assert "/processes/software_upgrade/diff?from=1&amp;to=2" in page


def test_the_version_page_counts_the_instances_waiting_at_each_task(app, owner, make_user):
    make_user("bob", "business")
    start_request(app, "bob")
    start_request(app, "bob")
    page = owner.get("/processes/software_upgrade/versions/1").text
    config = json.loads(re.search(r'id="diagram-config">(.*?)</script>', page, re.S).group(1))
    assert config["waiting_counts"] == {"preliminary_review": 2}
    assert config["url"] == "/processes/software_upgrade/1/files/software_upgrade.bpmn"
    assert re.search(r"需求初審.*?<td>2</td>", page, re.S)
    assert 'href="/processes/software_upgrade/versions/1/sources/risk_matrix.dmn" download' in page


def test_a_download_is_the_file_as_deployed(owner):
    files = engine.bundle_files("processes", "forms")
    for name in ("software_upgrade.bpmn", "requirement_request.form"):
        response = owner.get(f"/processes/software_upgrade/versions/1/sources/{name}")
        assert response.data == files[name]
        assert response.headers["Content-Disposition"] == f"attachment; filename={name}"


def test_the_diff_page_names_the_changed_elements(app, owner):
    upload(owner, renamed_bundle())
    page = owner.get("/processes/software_upgrade/diff?from=1&to=2").text
    assert "需求初步審核 (preliminary_review): bpmn_name" in page
    assert owner.get("/processes/software_upgrade/diff?from=x").status_code == 400


def test_the_diff_page_names_a_renamed_element_with_its_old_and_new_id(app, owner):
    upload(owner, version_two(engine.bundle_files("processes", "forms")))
    page = owner.get("/processes/software_upgrade/diff?from=1&to=2").text
    assert "需求分析與評估 (requirement_analysis → requirement_evaluation)" in page


def test_an_upload_deploys_and_an_unchanged_one_keeps_its_version(app, owner):
    response = upload(owner, renamed_bundle())
    assert (response.status_code, response.location) == (302, "/processes")
    assert versions_of(app) == [2, 1]
    upload(owner, renamed_bundle())
    assert versions_of(app) == [2, 1]


def test_a_refused_upload_shows_every_problem_and_stores_nothing(app, owner):
    bad = {**renamed_bundle(), "p.bpmn": bpmn(user_task(group="sales", form="nowhere"))}
    response = upload(owner, bad)
    assert response.status_code == 400
    problems = re.search(r'id="deploy-problems".*?</ul>', response.text, re.S).group(0)
    assert "sales" in problems and "nowhere" in problems and "p.bpmn" in problems
    assert versions_of(app) == [1]


def test_an_upload_without_the_csrf_token_is_refused(app, owner):
    assert upload(owner, renamed_bundle(), csrf=False).status_code == 400
    assert versions_of(app) == [1]


def edit(owner, process_id, files, csrf=True):
    data = {"files": [(BytesIO(content), name) for name, content in files.items()]}
    headers = {"Accept": "application/json"}
    if csrf:
        headers["X-CSRFToken"] = owner.token()
    return owner.client.post(f"/processes/{process_id}/edit", data=data, headers=headers)


def test_the_modeller_deploys_an_edited_diagram_with_the_versions_other_files(app, owner):
    page = owner.get("/processes/software_upgrade/edit/software_upgrade.bpmn").text
    config = json.loads(re.search(r'id="editor-config">(.*?)</script>', page, re.S).group(1))
    assert (config["kind"], config["deploy_url"]) == ("bpmn", "/processes/software_upgrade/edit")
    assert "bpmn-js-properties-panel.umd.js" in page and "bpmn-modeler.production.min.js" in page
    assert config["camunda_moddle"].startswith("/static/vendor/camunda-bpmn-moddle/resources/camunda.json")
    edited = {"software_upgrade.bpmn": renamed_bundle()["software_upgrade.bpmn"]}
    response = edit(owner, "software_upgrade", edited)
    assert response.status_code == 201
    assert {"id": "software_upgrade", "version": 2} in response.get_json()["processes"]
    with app.app_context():
        sources = engine.process_sources(db.session, "software_upgrade", 2)
    assert sources["risk_matrix.dmn"].encode() == engine.bundle_files("processes")["risk_matrix.dmn"]


def test_an_edit_never_brings_back_a_diagram_another_deployment_replaced(app, owner):
    """The version's other files went back as stored with it: `document_review.bpmn`, replaced
    since by a deployment of its own, came back as a new version with the old content."""
    newer = engine.bundle_files("processes")["document_review.bpmn"].replace(
        "文檔審核與歸檔".encode(), "文檔審核與歸檔（新）".encode()
    )
    with app.app_context():
        engine.deploy(db.session, {"document_review.bpmn": newer}, "olga")
        db.session.commit()
    assert versions_of(app, "document_review") == [2, 1]
    page = owner.get("/processes/software_upgrade/edit/document_review.bpmn").text
    config = json.loads(re.search(r'id="editor-config">(.*?)</script>', page, re.S).group(1))
    assert config["url"] == "/processes/document_review/2/files/document_review.bpmn"
    edited = {"software_upgrade.bpmn": renamed_bundle()["software_upgrade.bpmn"]}
    response = edit(owner, "software_upgrade", edited)
    assert response.status_code == 201
    assert {"id": "document_review", "version": 3} not in response.get_json()["processes"]
    assert versions_of(app, "document_review") == [2, 1]
    assert versions_of(app) == [2, 1]
    with app.app_context():
        kept = engine.process_sources(db.session, "software_upgrade", 2)["document_review.bpmn"]
    assert kept.encode() == newer


def test_an_edited_form_no_step_links_yet_is_kept_not_dropped(app, owner):
    """Only linked forms counted: the edit made no version and was stored nowhere, though the
    editor said it was deployed."""
    extra = '{"id": "extra", "type": "default", "components": [{"key": "note", "type": "textfield", "label": "新標籤"}]}'.encode()
    response = edit(owner, "software_upgrade", {"extra.form": extra})
    assert response.status_code == 201
    assert {"id": "software_upgrade", "version": 2} in response.get_json()["processes"]
    with app.app_context():
        assert engine.process_sources(db.session, "software_upgrade", 2)["extra.form"].encode() == extra
    again = edit(owner, "software_upgrade", {"extra.form": extra})  # the same again: no change
    assert {"id": "software_upgrade", "version": 2} in again.get_json()["processes"]
    assert versions_of(app) == [2, 1]


def test_an_edit_takes_no_file_of_another_process_that_only_shares_its_name(app, owner):
    """Two processes drawn in files of one name (Camunda Modeler's `diagram_1.bpmn`): the other
    process's newer file was sent back as this one's, and the edit went nowhere."""
    with app.app_context():
        for process_id in ("proc_a", "proc_b"):
            body = user_task(form="check", group="it")
            engine.deploy(
                db.session, {"diagram_1.bpmn": bpmn(body, process_id), "check.form": NOTE_FORM}, "olga"
            )
        db.session.commit()
        sources = engine.current_sources(db.session, "proc_a")
    assert 'id="proc_a"' in sources["diagram_1.bpmn"][2]
    page = owner.get("/processes/proc_a/edit/diagram_1.bpmn").text
    config = json.loads(re.search(r'id="editor-config">(.*?)</script>', page, re.S).group(1))
    assert config["url"] == "/processes/proc_a/1/files/diagram_1.bpmn"


def test_the_editors_show_the_checks_problems_and_store_nothing(app, owner):
    broken = FORM.replace(b'"components"', b'"nothing"')
    response = edit(owner, "software_upgrade", {"requirement_request.form": broken})
    body = response.get_json()
    assert (response.status_code, body["error"]) == (400, "deployment_refused")
    assert body["problems"][0]["file"] == "requirement_request.form"
    assert edit(owner, "software_upgrade", {"x.bpmn": b"<a/>"}, csrf=False).status_code == 400
    assert versions_of(app) == [1]


@pytest.mark.parametrize(
    ("filename", "script"),
    [
        ("risk_matrix.dmn", "dmn-modeler.development.js"),
        ("requirement_request.form", "form-editor.umd.js"),
    ],
)
def test_the_decision_and_form_editors_load_their_libraries(owner, filename, script):
    page = owner.get(f"/processes/software_upgrade/edit/{filename}").text
    assert script in page
    assert "cdn" not in page.lower() and "https://" not in page


def test_an_unknown_file_has_no_editor(owner):
    assert owner.get("/processes/software_upgrade/edit/nothing.bpmn").status_code == 404

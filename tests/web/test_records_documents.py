"""The document library (R4): documents produced by a full run, versions and hashes, the
permission table group × category on page, API and download, PDF, retention and backup."""

import hashlib
import json

import pytest
from apiclient import GROUPS, snapshot
from conftest_pages import Browser, browser_fixture  # noqa: F401 - the `browser` fixture

import engine
from engine.document_catalog import CATEGORY, READERS, SPECS
from web.extensions import db

EVERY_DOCUMENT = [s.id for s in SPECS]


@pytest.fixture
def finished(app, drive, make_user):
    """An instance walked through the whole procedure up to go-live."""
    applicant = make_user("applicant", "business")
    instance_id = drive.start(applicant, title="文件庫測試")
    drive.walk(instance_id, "golive")
    return instance_id


def stored(app, instance_id):
    from sqlalchemy import select

    from engine.models import DocumentVersionRecord

    with app.app_context():
        return list(
            db.session.scalars(
                select(DocumentVersionRecord)
                .where(DocumentVersionRecord.instance_id == instance_id)
                .order_by(DocumentVersionRecord.id)
            )
        )


def canonical_hash(content):
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_a_full_run_produces_every_named_document_once_with_its_hash(app, finished):
    rows = stored(app, finished)
    assert list(dict.fromkeys(r.document_id for r in rows)) == EVERY_DOCUMENT  # the procedure's order
    versions = {d: [r.version for r in rows if r.document_id == d] for d in EVERY_DOCUMENT}
    # The test report is written at the self-test and completed by the joint test's result.
    assert versions == {d: [1, 2] if d == "test_report" else [1] for d in EVERY_DOCUMENT}
    for row in rows:
        assert row.sha256 == canonical_hash(row.content)
        assert row.category == {s.id: s.category for s in SPECS}[row.document_id]
    by_id = {r.document_id: r for r in rows}  # the latest versions
    assert by_id["contract"].content["sign_contract"]["contract_no"] == "HT-2026-001"
    assert by_id["contract"].author == "it_driver"  # IT signs the contract (R3.4.1)
    plan = by_id["implementation_plan"]
    assert plan.reviewer == "it_driver" and plan.approved_at is not None  # plan_review approved it
    report = by_id["acceptance_report"]
    assert {(s["step"], s["signer"], s["user"]) for s in report.signoffs} == {
        ("acceptance", "王主任", "it_driver"),
        ("business_acceptance", "李經理", "business_driver"),
    }
    assert all(s["at"] for s in report.signoffs)
    assert report.category == "acceptance"


def test_a_changed_submission_is_a_new_version_and_the_old_one_is_kept(app, drive, make_user):
    applicant = make_user("applicant", "business")
    instance_id = drive.start(applicant)
    drive.walk(instance_id, "plan_review")
    drive.complete(instance_id, "plan_review", decision="revise")
    drive.complete(instance_id, "implementation_plan", team="項目經理一名，開發五名。")
    plans = [r for r in stored(app, instance_id) if r.document_id == "implementation_plan"]
    assert [p.version for p in plans] == [1, 2]
    assert plans[0].content["implementation_plan"]["team"] == "項目經理一名，開發三名。"
    assert plans[1].content["implementation_plan"]["team"] == "項目經理一名，開發五名。"
    assert plans[0].sha256 != plans[1].sha256
    assert plans[0].reviewer is None  # "revise" is not an approval


@pytest.mark.parametrize(
    ("finance", "management"), [("reject", "approve"), ("revise", "approve"), ("approve", "reject")]
)
def test_an_application_is_approved_only_when_both_reviewers_approve(
    app, drive, make_user, finance, management
):
    """Management's approval marked the project application approved (a reviewer and a time)
    though finance had refused the budget, and the project ended rejected."""
    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "budget_audit")
    drive.complete(instance_id, "initiation_review", decision=management)
    drive.complete(instance_id, "budget_audit", decision=finance)
    [application] = [r for r in stored(app, instance_id) if r.document_id == "initiation_application"]
    assert (application.reviewer, application.approved_at) == (None, None)


@pytest.mark.parametrize(
    "first, last", [("budget_audit", "initiation_review"), ("initiation_review", "budget_audit")]
)
def test_an_application_both_reviewers_approved_names_the_last_of_them(app, drive, make_user, first, last):
    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "budget_audit")
    drive.complete(instance_id, first, decision="approve")
    [application] = [r for r in stored(app, instance_id) if r.document_id == "initiation_application"]
    assert application.reviewer is None  # the other has not decided yet
    drive.complete(instance_id, last, decision="approve")
    [application] = [r for r in stored(app, instance_id) if r.document_id == "initiation_application"]
    group = {"budget_audit": "finance", "initiation_review": "management"}[last]
    assert application.reviewer == f"{group}_driver" and application.approved_at is not None


@pytest.mark.parametrize("first", ["acceptance", "business_acceptance"])
def test_the_acceptance_report_is_approved_whichever_acceptance_comes_first(app, drive, make_user, first):
    """IT's acceptance both writes the report and decides on it: with the business's decision
    first, that decision was taken for one made before the report was written, and the report
    was never approved."""
    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "acceptance")
    last = {"acceptance": "business_acceptance", "business_acceptance": "acceptance"}[first]
    drive.complete(instance_id, first, decision="accept")
    drive.complete(instance_id, last, decision="accept")
    [report] = [r for r in stored(app, instance_id) if r.document_id == "acceptance_report"]
    assert report.reviewer is not None and report.approved_at is not None


def test_a_revised_application_is_approved_only_by_decisions_made_on_it(app, drive, make_user):
    """Finance approved version 1 (180,000), management sent it back; version 2 (260,000) showed
    as approved once management approved it, with finance's audit of it still open."""
    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "budget_audit")
    drive.complete(instance_id, "budget_audit", decision="approve")
    drive.complete(instance_id, "initiation_review", decision="revise")
    drive.complete(instance_id, "initiation_application", budget=260000)
    drive.complete(instance_id, "initiation_review", decision="approve")
    versions = [r for r in stored(app, instance_id) if r.document_id == "initiation_application"]
    revised = max(versions, key=lambda r: r.version)
    assert (revised.version, revised.reviewer, revised.approved_at) == (2, None, None)
    drive.complete(instance_id, "budget_audit", decision="approve")  # finance audits version 2
    [revised] = [
        r for r in stored(app, instance_id) if r.document_id == "initiation_application" and r.version == 2
    ]
    assert revised.reviewer == "finance_driver" and revised.approved_at is not None


@pytest.mark.parametrize("group", GROUPS)
def test_the_permission_table_on_api_page_and_download(app, finished, people, group):
    caller = people[group]
    browser = Browser(app, caller.user.username)
    listed = {d["document_id"] for d in caller.get(f"/instances/{finished}/documents").get_json()}
    allowed = READERS[group]
    assert listed == {s.id for s in SPECS if s.category in allowed}
    for category in CATEGORY:
        doc = next(s.id for s in SPECS if s.category == category)
        expected = 200 if category in allowed else 403
        assert caller.get(f"/instances/{finished}/documents/{doc}").status_code == expected, category
        assert browser.get(f"/instances/{finished}/documents/{doc}").status_code == expected, category
        if category == "requirement":  # one PDF per group keeps the suite fast; the 403s are cheap
            download = browser.get(f"/instances/{finished}/documents/{doc}.pdf")
            assert download.status_code == expected
            if expected == 200:
                assert download.data.startswith(b"%PDF")
        else:
            api_pdf = caller.get(f"/instances/{finished}/documents/{doc}/pdf")
            assert api_pdf.status_code == expected or (expected == 200 and api_pdf.status_code == 200)


def test_the_api_gives_content_hash_and_versions(app, finished, people):
    body = people["it"].get(f"/instances/{finished}/documents/acceptance_report").get_json()
    assert body["document"]["sha256"] == canonical_hash(body["content"])
    assert body["document"]["category"] == "acceptance" and body["document"]["clause"] == "R3.5.5"
    assert [v["version"] for v in body["versions"]] == [1]
    missing = people["it"].get(f"/instances/{finished}/documents/acceptance_report", version=9)
    assert missing.status_code == 404
    typo = people["it"].get(f"/instances/{finished}/documents/acceptance_report", verison=1)
    assert typo.status_code == 400 and "verison: Unknown field." in typo.get_json()["message"]


def test_retention_lists_on_a_dry_run_and_destroys_only_when_confirmed(app, finished, drive, runner):
    drive.complete(finished, "golive")
    drive.wait(100)
    drive.complete(finished, "inspection")
    drive.complete(finished, "project_closure")
    with app.app_context():
        assert engine.get_instance(db.session, finished).status == "completed"
    drive.clock.advance(days=3 * 365 + 1)  # past test documents' 3 years, not the others'
    dry = runner.invoke(args=["documents", "expire"])
    assert dry.exit_code == 0, dry.output
    assert "due: instance" in dry.output and "test_report" in dry.output
    assert all(r.content is not None and r.destroyed_at is None for r in stored(app, finished))
    done = runner.invoke(args=["documents", "expire", "--confirm"])
    assert "2 document version(s) destroyed" in done.output  # both versions of the test report
    rows = stored(app, finished)
    reports = [r for r in rows if r.document_id == "test_report"]
    assert [(r.version, r.content, r.destroyed_by) for r in reports] == [(1, None, "cli"), (2, None, "cli")]
    assert all(r.sha256 for r in reports)  # the hash stays as evidence of what was destroyed
    assert all(r.content is not None for r in rows if r.document_id != "test_report")  # 5–10 years
    with app.app_context():
        events = engine.instance_events(db.session, finished)
    audit = [e for e in events if e.type == "document_destroyed"]
    assert [(e.actor, e.data["document"], e.data["version"]) for e in audit] == [
        ("cli", "test_report", 1),
        ("cli", "test_report", 2),
    ]
    assert runner.invoke(args=["documents", "expire"]).output.startswith("0 document")


def test_pdf_contains_the_hash(app, finished, people):
    response = people["it"].get(f"/instances/{finished}/documents/contract/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and len(response.data) > 1000


def test_review_workflow_submit_revise_and_archive(app, drive, make_user, people):
    applicant = make_user("applicant", "business")
    instance_id = drive.start(applicant)
    drive.walk(instance_id, "plan_review")
    vendor, it = people["vendor"], people["it"]
    assert (
        people["finance"].post(f"/instances/{instance_id}/documents/test_report/reviews", {}).status_code
        == 404
    )
    assert (
        people["business"]
        .post(f"/instances/{instance_id}/documents/implementation_plan/reviews", {})
        .status_code
        == 403
    )  # business may not read project documents
    submitted = vendor.post(
        f"/instances/{instance_id}/documents/implementation_plan/reviews", {"note": "請審核"}
    )
    assert submitted.status_code == 201, submitted.get_json()
    review_id = submitted.get_json()["id"]
    # Named after what it reviews (it was "untitled request" in the inbox and the lists).
    title = f"《軟件升級改造項目實施計劃》 第 1 版 · #{instance_id}"
    assert submitted.get_json()["title"] == title
    assert [t["instance_title"] for t in it.get("/tasks").get_json() if t["instance_id"] == review_id] == [
        title
    ]
    again = vendor.post(f"/instances/{instance_id}/documents/implementation_plan/reviews", {})
    assert again.status_code == 409  # one review per version
    # A review is no project: it has no risks or costs to record.
    risk = {"category": "technical", "description": "x", "likelihood": "high", "impact": "severe"}
    for path, body, who in (
        ("risks", risk, it),
        ("costs", {"category": "licences", "amount": 100, "spent_on": "2026-01-05"}, people["finance"]),
    ):
        refused = who.post(f"/instances/{review_id}/{path}", body)
        assert refused.status_code == 409 and "not an upgrade project" in refused.get_json()["message"]
    assert it.get(f"/instances/{review_id}/risks").get_json()["risks"] == []
    assert it.get(f"/instances/{review_id}/costs").get_json()["items"] == []
    doc = it.get(f"/instances/{instance_id}/documents/implementation_plan").get_json()["document"]
    assert (doc["status"], doc["review_instance_id"]) == ("in_review", review_id)
    waiting = people["management"].get("/dashboard").get_json()["awaiting_review"]
    assert waiting == [
        {
            "instance_id": instance_id,
            "document_id": "implementation_plan",
            "version": 1,
            "review_instance_id": review_id,
        }
    ]
    assert it.complete(review_id, "document_it_review", decision="revise", comment="補充").status_code == 200
    assert vendor.complete(review_id, "revise_document", revision="已補充").status_code == 200
    doc = it.get(f"/instances/{instance_id}/documents/implementation_plan").get_json()["document"]
    assert doc["status"] == "in_review" and doc["archived_at"] is None  # not final yet
    assert it.complete(review_id, "document_it_review", decision="approve").status_code == 200
    doc = it.get(f"/instances/{instance_id}/documents/implementation_plan").get_json()["document"]
    assert (doc["status"], doc["archived_by"]) == ("archived", it.user.username)
    assert people["management"].get("/dashboard").get_json()["awaiting_review"] == []
    assert it.get(f"/instances/{review_id}").get_json()["status"] == "completed"


def test_an_instance_shows_each_group_only_the_steps_data_its_documents_allow(app, drive, people, browser):
    """R4.3.4 for the instance itself: the request's content is the requirement document's, so
    finance (project documents only) sees neither it in the data nor in the event log, on the
    API or the page; IT (all documents) sees both. What is hidden is not a document: a review's
    decision stays visible."""
    instance_id = drive.start(people["business"].user)
    drive.complete(instance_id, "preliminary_review", decision="accept", in_it_plan=True)
    content = "升級公文流轉模塊，支持移動端審批。"
    finance, it = people["finance"], people["it"]
    seen = finance.get(f"/instances/{instance_id}").get_json()["data"]
    assert "requirement_request" not in seen and seen["preliminary_review"]["decision"] == "accept"
    assert it.get(f"/instances/{instance_id}").get_json()["data"]["requirement_request"]["content"] == content
    logged = {e["task"]: e["data"] for e in finance.get(f"/instances/{instance_id}/events").get_json()}
    assert logged["requirement_request"] is None and logged["preliminary_review"]["decision"] == "accept"
    logged = {e["task"]: e["data"] for e in it.get(f"/instances/{instance_id}/events").get_json()}
    assert logged["requirement_request"]["content"] == content
    assert content not in browser("fiona", "finance").get(f"/instances/{instance_id}").text
    assert content in browser("ivan", "it").get(f"/instances/{instance_id}").text


def test_an_administrators_edit_of_data_a_group_may_not_read_is_hidden_from_it_in_the_log(drive, people):
    """R4.3.4: an admin's edit is logged with the old and the new value of each key it changed.
    Business, who may not read the project documents, was shown the initiation application there
    (old and new) while it was left out of the data and of the step's own event."""
    instance_id = drive.start(people["business"].user)
    drive.walk(instance_id, "budget_audit")
    secret = "機密實施方案：分三期，第二期外包。"
    edited = people["admin"].patch(
        f"/instances/{instance_id}/data",
        {
            "changes": {"initiation_application": {"budget": 190000, "plan": secret}, "note": "補記"},
            "reason": "更正",
        },
    )
    assert edited.status_code == 200, edited.get_json()
    business, it = people["business"], people["it"]
    [seen] = [
        e for e in business.get(f"/instances/{instance_id}/events").get_json() if e["type"] == "data_edited"
    ]
    assert (
        seen["data"]["changes"] == {"note": {"old": None, "new": "補記"}} and seen["data"]["reason"] == "更正"
    )
    assert secret not in business.get(f"/instances/{instance_id}/events").get_data(as_text=True)
    [full] = [e for e in it.get(f"/instances/{instance_id}/events").get_json() if e["type"] == "data_edited"]
    assert full["data"]["changes"]["initiation_application"]["new"]["plan"] == secret
    assert full["data"]["changes"]["initiation_application"]["old"]["budget"] == 180000


def test_a_revised_request_is_the_request_again_and_hidden_alike(drive, people):
    """The revision's step (`revise_request`) holds the request's content under its own key: it
    was shown to finance and QA, and in the event log, while the request itself was refused."""
    instance_id = drive.start(people["business"].user)
    drive.complete(instance_id, "preliminary_review", decision="return", comment="補充背景")
    secret = "機密需求內容：財務系統對接方案。"
    drive.complete(instance_id, "revise_request", content=secret)
    for group in ("finance", "qa"):
        reader = people[group]
        assert reader.get(f"/instances/{instance_id}/documents/requirement_request").status_code == 403
        seen = reader.get(f"/instances/{instance_id}").get_json()["data"]
        assert "revise_request" not in seen and "requirement_request" not in seen
        assert secret not in reader.get(f"/instances/{instance_id}/events").get_data(as_text=True)
    it = people["it"]
    assert it.get(f"/instances/{instance_id}").get_json()["data"]["revise_request"]["content"] == secret


def test_a_steps_answer_shows_no_more_of_the_data_than_reading_the_instance(drive, people):
    """Finance completing the budget audit (or claiming it) was answered with the whole process
    data, the requirement it may not read included."""
    instance_id = drive.start(people["business"].user)
    drive.walk(instance_id, "budget_audit")
    finance = people["finance"]
    [task] = [t for t in finance.get("/tasks").get_json() if t["name"] == "budget_audit"]
    claimed = finance.post(f"/tasks/{task['id']}/claim").get_json()
    assert "requirement_request" not in claimed["data"]
    done = finance.submit(task["id"], {"decision": "approve", "approved_budget": 180000, "comment": "同意"})
    assert done.status_code == 200, done.get_json()
    assert "requirement_request" not in done.get_json()["data"]
    assert done.get_json()["data"] == finance.get(f"/instances/{instance_id}").get_json()["data"]
    started = people["business"].start(title="另一項")  # the applicant reads the request
    assert "requirement_request" in started["data"]


def test_an_incident_shows_each_group_only_the_data_it_may_read(drive, people):
    """An instance in error keeps the failed step's data in `error.data`: the whole process data,
    the requirement included, was shown to every group that may read the instance."""
    instance_id = drive.start(people["business"].user)
    drive.reach(instance_id, "golive")
    admin = people["admin"]
    assert (
        admin.patch(
            f"/instances/{instance_id}/data", {"changes": {"sign_contract": {}}, "reason": "模擬"}
        ).status_code
        == 200
    )
    drive.complete(instance_id, "golive", decision="success")
    failed = people["finance"].get(f"/instances/{instance_id}").get_json()
    assert failed["status"] == "error" and failed["error"]["element"] == "start_support_period"
    assert "requirement_request" not in failed["error"]["data"]
    assert "requirement_request" not in failed["data"]
    assert "sign_contract" in failed["error"]["data"]  # a project document: finance reads it
    full = people["it"].get(f"/instances/{instance_id}").get_json()["error"]["data"]
    assert full["requirement_request"]["content"]


def test_a_task_shows_its_group_what_its_form_shows_and_nothing_else_it_may_not_read(
    app, drive, people, browser
):
    """Opening one's own task handed out the whole process data: finance at the budget audit read
    the analysis report it is refused everywhere else. Now the task's data
    holds what its form puts before finance (the request, the analysis, the application) and no
    other step finance may not read."""
    instance_id = drive.start(people["business"].user)
    drive.walk(instance_id, "budget_audit")
    finance = people["finance"]
    task = next(t for t in drive.ready(instance_id) if t.name == "budget_audit")
    data = finance.get(f"/tasks/{task.id}").get_json()["data"]
    assert {"requirement_request", "requirement_analysis", "initiation_application"} <= set(data)  # shown
    assert "analysis_report" not in data  # a requirement document its form does not show
    assert finance.get(f"/instances/{instance_id}/documents/analysis_report").status_code == 403
    page = browser("fiona", "finance").get(f"/tasks/{task.id}?instance={instance_id}").text
    report = people["it"].get(f"/instances/{instance_id}").get_json()["data"]["analysis_report"]
    text = next(v for v in report.values() if isinstance(v, str) and len(v) > 6)
    assert text not in page


def test_the_registers_steps_are_hidden_from_those_who_may_not_read_the_registers(app, drive, people):
    """The risk assessments go with the risk register, the training steps with the training
    record: QA (no risks) and finance (no training) read them through the instance's data and
    its event log."""
    instance_id = drive.start(people["business"].user)
    drive.walk(instance_id, "golive_plan")
    qa, finance, it = people["qa"], people["finance"], people["it"]
    assert qa.get(f"/instances/{instance_id}/risks").status_code == 403
    assert not {"risk_identification", "risk_response"} & set(
        qa.get(f"/instances/{instance_id}").get_json()["data"]
    )
    assert finance.get(f"/instances/{instance_id}/training").status_code == 403
    seen = finance.get(f"/instances/{instance_id}").get_json()["data"]
    assert not {"training", "training_assessment"} & set(seen)
    logged = {e["task"]: e["data"] for e in finance.get(f"/instances/{instance_id}/events").get_json()}
    assert logged["training_assessment"] is None
    assert {"risk_response", "training_assessment"} <= set(
        it.get(f"/instances/{instance_id}").get_json()["data"]
    )


def test_a_terminated_review_frees_its_version_to_be_submitted_again(app, drive, make_user, people):
    """An administrator terminated a review started by mistake: the version stayed "in review"
    for good (a second submission was a 409) and the dashboard listed it as waiting for ever."""
    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "plan_review")
    vendor, it, admin = people["vendor"], people["it"], people["admin"]
    path = f"/instances/{instance_id}/documents/implementation_plan"
    first = vendor.post(f"{path}/reviews", {}).get_json()["id"]
    assert admin.post(f"/instances/{first}/terminate", {"reason": "誤提交"}).status_code == 200
    doc = it.get(path).get_json()["document"]
    assert (doc["status"], doc["review_instance_id"]) == ("draft", None)
    assert people["management"].get("/dashboard").get_json()["awaiting_review"] == []
    again = vendor.post(f"{path}/reviews", {})
    assert again.status_code == 201, again.get_json()
    assert it.get(path).get_json()["document"]["review_instance_id"] == again.get_json()["id"]


def test_no_one_approves_a_document_they_wrote_or_submitted(app, drive, make_user, people, token_for):
    """R4.3.1–R4.3.3: IT reviews what its author submits. An IT member who wrote the analysis
    report submitted it and approved it: archived by its author. The review's `notBy` names the
    submitter and the author; another IT member approves."""
    from apiclient import Caller

    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "analysis_report")
    writer_user = make_user("irene", "it")
    writer = Caller(people["it"].client, writer_user, token_for(writer_user))
    assert writer.complete(instance_id, "analysis_report").status_code == 200
    path = f"/instances/{instance_id}/documents/analysis_report"
    assert writer.get(path).get_json()["document"]["author"] == writer_user.username
    review_id = writer.post(f"{path}/reviews", {}).get_json()["id"]
    [review] = [t for t in writer.get("/tasks").get_json() if t["instance_id"] == review_id]
    opened = writer.get(f"/tasks/{review['id']}")  # no form is offered that could not be sent
    assert opened.status_code == 403 and "notBy" in opened.get_json()["message"]
    refused = writer.submit(review["id"], {"decision": "approve"})
    assert refused.status_code == 403 and "notBy" in refused.get_json()["message"]
    assert writer.post(f"/tasks/{review['id']}/claim").status_code == 403
    assert writer.get(path).get_json()["document"]["status"] == "in_review"  # nothing archived
    done = people["it"].submit(review["id"], {"decision": "approve"})
    assert done.status_code == 200, done.get_json()
    archived = writer.get(path).get_json()["document"]
    assert (archived["status"], archived["archived_by"]) == ("archived", people["it"].user.username)
    # A review an author approved before the rule (its log says so) still replays: a replay
    # repeats what was allowed when it happened.
    with app.app_context():
        from sqlalchemy import update

        from engine.models import EventRecord

        db.session.execute(
            update(EventRecord)
            .where(EventRecord.instance_id == review_id, EventRecord.element_id == "document_it_review")
            .values(actor=writer_user.username)
        )
        db.session.commit()
    again = people["admin"].post(f"/instances/{review_id}/replay", {"dry_run": True}).get_json()
    assert again["matches"], again["divergence"]


def test_a_document_review_is_not_started_directly(app, people, drive):
    """Started directly, a review skipped the checks of its submission (who may read the document,
    one review per version) and put a forged task in IT's inbox."""
    before = snapshot(app)
    forged = {"data": {"document": "contract", "project": 1, "version": 1, "note": "forged"}}
    refused = people["qa"].post("/processes/document_review/instances", forged)
    assert (
        refused.status_code == 403 and "started from the document it reviews" in refused.get_json()["message"]
    )
    assert people["admin"].post("/processes/document_review/instances", forged).status_code == 403
    assert snapshot(app) == before


def test_a_reassessment_during_implementation_does_not_rewrite_the_analysis_report(app, drive, make_user):
    """The report's content took the live `risks`: each reassessment made a new version of the
    R3.2.4 report, credited to its author, after the version reviewed."""
    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "implement")
    before = [r for r in stored(app, instance_id) if r.document_id == "analysis_report"]
    assert [r.version for r in before] == [1] and "risk_response" in before[0].content
    drive.wait(14)
    drive.complete(instance_id, "risk_reassessment")  # the risks change: each gets its status
    with app.app_context():
        assert all(r["status"] == "open" for r in engine.get_instance(db.session, instance_id).data["risks"])
    after = [r for r in stored(app, instance_id) if r.document_id == "analysis_report"]
    assert [r.version for r in after] == [1] and after[0].sha256 == before[0].sha256


def test_an_administrators_edit_of_a_documents_data_is_a_new_version_by_them(app, drive, make_user, people):
    """The edit made no version; the next step's did, credited to the contract's signer."""
    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "implementation_plan")  # the contract is signed
    edited = people["admin"].patch(
        f"/instances/{instance_id}/data",
        {
            "changes": {"sign_contract": {**contract_data(app, instance_id), "amount": 999999}},
            "reason": "合同金額更正",
        },
    )
    assert edited.status_code == 200, edited.get_json()
    contracts = [r for r in stored(app, instance_id) if r.document_id == "contract"]
    assert [(r.version, r.author) for r in contracts] == [
        (1, "it_driver"),
        (2, people["admin"].user.username),
    ]
    assert contracts[1].content["sign_contract"]["amount"] == 999999


def contract_data(app, instance_id) -> dict:
    with app.app_context():
        return dict(engine.get_instance(db.session, instance_id).data["sign_contract"])


def test_content_an_administrator_changed_is_approved_by_no_one(app, drive, make_user, people):
    """The edited plan took the plan review's approval, given to the plan before the edit."""
    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "implement")  # the plan is reviewed and approved
    [plan] = [r for r in stored(app, instance_id) if r.document_id == "implementation_plan"]
    assert plan.reviewer is not None
    with app.app_context():
        current = dict(engine.get_instance(db.session, instance_id).data["implementation_plan"])
    edited = people["admin"].patch(
        f"/instances/{instance_id}/data",
        {"changes": {"implementation_plan": {**current, "team": "項目經理一名。"}}, "reason": "更正"},
    )
    assert edited.status_code == 200, edited.get_json()
    plans = [r for r in stored(app, instance_id) if r.document_id == "implementation_plan"]
    assert [(p.version, p.reviewer is None) for p in plans] == [(1, False), (2, True)]

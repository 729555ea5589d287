"""The requirement pool (issue 9): membership follows the preliminary review; who sees what; CSV."""

import csv
import io

import pytest

from web.extensions import db


@pytest.fixture
def raised(people, drive):
    """raised(title, by="business", **request) -> a new instance id, raised by that person."""

    def start(title, by="business", **request):
        return drive.start(people[by].user, title=title, **request)

    return start


def ids(response):
    assert response.status_code == 200, response.get_json()
    return [row["instance_id"] for row in response.get_json()]


def test_pool_membership_follows_the_preliminary_review(people, drive, raised):
    accepted, returned, rejected = raised("受理的需求"), raised("退回的需求"), raised("駁回的需求")
    drive.complete(accepted, "preliminary_review", decision="accept")
    drive.complete(returned, "preliminary_review", decision="return", comment="請補充業務背景。")
    drive.complete(rejected, "preliminary_review", decision="reject", comment="不符合信息化規劃。")
    it = people["it"]

    assert ids(it.get("/pool")) == [accepted]
    declined = {row["instance_id"]: row for row in it.get("/pool/declined").get_json()}
    assert set(declined) == {returned, rejected}
    assert declined[returned]["decision"] == "return"
    assert declined[returned]["reason"] == "請補充業務背景。"
    assert declined[returned]["waiting_at"] == ["revise_request"]
    assert declined[rejected]["decision"] == "reject"
    assert declined[rejected]["reason"] == "不符合信息化規劃。"
    assert declined[rejected]["decided_by"] == "it_driver"

    # The returned request, revised and accepted, joins the pool and leaves the declined list.
    drive.complete(returned, "revise_request", title="退回後修改的需求")
    assert ids(it.get("/pool")) == [accepted]  # revised, not yet reviewed again
    drive.complete(returned, "preliminary_review", decision="accept")
    pool = {row["instance_id"]: row for row in it.get("/pool").get_json()}
    assert set(pool) == {accepted, returned}
    assert pool[returned]["title"] == "退回後修改的需求"
    assert [row["instance_id"] for row in it.get("/pool/declined").get_json()] == [rejected]


def test_a_pool_entry_shows_priority_estimated_cost_and_where_the_instance_stands(people, drive, raised):
    instance_id = raised("公文系統升級", department="行政部", system="oa")
    drive.complete(instance_id, "preliminary_review")
    [entry] = people["management"].get("/pool").get_json()
    assert entry["priority"] is None and entry["estimated_cost"] is None
    assert entry["phase"] == "analysis" and entry["accepted_by"] == "it_driver"

    drive.walk(instance_id, "initiation_application")
    [entry] = people["management"].get("/pool").get_json()
    assert entry["instance_id"] == instance_id
    assert (entry["system"], entry["department"], entry["initiator"]) == ("oa", "行政部", "business1")
    assert entry["priority"] == "high"
    assert entry["estimated_cost"] == 50000 + 120000 + 10000
    assert entry["waiting_at"] == ["initiation_application"]
    assert entry["phase"] == "initiation" and entry["status"] == "running"
    assert entry["contract_amount"] is None


def test_the_pool_filters_searches_and_sorts(people, drive, raised):
    oa = raised("公文系統升級", department="行政部", system="oa")
    crm = raised("客戶管理改造", department="銷售部", system="crm")
    other = raised("報表工具", department="財務部", system="other")
    for instance_id in (oa, crm, other):
        drive.complete(instance_id, "preliminary_review")
    drive.walk(crm, "initiation_application")
    it = people["it"]

    assert ids(it.get("/pool", system="crm")) == [crm]
    assert ids(it.get("/pool", department="銷售")) == [crm]
    assert ids(it.get("/pool", q="報表")) == [other]
    assert ids(it.get("/pool", q=str(oa))) == [oa]
    assert ids(it.get("/pool", priority="high")) == [crm]
    assert ids(it.get("/pool", phase="analysis")) == [oa, other]
    assert ids(it.get("/pool", sort="id", order="desc")) == [other, crm, oa]
    # Not yet estimated goes last, whichever the order.
    assert ids(it.get("/pool", sort="estimated_cost", order="desc"))[0] == crm
    assert ids(it.get("/pool", sort="estimated_cost"))[0] == crm
    bad = it.get("/pool", sort="secret")
    assert bad.status_code == 400 and "sort" in bad.get_json()["message"]


def test_the_pool_exports_csv(people, drive, raised):
    instance_id = raised("公文系統升級, 第二期", department="行政部")
    drive.complete(instance_id, "preliminary_review")
    drive.walk(instance_id, "initiation_application")
    response = people["it"].get("/pool", format="csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) == 1
    assert rows[0]["instance_id"] == str(instance_id)
    assert rows[0]["title"] == "公文系統升級, 第二期"  # quoted, not split at the comma
    assert rows[0]["priority"] == "high"
    assert float(rows[0]["estimated_cost"]) == 180000
    assert rows[0]["waiting_at"] == "initiation_application"


def test_business_sees_its_own_requests_others_are_refused(people, drive, raised):
    mine = raised("我的需求", by="business")
    theirs = raised("別人的需求", by="business2")
    for instance_id in (mine, theirs):
        drive.complete(instance_id, "preliminary_review")

    assert ids(people["business"].get("/pool")) == [mine]
    # A business user cannot widen the view with the initiator filter: no one else's rows match.
    assert ids(people["business"].get("/pool", initiator=people["business2"].user.username)) == []
    assert ids(people["business"].get("/pool", initiator=people["business"].user.username)) == [mine]
    assert ids(people["management"].get("/pool")) == [mine, theirs]
    assert ids(people["admin"].get("/pool")) == [mine, theirs]
    for group in ("finance", "vendor", "qa"):
        response = people[group].get("/pool")
        assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    for group in ("business", "management", "finance"):
        assert people[group].get("/pool/declined").status_code == 403
    assert people["it"].get("/pool/declined").status_code == 200
    assert people["it"].client.get("/api/v1/pool").status_code == 401


def test_business_sees_no_figure_of_a_step_it_may_not_read(people, drive, raised):
    """R4.3.4: the contract is a project document, which business may not read (403 on it, left
    out of the instance's data); its amount was in business's own pool rows and CSV all the same.
    IT reads it in both."""
    instance_id = raised("我的需求")
    drive.complete(instance_id, "preliminary_review")
    drive.walk(instance_id, "implementation_plan")
    business, it = people["business"], people["it"]
    assert business.get(f"/instances/{instance_id}/documents/contract").status_code == 403
    [mine] = business.get("/pool").get_json()
    assert mine["contract_amount"] is None and mine["priority"] == "high"  # the analysis it reads
    [row] = csv.DictReader(
        io.StringIO(business.get("/pool", format="csv").data.decode().removeprefix("\ufeff"))
    )
    assert row["contract_amount"] == "" and row["priority"] == "high"
    [seen] = it.get("/pool").get_json()
    assert seen["contract_amount"] == 175000
    [row] = csv.DictReader(io.StringIO(it.get("/pool", format="csv").data.decode().removeprefix("\ufeff")))
    assert float(row["contract_amount"]) == 175000


def test_a_rewound_review_takes_the_request_back_out_of_the_pool(app, people, drive, raised, clock):
    import engine

    instance_id = raised("會被撤回的受理")
    drive.complete(instance_id, "preliminary_review", decision="return", comment="先退回。")
    drive.complete(instance_id, "revise_request")
    drive.complete(instance_id, "preliminary_review", decision="accept")
    assert ids(people["it"].get("/pool")) == [instance_id]
    with app.app_context():
        events = engine.instance_events(db.session, instance_id)
        accept = [e for e in events if e.task == "preliminary_review"][-1]
        admin = engine.Actor("root", frozenset(), is_admin=True)
        from engine.admin import rewind_instance

        rewind_instance(db.session, instance_id, accept.task_id, admin, "誤受理", clock=clock)
        db.session.commit()
    # The undone acceptance no longer counts; the earlier return (with its reason) does.
    assert ids(people["it"].get("/pool")) == []
    [declined] = people["it"].get("/pool/declined").get_json()
    assert declined["decision"] == "return" and declined["reason"] == "先退回。"


def test_an_admins_data_edit_shows_in_the_pool(app, people, drive, raised, clock):
    import engine
    from engine.admin import edit_instance_data

    instance_id = raised("優先級被更正的需求")
    drive.walk(instance_id, "initiation_application")
    assert people["it"].get("/pool").get_json()[0]["priority"] == "high"
    with app.app_context():
        admin = engine.Actor("root", frozenset(), is_admin=True)
        report = {"priority": "low", "recommended_solution": "延後。", "summary": "降級。"}
        edit_instance_data(
            db.session, instance_id, admin, {"analysis_report": report}, "更正優先級", clock=clock
        )
        db.session.commit()
    assert people["it"].get("/pool").get_json()[0]["priority"] == "low"


def test_a_title_a_spreadsheet_would_run_as_a_formula_is_exported_as_text(people, drive, raised):
    for title in ('=HYPERLINK("http://evil.example","點此")', "-2+3"):
        drive.complete(raised(title, department="行政部"), "preliminary_review")  # into the pool
    text = people["it"].get("/pool", format="csv").data.decode("utf-8-sig")
    titles = sorted(row["title"] for row in csv.DictReader(io.StringIO(text)))
    assert titles == ["'-2+3", '\'=HYPERLINK("http://evil.example","點此")']

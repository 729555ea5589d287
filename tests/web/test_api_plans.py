"""Annual plans (issue 9): versions, the published plan read-only, who may do what, and the
link to the procedure (initiation_application shows the plan; unplanned needs a justification)."""

from datetime import date

import pytest

import engine
from web.extensions import db

PLAN = {"year": 2026, "budget_ceiling": 1000000, "owner": "it1"}


@pytest.fixture
def accepted(people, drive):
    """accepted(title) -> an instance accepted at preliminary review (in the pool)."""

    def make(title="公文系統升級", **request):
        instance_id = drive.start(people["business"].user, title=title, **request)
        drive.complete(instance_id, "preliminary_review", decision="accept")
        return instance_id

    return make


def plans_in_db(app):
    with app.app_context():
        admin = engine.Actor("root", frozenset(), is_admin=True)
        return [(p.year, p.version, p.status) for p in engine.list_plans(db.session, admin)]


def test_a_plan_is_created_filled_published_and_then_read_only(app, people, accepted):
    it = people["it"]
    first, second = accepted("公文系統升級"), accepted("客戶管理改造")
    created = it.post("/plans", PLAN)
    assert created.status_code == 201, created.get_json()
    plan = created.get_json()
    assert (plan["label"], plan["status"], plan["is_current"], plan["items"]) == (
        "2026 v1",
        "draft",
        False,
        [],
    )

    placed = it.post(
        f"/plans/{plan['id']}/items", {"instance_id": first, "quarter": "Q2", "planned_budget": 180000}
    )
    assert placed.status_code == 200, placed.get_json()
    [item] = placed.get_json()["items"]
    assert (item["instance_id"], item["quarter"], item["planned_budget"]) == (first, "Q2", 180000)
    assert item["phase"] == "analysis" and item["title"] == "公文系統升級"
    # Placing it again moves it.
    moved = it.post(
        f"/plans/{plan['id']}/items", {"instance_id": first, "quarter": "Q3", "planned_budget": 150000}
    )
    assert [(i["quarter"], i["planned_budget"]) for i in moved.get_json()["items"]] == [("Q3", 150000)]

    published = it.post(f"/plans/{plan['id']}/publish")
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["status"] == "published" and published.get_json()["is_current"] is True
    assert published.get_json()["published_by"] == "it1"

    # Read-only from now on: every change is a 409 and nothing changes.
    for response in (
        it.post(f"/plans/{plan['id']}/items", {"instance_id": second, "quarter": "Q1", "planned_budget": 1}),
        it.delete(f"/plans/{plan['id']}/items/{first}"),
        it.post(f"/plans/{plan['id']}/publish"),
    ):
        assert response.status_code == 409, response.get_json()
        assert response.get_json()["error"] == "plan_published"
    after = it.get(f"/plans/{plan['id']}").get_json()
    assert [(i["instance_id"], i["quarter"], i["planned_budget"]) for i in after["items"]] == [
        (first, "Q3", 150000)
    ]


def test_a_revision_is_a_new_version_with_the_items_copied(app, people, accepted):
    it = people["it"]
    first, second = accepted("公文系統升級"), accepted("客戶管理改造")
    plan = it.post("/plans", PLAN).get_json()
    it.post(f"/plans/{plan['id']}/items", {"instance_id": first, "quarter": "Q2", "planned_budget": 180000})
    it.post(f"/plans/{plan['id']}/publish")

    revised = it.post(f"/plans/{plan['id']}/revisions")
    assert revised.status_code == 201, revised.get_json()
    v2 = revised.get_json()
    assert (v2["label"], v2["status"], v2["revision_of_id"]) == ("2026 v2", "draft", plan["id"])
    assert [(i["instance_id"], i["quarter"]) for i in v2["items"]] == [(first, "Q2")]
    # A second revision of v1 while v2 exists is refused; so is revising a draft.
    assert it.post(f"/plans/{plan['id']}/revisions").get_json()["error"] == "plan_conflict"
    assert it.post(f"/plans/{v2['id']}/revisions").status_code == 409
    # Another plan for 2026 must be a revision.
    again = it.post("/plans", {**PLAN, "budget_ceiling": 5})
    assert again.status_code == 409 and again.get_json()["error"] == "plan_conflict"
    assert plans_in_db(app) == [(2026, 2, "draft"), (2026, 1, "published")]

    it.post(f"/plans/{v2['id']}/items", {"instance_id": second, "quarter": "Q4", "planned_budget": 90000})
    # v1 is still current until v2 is published; v1 itself is unchanged.
    listed = {p["label"]: p for p in it.get("/plans").get_json()}
    assert listed["2026 v1"]["is_current"] and not listed["2026 v2"]["is_current"]
    assert [i["instance_id"] for i in it.get(f"/plans/{plan['id']}").get_json()["items"]] == [first]
    it.post(f"/plans/{v2['id']}/publish")
    listed = {p["label"]: p for p in it.get("/plans", year=2026).get_json()}
    assert listed["2026 v2"]["is_current"] and not listed["2026 v1"]["is_current"]
    assert listed["2026 v2"]["planned_total"] == 270000


def test_only_pool_requirements_go_in_and_the_ceiling_holds(app, people, drive, accepted):
    it = people["it"]
    rejected = drive.start(people["business"].user, title="駁回的需求")
    drive.complete(rejected, "preliminary_review", decision="reject", comment="不符合規劃。")
    waiting = drive.start(people["business"].user, title="尚未初審")
    first = accepted()
    plan = it.post("/plans", {**PLAN, "budget_ceiling": 100000}).get_json()
    for instance_id in (rejected, waiting, 999):
        response = it.post(
            f"/plans/{plan['id']}/items", {"instance_id": instance_id, "quarter": "Q1", "planned_budget": 1}
        )
        assert response.status_code == 400 and response.get_json()["error"] == "invalid_plan"
    bad = it.post(f"/plans/{plan['id']}/items", {"instance_id": first, "quarter": "Q5", "planned_budget": 1})
    assert bad.status_code == 400
    for budget in (1e12, 999_999_999_999.995):  # more than the columns hold (Numeric(14, 2))
        huge = it.post(
            f"/plans/{plan['id']}/items", {"instance_id": first, "quarter": "Q1", "planned_budget": budget}
        )
        assert huge.status_code in (400, 422) and "planned_budget" in huge.get_json()["message"], (
            huge.get_json()
        )
    assert it.post("/plans", {**PLAN, "year": 2030, "budget_ceiling": 1e12}).status_code in (400, 422)
    # Rounded silently to 1.00 before; costs refused the same amount.
    cents = it.post(
        f"/plans/{plan['id']}/items", {"instance_id": first, "quarter": "Q1", "planned_budget": 1.005}
    )
    assert cents.status_code == 400 and "at most two decimal places" in cents.get_json()["message"]
    assert it.post("/plans", {**PLAN, "year": 2031, "budget_ceiling": 0.001}).status_code == 400
    # A fraction is no year and no instance: they were cut to 2026 and to the first instance.
    assert it.post("/plans", {**PLAN, "year": 2032.7}).status_code == 400
    fraction = it.post(
        f"/plans/{plan['id']}/items", {"instance_id": first + 0.9, "quarter": "Q1", "planned_budget": 1}
    )
    assert fraction.status_code == 400 and "instance_id" in fraction.get_json()["message"]
    assert it.get(f"/plans/{plan['id']}").get_json()["items"] == []
    assert [p["year"] for p in it.get("/plans").get_json()] == [PLAN["year"]]

    it.post(
        f"/plans/{plan['id']}/items", {"instance_id": first, "quarter": "Q1", "planned_budget": 100000.01}
    )
    over = it.post(f"/plans/{plan['id']}/publish")
    assert over.status_code == 409 and "ceiling" in over.get_json()["message"]
    assert over.get_json()["error"] == "plan_conflict"
    assert it.get(f"/plans/{plan['id']}").get_json()["status"] == "draft"
    assert it.get("/plans/999").status_code == 404

    # Taking it out of the draft lets the plan be published; it is then not in the plan.
    removed = it.delete(f"/plans/{plan['id']}/items/{first}")
    assert removed.status_code == 200 and removed.get_json()["items"] == []
    assert it.delete(f"/plans/{plan['id']}/items/{first}").status_code == 404
    assert it.post(f"/plans/{plan['id']}/publish").status_code == 200


def test_the_plan_shows_planned_against_recorded_spending_and_each_phase(app, people, drive, accepted, clock):
    it = people["it"]
    first, second = accepted("公文系統升級"), accepted("客戶管理改造")
    drive.walk(first, "implementation_plan")  # contract signed for 175000
    plan = it.post("/plans", PLAN).get_json()
    it.post(f"/plans/{plan['id']}/items", {"instance_id": first, "quarter": "Q1", "planned_budget": 180000})
    it.post(f"/plans/{plan['id']}/items", {"instance_id": second, "quarter": "Q2", "planned_budget": 50000})
    from engine.costs import record_cost

    with app.app_context():
        finance = engine.Actor("finance_driver", frozenset({"finance"}))
        for amount in (60000, 40000):
            record_cost(
                db.session, first, "implementation", amount, date(2026, 3, 1), "首期款", finance, clock=clock
            )
        db.session.commit()
    shown = it.get(f"/plans/{plan['id']}").get_json()
    rows = {i["instance_id"]: i for i in shown["items"]}
    assert rows[first]["phase"] == "implementation" and rows[second]["phase"] == "analysis"
    assert rows[first]["actual_cost"] == 100000 and rows[first]["contract_amount"] == 175000
    assert rows[second]["actual_cost"] is None and rows[second]["contract_amount"] is None
    assert (shown["planned_total"], shown["actual_total"]) == (230000, 100000)


def test_who_may_see_and_change_plans(app, people, accepted):
    instance_id = accepted()
    for group in ("business", "finance", "vendor", "qa", "management"):
        response = people[group].post("/plans", PLAN)
        assert response.status_code == 403, group
    assert plans_in_db(app) == []
    plan = people["it"].post("/plans", PLAN).get_json()
    for group in ("business", "finance", "vendor", "qa"):
        assert people[group].get("/plans").status_code == 403, group
        assert people[group].get(f"/plans/{plan['id']}").status_code == 403, group
    assert people["management"].get("/plans").status_code == 200
    assert people["management"].get(f"/plans/{plan['id']}").status_code == 200
    item = {"instance_id": instance_id, "quarter": "Q1", "planned_budget": 1}
    assert people["management"].post(f"/plans/{plan['id']}/items", item).status_code == 403
    assert people["management"].post(f"/plans/{plan['id']}/publish").status_code == 403
    assert people["it"].get(f"/plans/{plan['id']}").get_json()["status"] == "draft"
    assert people["admin"].post(f"/plans/{plan['id']}/items", item).status_code == 200
    assert people["it"].client.post("/api/v1/plans", json=PLAN).status_code == 401
    malformed = people["it"].post("/plans", {**PLAN, "year": "soon", "colour": "red"})
    assert malformed.status_code == 400 and "colour" in malformed.get_json()["message"]


# -- the link to the procedure ---------------------------------------------------------------------


def test_an_unplanned_project_needs_a_justification_that_the_review_sees(app, people, drive, accepted):
    instance_id = accepted()
    task = drive.reach(instance_id, "initiation_application")
    it = people["it"]
    opened = it.get(f"/tasks/{task.id}").get_json()
    assert opened["data"]["plan_status"] == {"in_plan": False, "plan": None, "quarter": None}
    data = {k: v for k, v in opened["data"].items() if k in ("budget", "start_date", "end_date", "plan")}
    data.update(budget=180000, start_date="2026-02-01", end_date="2026-06-30", plan="分三期實施。")

    refused = it.submit(task.id, data)
    assert refused.status_code == 422, refused.get_json()
    assert list(refused.get_json()["errors"]) == ["justification"]
    with app.app_context():
        events = engine.instance_events(db.session, instance_id)
    assert not [e for e in events if e.task == "initiation_application"]  # nothing stored
    assert [t.name for t in drive.ready(instance_id)] == ["initiation_application"]

    done = it.submit(task.id, {**data, "justification": "監管要求年內完成。"})
    assert done.status_code == 200, done.get_json()
    review = drive.task(instance_id, "initiation_review")
    shown = people["management"].get(f"/tasks/{review.id}").get_json()
    assert shown["data"]["initiation_application"]["justification"] == "監管要求年內完成。"
    assert "plan_status" not in shown["data"]["initiation_application"]  # shown, never stored
    texts = [c.get("text", "") for c in shown["schema"]["components"]]
    assert any("{{initiation_application.justification}}" in t for t in texts)


def test_a_planned_project_needs_no_justification(app, people, drive, accepted):
    instance_id = accepted()
    it = people["it"]
    plan = it.post("/plans", PLAN).get_json()
    it.post(
        f"/plans/{plan['id']}/items", {"instance_id": instance_id, "quarter": "Q2", "planned_budget": 180000}
    )
    task = drive.reach(instance_id, "initiation_application")
    # A draft is not the plan yet.
    assert it.get(f"/tasks/{task.id}").get_json()["data"]["plan_status"]["in_plan"] is False
    it.post(f"/plans/{plan['id']}/publish")
    opened = it.get(f"/tasks/{task.id}").get_json()
    assert opened["data"]["plan_status"] == {"in_plan": True, "plan": "2026 v1", "quarter": "Q2"}
    data = {"budget": 180000, "start_date": "2026-02-01", "end_date": "2026-06-30", "plan": "分三期實施。"}
    done = it.submit(task.id, data)
    assert done.status_code == 200, done.get_json()
    assert "justification" not in done.get_json()["data"]["initiation_application"]

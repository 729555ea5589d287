"""Cost overruns (R2.3.2): finance records costs through the API and the records page; a cost that
takes spending to the approved budget × (1 + COST_OVERRUN_THRESHOLD) raises `cost_overrun_review`
in finance's inbox, once, and finance completes it with its form."""

from apiclient import snapshot
from sqlalchemy import func, select

from engine.models import CostRecord
from web.extensions import db

# The harness approves 180,000 at budget_audit: 10% over it is 198,000.
REVIEW = {"decision": "corrective_action", "comment": "實施費用超支，要求供應商提交整改方案。"}


def spend(caller, instance_id, amount, category="implementation"):
    return caller.post(
        f"/instances/{instance_id}/costs", {"category": category, "amount": amount, "spent_on": "2026-03-01"}
    )


def reviews(caller, instance_id):
    return [
        t
        for t in caller.get("/tasks", instance_id=instance_id).get_json()
        if t["name"] == "cost_overrun_review"
    ]


def cost_rows(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CostRecord))


def implementing(drive, make_user):
    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "implement")
    return instance_id


def test_a_cost_at_the_threshold_raises_the_review_and_one_below_it_stores_only_the_cost(
    app, drive, make_user, people
):
    instance_id = implementing(drive, make_user)
    finance = people["finance"]
    before = snapshot(app)
    for group in ("it", "management", "vendor"):
        assert spend(people[group], instance_id, "250000").status_code == 403, group
    assert cost_rows(app) == 0
    below = spend(finance, instance_id, "197999.99")
    assert below.status_code == 201, below.get_json()
    assert (below.get_json()["over_budget"], below.get_json()["overrun_review"]) == (False, None)
    assert snapshot(app) == before  # no task, no event, no notification, the instance untouched
    assert reviews(finance, instance_id) == [] and cost_rows(app) == 1

    at = spend(finance, instance_id, "0.01").get_json()
    assert (at["actual"], at["budget"], at["over_budget"], at["overrun_review"]) == (
        "198000.00",
        "180000",
        True,
        "raised",
    )
    [task] = reviews(finance, instance_id)  # finance's inbox
    assert (task["group"], task["form"], task["title"]) == ("finance", "cost_overrun_review", "費用超支審核")
    instance = finance.get(f"/instances/{instance_id}").get_json()
    assert sorted(instance["waiting_at"]) == ["cost_overrun_review", "implement"]
    events = finance.get(f"/instances/{instance_id}/events").get_json()
    assert [(e["type"], e["task"], e["actor"]) for e in events][-1] == (
        "message_received",
        "cost_overrun_received",
        finance.user.username,
    )
    for group in ("it", "vendor", "management"):
        assert reviews(people[group], instance_id) == [], group
    costs = finance.get(f"/instances/{instance_id}/costs").get_json()
    assert (costs["over_budget"], costs["threshold"], costs["budget"]) == (True, "0.1", "180000")


def test_a_second_cost_while_the_review_is_open_raises_no_second_one(app, drive, make_user, people):
    instance_id = implementing(drive, make_user)
    finance = people["finance"]
    assert spend(finance, instance_id, "200000").get_json()["overrun_review"] == "raised"
    again = spend(finance, instance_id, "30000").get_json()  # 27.8% over: two levels up
    assert (again["over_budget"], again["overrun_review"]) == (True, "already_open")
    assert len(reviews(finance, instance_id)) == 1
    events = finance.get(f"/instances/{instance_id}/events").get_json()
    assert [e["type"] for e in events].count("message_received") == 1
    assert cost_rows(app) == 2


def test_a_second_overrun_sent_by_hand_while_the_review_is_open_is_refused(app, drive, make_user, people):
    instance_id = implementing(drive, make_user)
    finance = people["finance"]
    assert spend(finance, instance_id, "200000").get_json()["overrun_review"] == "raised"
    before = snapshot(app)
    by_hand = finance.post(f"/instances/{instance_id}/messages/cost_overrun", {"data": {}})
    assert by_hand.status_code == 409, by_hand.get_json()
    assert "refused while cost_overrun_review is open" in by_hand.get_json()["message"]
    assert snapshot(app) == before
    assert len(reviews(finance, instance_id)) == 1


def test_finance_completes_the_review_with_its_form_and_no_one_else_may(app, drive, make_user, people):
    instance_id = implementing(drive, make_user)
    finance = people["finance"]
    spend(finance, instance_id, "207000")  # 15% over
    [task] = reviews(finance, instance_id)
    opened = finance.get(f"/tasks/{task['id']}").get_json()
    assert opened["schema"]["id"] == "cost_overrun_review"
    assert {c.get("key") for c in opened["schema"]["components"]} >= {
        "decision",
        "additional_budget",
        "comment",
    }
    assert opened["data"]["cost_status"] == {
        "approved": "180,000.00",
        "additional": "0.00",
        "budget": "180,000.00",
        "actual": "207,000.00",
        "overrun": "27,000.00",
        "overrun_percent": "15.0",
        "payments": 1,
    }

    before = snapshot(app)
    for group in ("it", "vendor", "business", "management"):
        assert people[group].submit(task["id"], REVIEW).status_code == 403, group
    assert people["it"].get(f"/tasks/{task['id']}").status_code == 403
    refused = finance.submit(task["id"], {"decision": "approve_additional_budget", "comment": "追加。"})
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"additional_budget"}
    assert snapshot(app) == before

    more = {"decision": "approve_additional_budget", "additional_budget": 30000, "comment": "同意追加預算。"}
    done = finance.submit(task["id"], more)
    assert done.status_code == 200, done.get_json()
    assert reviews(finance, instance_id) == []
    events = finance.get(f"/instances/{instance_id}/events").get_json()
    assert (events[-1]["type"], events[-1]["task"], events[-1]["data"]) == (
        "task_completed",
        "cost_overrun_review",
        more,
    )
    costs = finance.get(f"/instances/{instance_id}/costs").get_json()
    assert (costs["additional"], costs["budget"], costs["over_budget"]) == ("30000", "210000", False)
    # The next review comes at 10% over the new budget: 231,000.
    assert spend(finance, instance_id, "23999.99").get_json()["overrun_review"] is None
    assert spend(finance, instance_id, "0.01").get_json()["overrun_review"] == "raised"
    assert len(reviews(finance, instance_id)) == 1
    # The log repeats what happened: the message and the review replay to the stored state.
    replay = people["admin"].post(f"/instances/{instance_id}/replay", {"dry_run": True}).get_json()
    assert (replay["matches"], replay["divergence"]) == (True, None)


def test_the_configured_threshold_is_used(app, drive, make_user, people):
    app.config["COST_OVERRUN_THRESHOLD"] = 0.2
    instance_id = implementing(drive, make_user)
    finance = people["finance"]
    ten_percent = spend(finance, instance_id, "198000").get_json()
    assert (ten_percent["over_budget"], ten_percent["overrun_review"]) == (False, None)
    assert reviews(finance, instance_id) == []
    assert finance.get(f"/instances/{instance_id}/costs").get_json()["threshold"] == "0.2"
    assert spend(finance, instance_id, "18000").get_json()["overrun_review"] == "raised"  # 216,000
    assert len(reviews(finance, instance_id)) == 1


def test_an_ended_instance_records_the_cost_and_says_no_review_was_raised(app, drive, make_user, people):
    instance_id = implementing(drive, make_user)
    admin = people["admin"]
    assert admin.post(f"/instances/{instance_id}/terminate", {"reason": "項目取消"}).status_code == 200
    before = snapshot(app)
    recorded = spend(people["finance"], instance_id, "250000")
    assert recorded.status_code == 201
    body = recorded.get_json()
    assert (body["over_budget"], body["overrun_review"]) == (True, "not_running")
    assert "terminated" in body["overrun_note"]
    assert snapshot(app) == before and cost_rows(app) == 1


def test_the_records_page_says_the_review_was_raised(app, drive, make_user, people):
    from conftest_pages import Browser

    instance_id = implementing(drive, make_user)
    finance = Browser(app, people["finance"].user.username)
    cost = {"category": "licences", "amount": "198000", "spent_on": "2026-03-01"}
    posted = finance.post_form(f"/instances/{instance_id}/costs", cost)
    assert posted.status_code == 303
    page = finance.get(f"/instances/{instance_id}/records")
    assert "已向財務部門發起費用超支審核" in page.text and 'id="over-budget"' in page.text
    assert "預算的 10.0%" in page.text
    assert [t.name for t in finance.tasks()] == ["cost_overrun_review"]


def test_a_cost_before_any_budget_is_approved_says_so(app, drive, make_user, people):
    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "analysis_report")  # estimated, not yet budgeted or approved
    recorded = spend(people["finance"], instance_id, "5000").get_json()
    assert (recorded["overrun_review"], recorded["budget"]) == ("no_budget", None)
    assert "no budget is approved yet" in recorded["overrun_note"]


def test_an_audit_that_asked_for_a_revision_approved_no_budget(app, drive, make_user, people):
    """Finance's `revise` named an amount, and a cost over it raised an overrun review on a
    project whose budget was never approved."""
    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "budget_audit")
    drive.complete(instance_id, "budget_audit", decision="revise", approved_budget=1000, comment="請調整預算")
    drive.complete(instance_id, "initiation_review", decision="approve")
    assert "initiation_application" in [t.name for t in drive.ready(instance_id)]  # sent back
    recorded = spend(people["finance"], instance_id, "5000").get_json()
    assert (recorded["overrun_review"], recorded["budget"]) == ("no_budget", None)
    assert people["finance"].get("/tasks").get_json() == []


def test_an_overrun_reached_while_no_review_could_be_raised_is_reviewed_at_the_next_cost(
    app, drive, make_user, people, clock
):
    """Spending crossed the line while the instance was suspended ("not_running") or before a
    budget was approved ("no_budget"); every later cost said "no_crossing" (the level before it
    was already that one), and finance never reviewed the overrun (R2.3.2)."""
    finance, admin = people["finance"], people["admin"]
    suspended = implementing(drive, make_user)
    assert admin.post(f"/instances/{suspended}/suspend", {"reason": "盤點"}).status_code == 200
    assert spend(finance, suspended, "200000").get_json()["overrun_review"] == "not_running"
    assert admin.post(f"/instances/{suspended}/resume", {"reason": "繼續"}).status_code == 200
    clock.advance(minutes=1)
    assert spend(finance, suspended, "1000").get_json()["overrun_review"] == "raised"
    assert len(reviews(finance, suspended)) == 1

    early = drive.start(make_user("applicant2", "business"))
    drive.walk(early, "initiation_application")
    assert spend(finance, early, "200000").get_json()["overrun_review"] == "no_budget"
    drive.walk(early, "implement")  # 180,000 approved
    assert spend(finance, early, "1000").get_json()["overrun_review"] == "raised"
    # Reviewed at that level, the next cost at it raises nothing; the next level does.
    [task] = reviews(finance, early)
    clock.advance(minutes=1)
    assert finance.submit(task["id"], REVIEW).status_code == 200
    clock.advance(minutes=1)
    assert spend(finance, early, "1000").get_json()["overrun_review"] == "no_crossing"
    assert spend(finance, early, "20000").get_json()["overrun_review"] == "raised"  # 20% over


def test_a_review_an_administrator_skipped_saw_its_level(app, drive, make_user, people, clock):
    """Skipped, the review counted as never done: each later cost at that level raised another."""
    finance, admin = people["finance"], people["admin"]
    instance_id = implementing(drive, make_user)
    assert spend(finance, instance_id, "200000").get_json()["overrun_review"] == "raised"
    [task] = reviews(finance, instance_id)
    clock.advance(minutes=1)
    skipped = admin.post(f"/instances/{instance_id}/tasks/{task['id']}/skip", {"reason": "已線下審核"})
    assert skipped.status_code == 200, skipped.get_json()
    clock.advance(minutes=1)
    assert spend(finance, instance_id, "10").get_json()["overrun_review"] == "no_crossing"
    assert reviews(finance, instance_id) == []

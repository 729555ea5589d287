"""The inbox: tasks for my groups and not for others, counts, due dates; claim and unclaim."""

from datetime import timedelta

import pytest
from bundles import NOTE_FORM, bpmn, user_task
from conftest_pages import REQUEST, Browser, browser_fixture, start_request  # noqa: F401 - the browser fixture

import engine
from web.extensions import db


def test_the_inbox_shows_a_task_to_its_group_only(app, browser):
    alice = browser("alice", "business")
    ivan = browser("ivan", "it")
    fiona = browser("fiona", "finance")
    start_request(app, "alice", title="OA 移動審批")

    page = ivan.get("/")
    assert page.status_code == 200
    assert "需求初審" in page.text
    assert "OA 移動審批" in page.text
    assert 'class="badge"' in page.text  # the count in the header
    [task] = ivan.tasks()
    assert f"/tasks/{task.id}" in page.text

    for other in (fiona, alice):
        page = other.get("/")
        assert "需求初審" not in page.text
        assert f"/tasks/{task.id}" not in page.text
        assert 'class="badge"' not in page.text
    assert "OA 移動審批" in alice.get("/").text  # alice sees it among her own requests


def test_the_inbox_has_clear_empty_states(browser):
    page = browser("fiona", "finance").get("/")
    assert "目前沒有分配給您的任務" in page.text
    assert "您的部門目前沒有待處理的任務" in page.text
    assert "您目前沒有進行中的申請" in page.text


# A one-step process whose task is due a day after it is ready (the regulation's diagrams set no
# due dates yet).
DUE_BPMN = bpmn(
    user_task("Timed check", "it", "check", 'camunda:dueDate="P1D" camunda:formRefBinding="latest"'),
    process_id="due_demo",
)


def test_overdue_tasks_come_first_and_are_marked(app, browser):
    ivan = browser("ivan", "it")
    clock = engine.ManualClock()
    app.config["ENGINE_CLOCK"] = clock
    with app.app_context():
        engine.deploy(db.session, {"due.bpmn": DUE_BPMN, "check.form": NOTE_FORM}, deployed_by="tests")
        actor = engine.get_user_by_name(db.session, "ivan").actor
        applicant = engine.Actor("bob", frozenset({"business"}))
        engine.start_instance(db.session, "software_upgrade", REQUEST, applicant, clock=clock)  # no due date
        first = engine.start_instance(db.session, "due_demo", {}, actor, clock=clock).id  # due at +24h
        clock.advance(hours=12)
        second = engine.start_instance(db.session, "due_demo", {}, actor, clock=clock).id  # due at +36h
        db.session.commit()
    clock.advance(hours=13)  # +25h: the first is overdue, the second due within two days

    page = ivan.get("/").text
    cards = page.split('<li class="task-card')[1:]
    assert len(cards) == 3
    assert cards[0].startswith(" task-card--overdue") and f"instance={first}" in cards[0]
    assert cards[1].startswith(" task-card--soon") and f"instance={second}" in cards[1]
    assert "需求初審" in cards[2]  # undated last
    assert "已逾期" in cards[0]
    assert '<span class="stat__num">1</span><span class="stat__label">已逾期' in page


def test_claim_and_unclaim_through_the_inbox(app, browser):
    ivan = browser("ivan", "it")
    iris = browser("iris", "it")
    browser("alice", "business")
    start_request(app, "alice")
    [task] = ivan.tasks()
    assert f'action="/tasks/{task.id}/claim"' in ivan.get("/").text

    response = ivan.post_form(f"/tasks/{task.id}/claim", {"next": "/"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = ivan.get("/").text
    assert "已認領" in page
    assert f'action="/tasks/{task.id}/unclaim"' in page
    assert [t.id for t in ivan.tasks("me")] == [task.id]
    # Iris no longer sees it, and may not take it from Ivan.
    assert task.id not in iris.get("/").text
    assert iris.post_form(f"/tasks/{task.id}/claim").status_code == 409
    assert iris.get(f"/tasks/{task.id}").status_code == 403

    response = ivan.post_form(f"/tasks/{task.id}/unclaim")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert ivan.tasks("me") == []
    assert [t.id for t in iris.tasks("group")] == [task.id]
    with app.app_context():
        kinds = [e.type for e in engine.instance_events(db.session, task.instance_id)]
    assert kinds == ["started", "task_claimed", "task_unclaimed"]


def test_a_claim_by_another_group_is_forbidden(app, browser):
    fiona = browser("fiona", "finance")
    browser("ivan", "it")
    browser("alice", "business")
    start_request(app, "alice")
    [task] = Browser(app, "ivan").tasks()
    response = fiona.post_form(f"/tasks/{task.id}/claim")
    assert response.status_code == 403
    assert "無權執行此操作" in response.text
    assert fiona.post_form("/tasks/no-such-task/claim").status_code == 404


def test_due_dates_are_shown(app, browser):
    from web.pages.layout import due_state

    now = engine.ManualClock().now
    assert due_state(now - timedelta(hours=1), now) == "overdue"
    assert due_state(now + timedelta(days=1), now) == "soon"
    assert due_state(now + timedelta(days=5), now) is None
    assert due_state(None, now) is None


def test_a_crowded_inbox_lists_the_most_urgent_and_counts_them_all(app, browser, monkeypatch):
    from web.pages import inbox

    monkeypatch.setattr(inbox, "GROUP_TASKS_SHOWN", 3)
    ivan = browser("ivan", "it")
    browser("alice", "business")
    for number in range(5):
        start_request(app, "alice", title=f"申請 {number}")

    page = ivan.get("/").text
    cards = page.split('<li class="task-card')[1:]
    assert len(cards) == 3
    assert all(f"申請 {n}" in card for n, card in zip(range(3), cards, strict=True))  # longest waiting first
    assert '<span class="stat__num">5</span><span class="stat__label">部門待認領' in page
    assert '<span class="count">5</span>' in page
    assert 'href="/?all=1"' in page and "(3/5)" in page
    assert (
        '<span class="visually-hidden">(</span>5<span class="visually-hidden">)</span>' in page
    )  # the header badge

    every = ivan.get("/?all=1").text
    assert len(every.split('<li class="task-card')[1:]) == 5
    assert 'href="/?all=1"' not in every


def test_task_counts_agree_with_the_lists(app, make_user):
    """count_tasks (the badge) counts exactly what list_tasks lists, for every kind of actor."""
    make_user("alice", "business")
    for number in range(3):
        start_request(app, "alice", title=f"申請 {number}")
    clock = engine.ManualClock()
    with app.app_context():
        ivan = engine.Actor("ivan", frozenset({"it"}))
        [first, *_] = engine.list_tasks(db.session, ivan)
        engine.claim_task(db.session, first.id, ivan)
        db.session.commit()
        actors = [
            ivan,
            engine.Actor("iris", frozenset({"it"})),
            engine.Actor("alice", frozenset({"business"})),
        ]
        for actor in actors:
            for assigned in ("me", "group", "any"):
                listed = engine.list_tasks(db.session, actor, assigned=assigned)
                assert engine.count_tasks(db.session, actor, assigned=assigned) == len(listed), (
                    actor,
                    assigned,
                )
        assert [engine.count_tasks(db.session, ivan, assigned=a) for a in ("me", "group", "any")] == [1, 2, 3]
        assert engine.count_tasks(db.session, ivan, due_before=clock.now) == 0  # none has a due date
        assert len(engine.list_tasks(db.session, ivan, limit=2)) == 2
        assert [t.id for t in engine.list_tasks(db.session, ivan, limit=2, offset=1)] == [
            t.id for t in engine.list_tasks(db.session, ivan)[1:3]
        ]


# A step for one named person (candidateUsers, no group), due a day after it is ready.
PERSONAL_BPMN = bpmn(
    user_task("Sign", None, "check", 'camunda:candidateUsers="carol" camunda:dueDate="P1D"'),
    process_id="personal_demo",
)


def test_tasks_for_named_people_do_not_crowd_a_groups_inbox(app, browser, monkeypatch):
    """Group-less tasks for candidate users come first by due date but are not Ivan's: the
    inbox still lists its quota of his group's tasks."""
    from web.pages import inbox

    monkeypatch.setattr(inbox, "GROUP_TASKS_SHOWN", 3)
    ivan = browser("ivan", "it")
    browser("alice", "business")
    with app.app_context():
        engine.deploy(db.session, {"personal.bpmn": PERSONAL_BPMN, "check.form": NOTE_FORM}, deployed_by="t")
        carol = engine.Actor("carol", frozenset())
        for _ in range(4):
            engine.start_instance(db.session, "personal_demo", {}, carol)
        db.session.commit()
    for number in range(4):
        start_request(app, "alice", title=f"申請 {number}")

    page = ivan.get("/").text
    cards = page.split('<li class="task-card')[1:]
    assert len(cards) == 3 and all("需求初審" in card for card in cards)
    assert "(3/4)" in page
    with app.app_context():
        ivan_actor = engine.get_user_by_name(db.session, "ivan").actor
        listed = engine.list_tasks(db.session, ivan_actor, assigned="group")
        assert [t.name for t in listed] == ["preliminary_review"] * 4
        assert engine.list_tasks(db.session, ivan_actor, assigned="group", limit=2, offset=1) == listed[1:3]
        assert len(engine.list_tasks(db.session, carol, limit=2)) == 2
        assert engine.count_tasks(db.session, carol) == 4


# One step open to two departments and one more person.
SHARED_BPMN = bpmn(
    user_task("Check", "it,business", "check", 'camunda:candidateUsers="fiona"'), process_id="shared_demo"
)


def test_a_task_open_to_several_groups_and_people_is_in_each_ones_inbox(app, browser):
    """Only its first group found it: business members and the named person could open and
    complete it (200) but never saw it listed or counted."""
    ivan, bella, fiona = browser("ivan", "it"), browser("bella", "business"), browser("fiona", "finance")
    quinn = browser("quinn", "qa")
    with app.app_context():
        engine.deploy(db.session, {"shared.bpmn": SHARED_BPMN, "check.form": NOTE_FORM}, deployed_by="t")
        started = engine.start_instance(
            db.session, "shared_demo", {}, engine.Actor("ivan", frozenset({"it"}))
        )
        db.session.commit()
        task_id = started.tasks[0].id
        for name, expected in (("ivan", 1), ("bella", 1), ("fiona", 1), ("quinn", 0)):
            actor = engine.get_user_by_name(db.session, name).actor
            for assigned in ("group", "any"):
                listed = engine.list_tasks(db.session, actor, assigned=assigned)
                assert [t.id for t in listed] == [task_id] * expected, (name, assigned)
                assert engine.count_tasks(db.session, actor, assigned=assigned) == expected, (name, assigned)
            assert engine.count_tasks(db.session, actor, assigned="me") == 0
    for page in (ivan.get("/").text, bella.get("/").text, fiona.get("/").text):
        assert task_id in page
    assert task_id not in quinn.get("/").text


def test_a_claim_while_another_branch_is_completed_is_retried_not_refused(
    app, drive, people, browser, monkeypatch, request
):
    """Finance claims the budget audit from the inbox at the moment management completes the
    initiation review of the same project (parallel branches). The claim is made again on the
    new row, as the REST API's is, not answered "conflict"; both steps are kept."""
    if request.config.getoption("--db") == "postgresql":
        pytest.skip("PostgreSQL: the claim holds the instance's row lock, so no step can commit in between")
    from apiclient import form_data
    from sqlalchemy.orm import Session

    from engine.claims import ClaimsMixin

    instance_id = drive.start(people["business"].user)
    audit = drive.reach(instance_id, "budget_audit")
    review = drive.task(instance_id, "initiation_review")
    claim = ClaimsMixin.claim

    def another_branch_first(self, *args, **kwargs):
        monkeypatch.setattr(ClaimsMixin, "claim", claim)
        actor = drive.actor_for(review)
        with Session(db.engine) as session, session.begin():
            _, _, values = engine.get_task(session, review.id, actor, clock=drive.clock)
            engine.complete_task(session, review.id, form_data(review, values), actor, clock=drive.clock)
        return claim(self, *args, **kwargs)

    fiona = browser("fiona", "finance")
    monkeypatch.setattr(ClaimsMixin, "claim", another_branch_first)
    response = fiona.post_form(f"/tasks/{audit.id}/claim", {"next": "/"})
    assert response.status_code == 302
    ready = {t.name: t for t in drive.ready(instance_id)}
    assert ready["budget_audit"].assignee == "fiona"
    assert "initiation_review" not in ready


def test_only_those_who_may_raise_a_request_are_offered_one(app, browser):
    """Finance, IT, management and vendors were offered 新需求申請 in the menu and the inbox, and
    each click led to a 403: only the business departments raise requests (R3.1.1)."""
    for username, group, offered in (
        ("bella", "business", True),
        ("fiona", "finance", False),
        ("ivan", "it", False),
    ):
        page = browser(username, group).get("/").text
        assert ('href="/requests/new"' in page) is offered, group

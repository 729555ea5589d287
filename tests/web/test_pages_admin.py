"""Issue 5's pages: the admin instance list and bulk actions, the incidents, and the instance page's
admin controls. Administrators only: others get 403 and nothing changes; every form needs CSRF."""

import re

import pytest
import sqlalchemy as sa
from apiclient import snapshot
from conftest_pages import browser_fixture  # noqa: F401 - the `browser` fixture
from markupsafe import escape
from sqlalchemy.orm import Session

import engine
import engine.admin as repairs
from tests.integration.versions_v2 import version_two
from web.extensions import db


def deploy_version_two(app):
    with app.app_context():
        engine.deploy(db.session, version_two(engine.bundle_files("processes", "forms")), "po")
        db.session.commit()


def instance(app, instance_id):
    with app.app_context():
        return engine.get_instance(db.session, instance_id)


def logged(app, instance_id, kind) -> dict:
    """The data of the instance's last `kind` event."""
    with app.app_context():
        events = engine.instance_events(db.session, instance_id)
    return next(e.data for e in reversed(events) if e.type == kind)


def listed(html):
    return sorted(int(i) for i in re.findall(r'name="ids" value="(\d+)"', html))


@pytest.fixture
def admin(browser):
    return browser("root", admin=True)


@pytest.fixture
def started(people, drive):
    return drive.start(people["business"].user)


def test_the_admin_list_filters_across_processes(app, admin, people, drive, clock, make_user):
    business = people["business"].user
    old = drive.start(business)
    clock.advance(days=10)
    drive.reach(old, "analysis_report")
    new = drive.start(make_user("bea", "business"))
    assert listed(admin.get("/admin/instances").text) == [old, new]
    assert listed(admin.get("/admin/instances?waiting_at=analysis_report").text) == [old]
    assert listed(admin.get("/admin/instances?waiting_at=analysis").text) == []  # whole ids only
    assert listed(admin.get("/admin/instances?waiting_at=%25").text) == []  # `%` is no wildcard
    assert listed(admin.get("/admin/instances?waiting_at=analysis%5Freport").text) == [old]  # `_` is itself
    assert listed(admin.get("/admin/instances?older_than=5").text) == [old]
    assert listed(admin.get("/admin/instances?initiator=bea").text) == [new]
    assert listed(admin.get("/admin/instances?process=software_upgrade&version=1&status=running").text) == [
        old,
        new,
    ]
    assert listed(admin.get("/admin/instances?version=2").text) == []
    assert admin.get("/admin/instances?older_than=-1").status_code == 400


def test_a_bulk_migration_lists_each_outcome_and_leaves_the_refused_one(app, admin, people, drive):
    ids = [drive.start(people["business"].user) for _ in range(2)]
    drive.reach(ids[1], "analysis_report")  # the step version 2 removes
    deploy_version_two(app)
    preview = admin.post_form(
        "/admin/instances/bulk", {"action": "migrate", "ids": ids, "version": 2, "dry_run": 1}
    )
    assert preview.status_code == 200
    assert "可以遷移到第 2 版" in preview.text
    assert [instance(app, i).version for i in ids] == [1, 1]

    response = admin.post_form(
        "/admin/instances/bulk", {"action": "migrate", "ids": ids, "version": 2, "reason": "新版上線"}
    )
    assert response.status_code == 200
    assert response.text.count('class="result result--ok"') == 1
    assert response.text.count('class="result result--failed"') == 1
    assert "analysis_report" in response.text
    assert [instance(app, i).version for i in ids] == [2, 1]
    assert logged(app, ids[0], "migrated")["reason"] == "新版上線"  # the reason typed was dropped


def test_bulk_suspend_and_resume(app, admin, people, drive):
    ids = [drive.start(people["business"].user) for _ in range(2)]
    response = admin.post_form("/admin/instances/bulk", {"action": "suspend", "ids": ids, "reason": "盤點"})
    assert response.text.count("result--ok") == 2
    assert [instance(app, i).status for i in ids] == ["suspended", "suspended"]
    assert "狀態：已暫停" in response.text and "suspended<" not in response.text  # its word, not its code
    again = admin.post_form("/admin/instances/bulk", {"action": "suspend", "ids": ids[:1], "reason": "x"})
    assert "實例狀態為 suspended，不能暫停" in again.text and "cannot be suspended" not in again.text
    # One instance's control says why it refuses (it said "it has ended or failed", for any reason).
    page = admin.post_form(f"/instances/{ids[0]}/admin/suspend", {"reason": "x"})
    assert (
        page.status_code == 409
        and "流程或文件目前的狀態不允許此操作：實例狀態為 suspended，不能暫停" in page.text
    )
    admin.post_form("/admin/instances/bulk", {"action": "resume", "ids": ids[:1]})
    assert [instance(app, i).status for i in ids] == ["running", "suspended"]
    missing = admin.post_form("/admin/instances/bulk", {"action": "resume", "ids": [999]})
    assert "result--failed" in missing.text
    # An id no row can have, between two real ones: refused before either is touched (the first
    # was once suspended while the answer said nothing was saved).
    before = snapshot(app)
    beyond = admin.post_form(
        "/admin/instances/bulk",
        {"action": "suspend", "ids": [ids[0], 99999999999999999999, ids[1]], "reason": "x"},
    )
    assert beyond.status_code == 400
    assert snapshot(app) == before
    unversioned = admin.post_form("/admin/instances/bulk", {"action": "migrate", "ids": ids, "reason": "x"})
    assert unversioned.status_code == 400 and "遷移須指定目標版本" in unversioned.text
    assert "required to migrate" not in unversioned.text.split("技術細節")[0]  # English, to a Chinese reader
    for action in ("suspend", "resume", "migrate"):  # nothing ticked: the browser sends no ids (a 500)
        none = admin.post_form("/admin/instances/bulk", {"action": action, "reason": "x", "version": 2})
        assert none.status_code == 400 and "請先勾選至少一個實例" in none.text
    assert snapshot(app) == before


def test_the_incidents_show_the_element_the_message_and_the_data(app, admin, drive, started):
    drive.reach(started, "golive")
    with app.app_context():
        root = engine.Actor("root", frozenset(), is_admin=True)
        engine.edit_instance_data(db.session, started, root, {"sign_contract": {}}, "模擬")
        db.session.commit()
    drive.complete(started, "golive", decision="success")
    page = admin.get("/admin/incidents")
    assert page.status_code == 200
    assert "start_support_period" in page.text and "support_months" in page.text
    assert f"/instances/{started}#admin-title" in page.text

    # Fixed on the instance page: edit the data, then retry.
    controls = admin.get(f"/instances/{started}").text
    assert 'id="admin-title"' in controls and "admin/retry" in controls
    original = re.search(r'name="original" value="([^"]*)"', controls).group(1)
    assert original  # the data as shown
    data = {"sign_contract": {"support_months": 1}}
    edited = admin.post_form(
        f"/instances/{started}/admin/data",
        {
            "original": '{"sign_contract": {}}',
            "data": '{"sign_contract": {"support_months": 1}}',
            "reason": "補錄",
        },
    )
    assert edited.status_code == 302
    assert "數據已修改" in admin.get(edited.location).text  # old and new shown
    # A typo in the editor led to an error page and the typed text was lost: the instance page
    # again, the text in the editor, the problem said above it, nothing stored.
    typo = '{"sign_contract": {"support_months": 2,}}'
    kept = admin.post_form(
        f"/instances/{started}/admin/data",
        {"original": '{"sign_contract": {}}', "data": typo, "reason": "補錄"},
    )
    assert kept.status_code == 400 and "數據不是有效的 JSON" in kept.text
    assert str(escape(typo)) in kept.text and 'id="admin-title"' in kept.text
    assert instance(app, started).data["sign_contract"] == data["sign_contract"]
    # A variable taken out of the editor was ignored ("no change") and stayed: now said so.
    before = instance(app, started).data
    gone = admin.post_form(
        f"/instances/{started}/admin/data",
        {"original": '{"initiator": "x", "note": 1}', "data": '{"note": 2}', "reason": "刪除"},
    )
    assert "不能刪除變量：initiator" in admin.get(gone.location).text
    assert instance(app, started).data == before
    admin.post_form(f"/instances/{started}/admin/retry")
    assert instance(app, started).status == "running"
    assert instance(app, started).data["sign_contract"] == data["sign_contract"]


def test_the_instance_page_controls_suspend_rewind_skip_and_terminate(app, admin, drive, started):
    drive.reach(started, "risk_identification")
    page = admin.get(f"/instances/{started}").text
    analysis = re.search(r'<option value="([^"]+)"[^>]*>#\d+ 需求分析與評估', page).group(1)
    assert admin.post_form(f"/instances/{started}/admin/suspend", {"reason": "核對"}).status_code == 302
    assert instance(app, started).status == "suspended"
    assert "恢復" in admin.get(f"/instances/{started}").text
    admin.post_form(f"/instances/{started}/admin/resume")
    rewound = admin.post_form(f"/instances/{started}/admin/rewind", {"task_id": analysis, "reason": "重做"})
    assert rewound.status_code == 302
    assert instance(app, started).waiting_at == ["requirement_analysis"]
    assert "已回退" in admin.get(f"/instances/{started}").text  # the rewound step is marked
    [task] = instance(app, started).tasks
    admin.post_form(f"/instances/{started}/admin/skip", {"task_id": task.id, "reason": "線下完成"})
    assert instance(app, started).waiting_at == ["risk_identification"]
    admin.post_form(f"/instances/{started}/admin/terminate", {"reason": "取消"})
    assert instance(app, started).status == "terminated"


def test_replay_migrate_preview_apply_and_undo_from_the_instance_page(app, admin, drive, started):
    drive.reach(started, "requirement_analysis")
    replay = admin.post_form(f"/instances/{started}/admin/replay", {"dry_run": 1})
    assert replay.status_code == 200 and 'class="replay-match"' in replay.text
    deploy_version_two(app)
    preview = admin.post_form(f"/instances/{started}/admin/migrate", {"version": 2, "dry_run": 1})
    assert preview.status_code == 200
    assert "kickoff_meeting" in preview.text and "analysis_report" in preview.text
    assert "requirement_analysis → requirement_evaluation" in preview.text  # renamed, same step
    assert instance(app, started).version == 1
    assert 'name="reason"' in preview.text  # the migration asks why
    applied = admin.post_form(f"/instances/{started}/admin/migrate", {"version": 2, "reason": "新版流程"})
    assert applied.status_code == 302
    assert (instance(app, started).version, instance(app, started).waiting_at) == (
        2,
        ["requirement_evaluation"],
    )
    assert logged(app, started, "migrated")["reason"] == "新版流程"
    admin.post_form(f"/instances/{started}/admin/undo", {"reason": "遷移有誤"})
    assert logged(app, started, "undone")["reason"] == "遷移有誤"
    assert (instance(app, started).version, instance(app, started).waiting_at) == (
        1,
        ["requirement_analysis"],
    )
    nothing = admin.post_form(f"/instances/{started}/admin/undo")
    assert nothing.status_code == 409


def test_a_retry_and_a_replay_that_writes_are_logged_with_the_reason_typed(app, admin, drive, started):
    """The page dropped the reason of a retry (and offered none for a replay that writes)."""
    drive.reach(started, "requirement_analysis")
    with app.app_context():
        db.session.get(engine.models.InstanceRecord, started).state = {"format": 1}
        db.session.commit()
    checked = admin.post_form(f"/instances/{started}/admin/replay", {"dry_run": 1})
    assert 'class="replay-differs"' in checked.text and 'name="dry_run" value="0"' in checked.text
    written = admin.post_form(f"/instances/{started}/admin/replay", {"dry_run": 0, "reason": "狀態損壞"})
    assert written.status_code == 200 and "存儲的狀態已被重放結果取代" in written.text
    assert logged(app, started, "replayed")["reason"] == "狀態損壞"
    drive.reach(started, "golive")
    with app.app_context():
        engine.edit_instance_data(
            db.session, started, engine.Actor("root", frozenset(), True), {"sign_contract": {}}, "x"
        )
        db.session.commit()
    drive.complete(started, "golive", decision="success")
    page = admin.get(f"/instances/{started}").text
    assert 'id="adm-retry-reason"' in page
    with app.app_context():
        engine.edit_instance_data(
            db.session,
            started,
            engine.Actor("root", frozenset(), True),
            {"sign_contract": {"support_months": 1}},
            "x",
        )
        db.session.commit()
    assert admin.post_form(f"/instances/{started}/admin/retry", {"reason": "已補錄"}).status_code == 302
    assert logged(app, started, "retried")["reason"] == "已補錄"


def test_the_replay_page_offers_a_replacement_only_when_the_replay_could_make_one(app, admin, drive, started):
    """A log the replay cannot follow (its start lost) was offered for replacement; posting it
    showed the same page again, nothing done and nothing said."""
    drive.reach(started, "requirement_analysis")
    with app.app_context():
        db.session.execute(
            sa.delete(engine.models.EventRecord).where(
                engine.models.EventRecord.instance_id == started, engine.models.EventRecord.type == "started"
            )
        )
        db.session.commit()
    checked = admin.post_form(f"/instances/{started}/admin/replay", {"dry_run": 1})
    assert 'class="replay-differs"' in checked.text and 'name="dry_run" value="0"' not in checked.text


def test_a_refused_migration_is_a_409_page_naming_the_element(app, admin, drive, started):
    drive.reach(started, "analysis_report")
    deploy_version_two(app)
    before = snapshot(app)
    response = admin.post_form(f"/instances/{started}/admin/migrate", {"version": 2})
    assert response.status_code == 409 and "analysis_report" in response.text
    assert snapshot(app) == before


PAGE_ACTIONS = [
    ("/instances/{id}/admin/suspend", {"reason": "x"}),
    ("/instances/{id}/admin/resume", {}),
    ("/instances/{id}/admin/terminate", {"reason": "x"}),
    ("/instances/{id}/admin/retry", {}),
    ("/instances/{id}/admin/rewind", {"task_id": "x", "reason": "x"}),
    ("/instances/{id}/admin/skip", {"task_id": "x", "reason": "x"}),
    ("/instances/{id}/admin/data", {"original": "{}", "data": '{"a": 1}', "reason": "x"}),
    ("/instances/{id}/admin/replay", {"dry_run": 0}),
    ("/instances/{id}/admin/migrate", {"version": 2}),
    ("/instances/{id}/admin/undo", {}),
    ("/admin/instances/bulk", {"action": "suspend", "ids": "{id}", "reason": "x"}),
]


@pytest.mark.parametrize(("path", "form"), PAGE_ACTIONS, ids=[p for p, _ in PAGE_ACTIONS])
def test_every_admin_page_action_is_refused_403_to_others(app, browser, started, path, form):
    deploy_version_two(app)
    it = browser("ivan", "it")
    before = snapshot(app)
    form = {key: str(value).replace("{id}", str(started)) for key, value in form.items()}
    response = it.post_form(path.format(id=started), form)
    assert response.status_code == 403
    assert snapshot(app) == before


def test_the_admin_pages_are_refused_to_others_and_the_instance_page_shows_no_controls(app, browser, started):
    business = browser("bella", "business")
    assert business.get("/admin/instances").status_code == 403
    assert business.get("/admin/incidents").status_code == 403
    page = business.get(f"/instances/{started}")
    assert page.status_code == 200
    assert 'id="admin-title"' not in page.text and "實例管理" not in page.text


def test_admin_forms_need_the_csrf_token(app, admin, started):
    before = snapshot(app)
    response = admin.post_form(f"/instances/{started}/admin/suspend", {"reason": "x"}, csrf=False)
    assert response.status_code == 400
    assert snapshot(app) == before


def test_an_admin_action_that_loses_a_race_says_409_and_changes_nothing(
    app, admin, started, people, monkeypatch
):
    """The admin suspends while someone claims a task of the instance; the claim commits first.
    The admin's write fails (the row changed): the page says so with a 409, and the layout of
    that page (which reads the inbox) still renders."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL: the admin's row lock makes the claim wait, so there is no race to lose")
    task = instance(app, started).tasks[0]
    it = engine.Actor("ivan", frozenset({"it"}))
    load = repairs._load

    def claimed_meanwhile(session, *args, **kwargs):
        loaded = load(session, *args, **kwargs)
        with Session(db.engine) as other, other.begin():
            engine.claim_task(other, task.id, it)
        return loaded

    monkeypatch.setattr(repairs, "_load", claimed_meanwhile)
    response = admin.post_form(f"/instances/{started}/admin/suspend", {"reason": "審計"})
    assert response.status_code == 409, response.text[:300]
    assert "changed by someone else" in response.text
    after = instance(app, started)
    assert after.status == "running"  # not suspended
    assert [(t.id, t.claimed_by) for t in after.tasks] == [(task.id, "ivan")]  # the claim stands


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ('{"x": "\\ud800"}', "lone surrogate"),  # made the instance and the admin list unreadable
        ('{"x": NaN}', "NaN and Infinity"),
        ('{"big": 12345678901234567890}', "64 bits"),
        ('{"big": 123456789012345678901234567890}', "64 bits"),  # orjson: a float, stored rounded
        ('{"x": "a\\u0000b"}', "NUL"),
    ],
)
def test_the_data_editor_refuses_what_the_instance_could_not_be_read_with_again(
    app, admin, started, data, problem
):
    before = snapshot(app)
    refused = admin.post_form(
        f"/instances/{started}/admin/data", {"original": "{}", "data": data, "reason": "試"}
    )
    assert refused.status_code == 400 and problem in refused.text
    assert snapshot(app) == before

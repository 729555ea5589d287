"""`upgradeflow replay | verify | migrate` on the app's database, acting as the admin "cli"."""

import pytest
from sqlalchemy import select

import engine
from engine.models import InstanceRecord, NotificationRecord
from tests.integration.versions_v2 import version_two
from web.extensions import db


def deploy_version_two(app):
    with app.app_context():
        engine.deploy(db.session, version_two(engine.bundle_files("processes", "forms")), "po")
        db.session.commit()


def stored(app, instance_id):
    with app.app_context():
        record = db.session.get(InstanceRecord, instance_id)
        return record.process_version.version, record.state


def test_replay_reports_a_match_and_on_another_version_where_it_diverges(app, runner, people, drive):
    started = drive.start(people["business"].user)
    drive.reach(started, "analysis_report")
    deploy_version_two(app)
    same = runner.invoke(args=["replay", str(started), "--dry-run"])
    assert (same.exit_code, same.output) == (0, f"instance {started} on version 1: matches\n")
    other = runner.invoke(args=["replay", str(started), "--version", "2", "--dry-run"])
    assert other.exit_code == 1
    assert f"instance {started} on version 2: differs at event" in other.output
    assert "requirement_analysis is not ready" in other.output
    assert stored(app, started)[0] == 1
    missing = runner.invoke(args=["replay", "999"])
    assert (missing.exit_code, "no instance 999" in missing.output) == (1, True)


def test_verify_prints_the_instances_that_differ_and_exits_1(app, runner, people, drive):
    ids = [drive.start(people["business"].user) for _ in range(2)]
    assert runner.invoke(args=["verify"]).exit_code == 0
    drive.complete(ids[1], "preliminary_review")
    with app.app_context():  # the stored state loses the step its log records
        db.session.get(InstanceRecord, ids[1]).state = db.session.get(InstanceRecord, ids[0]).state
        db.session.commit()
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(f"instance {ids[1]} differs at ")
    assert result.output.splitlines()[-1] == "1 instance(s) differ from their replay"


def test_verify_checks_every_status_and_goes_on_past_an_instance_it_cannot_read(app, runner, people, drive):
    """A suspended instance whose stored state lost a step is found (verify once looked at
    running ones only); one whose state cannot be read is reported as such, and the instances
    after it are still checked (verify once stopped there with a traceback)."""
    business = people["business"].user
    source, diverged, unreadable, last = (drive.start(business) for _ in range(4))
    drive.complete(diverged, "preliminary_review")
    drive.complete(last, "preliminary_review")
    with app.app_context():
        db.session.get(InstanceRecord, diverged).state = db.session.get(InstanceRecord, source).state
        db.session.get(InstanceRecord, unreadable).state = {"format": 1}
        db.session.get(InstanceRecord, last).state = db.session.get(InstanceRecord, source).state
        for instance_id in (diverged, last):
            db.session.get(InstanceRecord, instance_id).status = "suspended"
        db.session.commit()
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert [line.split(" differs")[0] for line in lines[:3]] == [
        f"instance {diverged}",
        f"instance {unreadable}",
        f"instance {last}",
    ]
    assert "the stored state cannot be read" in lines[1] and "Traceback" not in result.output
    assert lines[-1] == "3 instance(s) differ from their replay"
    running = runner.invoke(args=["verify", "--status", "running"])
    assert running.output.splitlines()[-1] == "1 instance(s) differ from their replay"
    bad = runner.invoke(args=["verify", "--status", "sleeping"])
    assert bad.exit_code == 2 and "'sleeping' is not one of" in bad.output


def test_migrate_moves_each_running_instance_and_reports_the_refused_one(app, runner, people, drive):
    business = people["business"].user
    ids = [drive.start(business) for _ in range(2)]
    drive.reach(ids[1], "analysis_report")  # the step version 2 removes
    deploy_version_two(app)
    before = stored(app, ids[1])

    dry = runner.invoke(args=["migrate", "--process", "software_upgrade", "--to", "2", "--dry-run"])
    assert dry.exit_code == 1
    assert dry.output.splitlines() == [
        f"instance {ids[0]}: would move 1 -> 2 (diff)",
        f"instance {ids[1]}: refused: the instance is waiting at analysis_report (編寫需求分析報告), which version 2 removed",
        "1 of 2 instance(s) can move",
    ]
    assert stored(app, ids[0])[0] == 1

    result = runner.invoke(args=["migrate", "--process", "software_upgrade", "--to", "2"])
    assert result.output.splitlines()[0] == f"instance {ids[0]}: moved 1 -> 2 (diff)"
    assert (stored(app, ids[0])[0], stored(app, ids[1])) == (2, before)
    with app.app_context():
        actors = db.session.scalars(
            select(engine.models.EventRecord.actor).where(engine.models.EventRecord.type == "migrated")
        ).all()
    assert actors == ["cli"]
    again = runner.invoke(args=["migrate", "--process", "software_upgrade", "--to", "2"])
    assert again.output.splitlines() == [
        f"instance {ids[1]}: refused: the instance is waiting at analysis_report (編寫需求分析報告), which version 2 removed",
        "0 of 1 instance(s) migrated",
    ]
    unknown = runner.invoke(args=["migrate", "--process", "nope", "--to", "2"])
    assert unknown.exit_code == 1 and "no process 'nope'" in unknown.output


def test_migrate_takes_held_instances_and_goes_on_past_one_it_cannot_read(app, runner, people, drive):
    """`migrate --process` looked at running instances only: one in error (which a new version
    is to fix, then a retry) or suspended stayed behind, "0 of 0 migrated". And an instance whose
    state could not be read stopped the whole selection with a traceback, the ones before it
    moved and the ones after it never tried."""
    business, admin = people["business"].user, people["admin"].user.actor
    suspended, unreadable, failed = (drive.start(business) for _ in range(3))
    drive.reach(failed, "golive")
    with app.app_context():
        engine.suspend_instance(db.session, suspended, admin, "待定")
        db.session.get(InstanceRecord, unreadable).state = {"format": 1}
        # The contract's support period goes missing: going live fails at the support period.
        engine.edit_instance_data(db.session, failed, admin, {"sign_contract": {}}, "模擬")
        db.session.commit()
    drive.complete(failed, "golive", decision="success")
    deploy_version_two(app)
    result = runner.invoke(args=["migrate", "--process", "software_upgrade", "--to", "2"])
    lines = result.output.splitlines()
    assert lines[0] == f"instance {suspended}: moved 1 -> 2 (diff)"
    assert lines[1].startswith(f"instance {unreadable}: refused: ") and "Traceback" not in result.output
    assert lines[2] == f"instance {failed}: moved 1 -> 2 (diff)"
    assert lines[3] == "2 of 3 instance(s) migrated"
    assert [stored(app, i)[0] for i in (suspended, unreadable, failed)] == [2, 1, 2]
    with app.app_context():
        statuses = [db.session.get(InstanceRecord, i).status for i in (suspended, unreadable, failed)]
    assert statuses == ["suspended", "running", "error"]


def test_verify_passes_an_instance_migrated_past_a_renamed_step(app, runner, people, drive):
    started = drive.start(people["business"].user)
    drive.reach(started, "risk_identification")  # requirement_analysis, renamed by version 2, is done
    deploy_version_two(app)
    moved = runner.invoke(args=["migrate", "--process", "software_upgrade", "--to", "2"])
    assert moved.output.splitlines()[0] == f"instance {started}: moved 1 -> 2 (diff)"
    result = runner.invoke(args=["verify"])
    assert (result.exit_code, result.output) == (0, "0 instance(s) differ from their replay\n")


def events(app, instance_id):
    with app.app_context():
        return [
            (e.type, e.actor, (e.data or {}).get("reason"))
            for e in engine.instance_events(db.session, instance_id)
        ]


def test_admins_watch_and_repair_instances_from_the_command_line(app, runner, people, drive):
    """Issue 5: watching and every repair are in the CLI too, logged as done by "cli" with why."""
    first = drive.start(people["business"].user)
    second = drive.start(people["business"].user)
    drive.reach(second, "requirement_analysis")
    listed = runner.invoke(args=["instances", "list", "--waiting-at", "preliminary_review"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines()[0].startswith(
        f"{first}\tsoftware_upgrade v1\trunning\tpreliminary_review"
    )
    assert listed.output.splitlines()[-1] == "1 instance(s)"

    assert runner.invoke(args=["instances", "suspend", str(first)]).exit_code == 2  # a reason is required
    suspended = runner.invoke(args=["instances", "suspend", str(first), "--reason", "等待預算"])
    assert (suspended.exit_code, suspended.output.strip()) == (
        0,
        f"instance {first}: suspended, waiting at preliminary_review",
    )
    assert runner.invoke(args=["instances", "resume", str(first)]).exit_code == 0
    [task] = drive.ready(first)
    skipped = runner.invoke(
        args=[
            "instances",
            "skip",
            str(first),
            task.id,
            "--reason",
            "線下已審",
            "--data",
            '{"decision": "accept"}',
        ]
    )
    assert skipped.exit_code == 0 and "waiting at requirement_analysis" in skipped.output
    edited = runner.invoke(
        args=["instances", "edit-data", str(first), "--set", '{"note": "已複核"}', "--reason", "備註"]
    )
    assert edited.exit_code == 0, edited.output
    bad = runner.invoke(args=["instances", "edit-data", str(first), "--set", "[1]", "--reason", "x"])
    assert bad.exit_code == 2 and "must be a JSON object" in bad.output
    refused = runner.invoke(args=["instances", "retry", str(first)])  # not in error
    assert refused.exit_code == 1 and "not in error" in refused.output
    ended = runner.invoke(args=["instances", "terminate", str(first), "--reason", "項目取消"])
    assert ended.exit_code == 0 and f"instance {first}: terminated" in ended.output
    assert events(app, first)[1:] == [
        ("suspended", "cli", "等待預算"),
        ("resumed", "cli", ""),
        ("task_skipped", "cli", "線下已審"),
        ("data_edited", "cli", "備註"),
        ("terminated", "cli", "項目取消"),
    ]
    assert "terminated" in runner.invoke(args=["instances", "list", "--status", "terminated"]).output


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["edit-data", "{id}", "--set", '{"note": "\\ud800"}', "--reason", "r"], "lone surrogate"),
        (["edit-data", "{id}", "--set", '{"x": ' + "[" * 70 + "]" * 70 + "}", "--reason", "r"], "nested"),
        (["edit-data", "{id}", "--set", '{"x": 18446744073709551616}', "--reason", "r"], "beyond 64 bits"),
        (
            ["edit-data", "{id}", "--set", '{"x": ' + "[" * 5000 + "]" * 5000 + "}", "--reason", "r"],
            "not JSON",
        ),
        (["suspend", "{id}", "--reason", "bad \udcff byte"], "is not UTF-8 text"),
        (["skip", "{id}", "\udcff", "--reason", "r"], "is not UTF-8 text"),
        # Filters: a traceback from the database driver.
        (["list", "--process", "a\udcff"], "is not UTF-8 text"),
        (["list", "--initiator", "a\udcff"], "is not UTF-8 text"),
        (["list", "--waiting-at", "a\udcff"], "is not UTF-8 text"),
    ],
)
def test_text_no_page_could_show_again_is_refused_and_nothing_is_stored(
    app, runner, people, drive, args, problem
):
    """A lone surrogate (from JSON's "\\ud800", or from a terminal whose bytes were not UTF-8)
    was once stored, and every page, API answer and replay of the instance failed after it."""
    instance_id = drive.start(people["business"].user)
    before = stored(app, instance_id), events(app, instance_id)
    result = runner.invoke(args=["instances", *[a.replace("{id}", str(instance_id)) for a in args]])
    assert result.exit_code == 2, result.output
    assert problem in result.output and "Traceback" not in result.output
    assert (stored(app, instance_id), events(app, instance_id)) == before


def test_a_replay_or_undo_that_puts_a_state_back_does_not_announce_its_steps_again(
    app, runner, people, drive
):
    """The replayed state's ready tasks carry new ids; each was announced to its group again."""
    instance_id = drive.start(people["business"].user)
    drive.complete(instance_id, "preliminary_review")

    def announced():
        with app.app_context():
            return db.session.scalars(
                select(NotificationRecord.task_id).where(NotificationRecord.kind == "task_assigned")
            ).all()

    before = announced()
    replayed = runner.invoke(args=["replay", str(instance_id)])
    assert replayed.exit_code == 0 and "replaced" in replayed.output, replayed.output
    assert runner.invoke(args=["instances", "undo", str(instance_id)]).exit_code == 0
    assert announced() == before
    assert [t.name for t in drive.ready(instance_id)] == ["requirement_analysis"]


def test_migrate_refuses_a_process_id_that_is_not_utf8(runner):
    result = runner.invoke(args=["migrate", "--process", "a\udcff", "--to", "1"])
    assert result.exit_code == 2 and "is not UTF-8 text" in result.output


def test_verify_finds_a_row_that_disagrees_with_its_state(app, runner, people, drive, clock, monkeypatch):
    """Written around the engine: one instance's ready task lost its inbox row, another's row
    says it ended, a third's claimed task row was handed to another group and lost its claim.
    Each is reported with what disagrees; a worker's incident (an `error` on the row alone, its
    state running) is not."""
    from engine.instances import Instance
    from engine.models import TaskRecord
    from web.worker import run_once

    business = people["business"].user
    lost, ended, moved, incident = (drive.start(business) for _ in range(4))
    drive.reach(incident, "implement")
    claimed = drive.task(moved, "preliminary_review")
    drive._run(lambda s: engine.claim_task(s, claimed.id, engine.Actor("it1", frozenset({"it"}))))
    with app.app_context():
        db.session.query(TaskRecord).filter_by(instance_id=lost).delete()
        db.session.get(InstanceRecord, ended).status = "completed"
        row = db.session.get(TaskRecord, claimed.id)
        row.assignee = row.claimed_by = None
        row.group_id, row.groups = "finance", ["finance"]
        db.session.commit()
    clock.advance(days=15)
    with monkeypatch.context() as patched, app.app_context():
        patched.setattr(Instance, "fire_timers", lambda self: 1 / 0)  # its timers cannot fire
        run_once()
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert [line.split(" differs")[0] for line in lines[:-1]] == [
        f"instance {lost}",
        f"instance {ended}",
        f"instance {moved}",
    ]
    assert "the row disagrees with its state" in lines[0] and "without a row" in lines[0]
    assert "status completed, its state running" in lines[1]
    assert "differs in group_id, groups, assignee, claimed_by" in lines[2]
    assert lines[-1] == "3 instance(s) differ from their replay"
    with app.app_context():
        assert db.session.get(InstanceRecord, incident).status == "error"

"""Issue 7: `upgradeflow worker` killed with SIGKILL in the middle of a batch of due timers loses
nothing and half-writes nothing; a worker started afterwards fires what is left, each timer once.

The instances are driven with a clock standing 15 days in the past, so their risk reassessment
timers (R/P14D, on `implement`) fell due a day ago by the system clock, which the worker subprocess
reads (the worker restarted afterwards runs in the test's process, on a clock set to today). The kill is not timed by sleeps: the test polls until a first batch is committed and the
worker holds the database's write lock for the next one (SQLite: a probe cannot take the write lock;
PostgreSQL: the worker's backend holds a row-exclusive lock on `instances`, i.e. has updated rows
it has not committed), and kills it then.
"""

import os
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta

from apiclient import HAPPY_PATH, REQUEST, Driver, form_data
from server import UPGRADEFLOW
from sqlalchemy import func, select, text

import engine
from engine.models import EventRecord, InstanceRecord, NotificationRecord, TaskRecord
from web.extensions import db
from web.worker import run_once

BATCH = 3  # instances per worker transaction
# The kill lands while a batch is open, after one committed and with at least one more left:
# six such moments, each a few milliseconds (a fresh worker fires a batch in about ten), so that
# polling cannot miss them all (with two, a fast machine let the worker finish first).
INSTANCES = 8 * BATCH


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _env(database_url):
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "worker-kill-tests"}


def _at_implement(app, clock, initiator) -> int:
    """Start an instance and walk the happy path to `implement`, one transaction per step."""
    with app.app_context():
        session = db.session
        info = engine.start_instance(session, "software_upgrade", REQUEST, initiator.actor, clock=clock)
        session.commit()
        for _ in HAPPY_PATH:  # bounded: one step at a time, never further than implement
            ready = {t.name: t for t in info.tasks}
            if "implement" in ready:
                return info.id
            task = next(ready[name] for name in HAPPY_PATH if name in ready)
            actor = Driver.actor_for(task)
            _, _, values = engine.get_task(session, task.id, actor, clock=clock)
            info = engine.complete_task(session, task.id, form_data(task, values), actor, clock=clock)
            session.commit()
    raise AssertionError(f"implement not reached: {sorted(ready)}")


def _fired(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).where(EventRecord.type == "timer_fired"))
        db.session.rollback()  # no snapshot kept open on PostgreSQL
        return count


def _writing(app, database_url) -> bool:
    """Whether another connection holds uncommitted writes (the worker inside a batch)."""
    if database_url.startswith("sqlite"):
        probe = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")  # WAL: only a writer holding the lock refuses this
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as error:
            assert "locked" in str(error), error
            return True
        finally:
            probe.close()
    with app.app_context():
        held = db.session.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE relation = to_regclass('instances') "
                "AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()"
            )
        )
        db.session.rollback()
        return held > 0


def _wait_until(condition, worker, log, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.poll() is None, f"the worker exited before {what}: {log.read_text()[-2000:]}"
        if condition():
            return
        time.sleep(0.0005)
    raise AssertionError(f"timed out waiting for {what}: {log.read_text()[-2000:]}")


def _instances(app, now):
    """Per instance: whether its timer fired, and what each part written by one step says."""
    with app.app_context():
        out = {}
        for record in db.session.scalars(select(InstanceRecord).order_by(InstanceRecord.id)):
            events = db.session.scalars(
                select(EventRecord).where(EventRecord.instance_id == record.id).order_by(EventRecord.seq)
            ).all()
            tasks = db.session.scalars(select(TaskRecord).where(TaskRecord.instance_id == record.id)).all()
            assigned = db.session.scalars(
                select(NotificationRecord.task_id).where(
                    NotificationRecord.instance_id == record.id, NotificationRecord.kind == "task_assigned"
                )
            ).all()
            reassessment = [t.id for t in tasks if t.element_id == "risk_reassessment"]
            out[record.id] = {
                "fired": sum(e.type == "timer_fired" for e in events),
                "tasks": sorted(t.element_id for t in tasks),
                "waiting_at": record.waiting_at,
                "timer_due_later": _utc(record.timer_due_at) > now,
                "updated_today": _utc(record.updated_at) > now - timedelta(days=1),
                "last_event_today": _utc(events[-1].at) > now - timedelta(days=1),
                "assigned_for_reassessment": sum(a in reassessment for a in assigned),
            }
        db.session.rollback()
        return out


FIRED = {
    "fired": 1,
    "tasks": ["implement", "risk_reassessment"],
    "waiting_at": "implement,risk_reassessment",
    "timer_due_later": True,
    "updated_today": True,
    "last_event_today": True,
    "assigned_for_reassessment": 1,
}
NOT_FIRED = {
    "fired": 0,
    "tasks": ["implement"],
    "waiting_at": "implement",
    "timer_due_later": False,
    "updated_today": False,
    "last_event_today": False,
    "assigned_for_reassessment": 0,
}


def test_a_worker_killed_mid_batch_loses_nothing_and_a_restarted_one_fires_each_timer_once(
    app, database_url, make_user, clock, runner, tmp_path
):
    clock.now = datetime.now(UTC) - timedelta(days=15)  # the timers fell due a day ago
    applicant = make_user("applicant", "business")
    ids = [_at_implement(app, clock, applicant) for _ in range(INSTANCES)]
    clock.now = datetime.now(UTC)  # from here on the test's own worker rounds read today, too
    before = _instances(app, clock())
    assert set(before) == set(ids) and all(v == NOT_FIRED for v in before.values()), before

    log = tmp_path / "worker.log"
    with open(log, "wb") as out:  # its own session: the SIGKILL reaches nothing else
        worker = subprocess.Popen(
            [UPGRADEFLOW, "worker", "--batch", str(BATCH), "--interval", "600"],
            env=_env(database_url),
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        _wait_until(
            lambda: BATCH <= _fired(app) <= INSTANCES - 2 * BATCH and _writing(app, database_url),
            worker,
            log,
            "a committed batch and the next one open",
        )
        os.killpg(worker.pid, signal.SIGKILL)
        assert worker.wait(timeout=30) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)

    # Whole batches only: the open one is gone without a trace, every instance is either fired
    # (event, task projection, ready list, next due time, notification) or untouched.
    after_kill = _instances(app, clock())
    fired = [i for i, v in after_kill.items() if v["fired"]]
    assert 0 < len(fired) < INSTANCES and len(fired) % BATCH == 0, after_kill
    for instance_id, seen in after_kill.items():
        assert seen == (FIRED if instance_id in fired else NOT_FIRED), (instance_id, seen)

    restarted = runner.invoke(args=["worker", "--once", "--batch", str(BATCH)])  # a new worker
    assert restarted.exit_code == 0, restarted.output
    assert restarted.output.startswith(f"timers={INSTANCES - len(fired)} "), restarted.output

    final = _instances(app, clock())
    assert final == dict.fromkeys(ids, FIRED), final
    with app.app_context():
        elements = db.session.scalars(select(EventRecord.element_id).where(EventRecord.type == "timer_fired"))
        assert sorted(elements) == ["risk_reassessment_timer"] * INSTANCES
        # No notification twice: each task announced once to each recipient, each message once.
        notes = db.session.execute(
            select(
                NotificationRecord.instance_id,
                NotificationRecord.task_id,
                NotificationRecord.kind,
                NotificationRecord.recipient,
                NotificationRecord.text,
            )
        ).all()
        assert len(notes) > INSTANCES and len(notes) == len(set(notes)), notes
        counts = run_once(BATCH)  # one more round finds nothing left to do
        db.session.rollback()
    assert counts == {"timers": 0, "escalated": 0, "mailed": 0}

    verify = runner.invoke(args=["verify"])  # every instance's state replays from its log
    assert verify.exit_code == 0, verify.output
    assert verify.output.strip().splitlines()[-1] == "0 instance(s) differ from their replay"


def test_the_worker_refuses_a_batch_that_is_not_a_positive_number(app, runner):
    for batch in ("0", "-1", "many"):
        result = runner.invoke(args=["worker", "--once", "--batch", batch])
        assert result.exit_code == 2 and "'--batch'" in result.output, result.output
    with app.app_context():
        assert not db.session.scalar(select(func.count()).select_from(NotificationRecord))

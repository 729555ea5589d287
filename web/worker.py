"""`upgradeflow worker`: due timers, task due dates, and the e-mail of the notification outbox.

Each batch (`--batch`, 20 instances) is its own transaction, committed before the next: a worker
killed mid-batch (kill -9) leaves that batch uncommitted and the next round of any worker fires
it (tests/web/test_worker_kill.py). Any number of workers may run:
- timers: on PostgreSQL the due instance rows are claimed FOR UPDATE SKIP LOCKED; on SQLite (one
  writer at a time) two workers may pick the same instance, and the optimistic lock on the
  instance row lets exactly one firing commit — the other's batch raises `InstanceChanged`, is
  rolled back and picks up what is left in the next round. Either way each timer fires once;
- escalations (due soon, overdue) carry a unique key, so each is recorded once per task;
- e-mails are claimed row by row (`engine.claim_unsent`, a lease), sent after that commit, and
  marked sent (or failed, or undeliverable) in the next: delivered at least once, since a worker
  killed between the send and that mark leaves a lease that runs out and is claimed again.
A timer that fell due while no worker ran is simply due: the first round of any worker fires it.
"""

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

import engine

from . import mail
from .database import not_set_up
from .extensions import db
from .extensions import engine_clock as clock

BATCH = 20


class DatabaseUnavailable(Exception):
    """The round could not reach the database (down, refusing, the network cut)."""


def _busy(error: OperationalError) -> bool:
    # SQLite's one writer at a time: another process holds the lock (the busy timeout ran out).
    return "database is locked" in str(error.orig)


def _one_line(message: str) -> str:
    # psycopg's reason comes in two lines (what failed, then "\tIs the server running …?"): the
    # log and stderr say each round in one line, which one grep finds whole.
    return "; ".join(line.strip() for line in message.splitlines() if line.strip())


def _batch(call):
    try:
        result = call()
        db.session.commit()
        return result
    except (engine.InstanceChanged, OperationalError) as error:
        db.session.rollback()
        if isinstance(error, OperationalError) and not_set_up(error):
            raise  # SQLite's missing table: the command says to upgrade the database (exit 3)
        if isinstance(error, OperationalError) and not _busy(error):
            raise DatabaseUnavailable(_one_line(str(error.orig)) or type(error.orig).__name__) from None
        # Another worker got there first (or SQLite stayed busy): nothing of this batch is kept.
        current_app.logger.info("worker batch retried next round: %s", error)
        return 0


def run_once(batch=BATCH) -> dict:
    """One round: fire due timers (`batch` instances per transaction), escalate due tasks, e-mail
    the outbox. Returns the counts."""
    counts = {"timers": 0, "escalated": 0, "mailed": 0}
    for _ in range(1000):  # bounded: at most 1000 batches of due timers per round
        try:
            moved = _batch(lambda: engine.fire_due_timers(db.session, clock=clock(), limit=batch))
        except engine.TimerFailed as failure:  # one instance's step failed part-way
            db.session.rollback()
            _batch(lambda failure=failure: engine.timer_incident(db.session, failure, clock=clock()))
            continue  # the batch again, without it
        counts["timers"] += moved
        if moved < batch:
            break
    counts["escalated"] = _batch(lambda: engine.escalate_due_tasks(db.session, clock=clock()))
    if mail.configured():
        for _ in range(1000):
            outgoing = _batch(lambda: engine.claim_unsent(db.session, clock=clock(), limit=BATCH)) or []
            if not outgoing:
                break
            outcome = mail.send(outgoing)  # after the claim's commit: a rolled-back step sends nothing
            _batch(lambda outcome=outcome: _record(outcome))
            counts["mailed"] += len(outcome.sent)
            if outcome.unsent or outcome.failed:
                break  # the server is struggling: the next round tries again
    return counts


def _record(outcome: mail.Outcome):
    engine.mark_sent(db.session, outcome.sent, clock=clock())
    engine.mark_partly_sent(db.session, outcome.partly)
    engine.release_unsent(db.session, outcome.unsent)
    engine.mark_failed(db.session, outcome.failed)
    engine.mark_undeliverable(db.session, outcome.refused)


def _a_number(param, value):
    if value != value:  # NaN passes every range comparison
        raise click.BadParameter("nan is not a number of seconds", param=param)
    return value


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one round and exit.")
@click.option(
    "--interval",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.1, max=86400),
    callback=lambda ctx, param, value: _a_number(param, value),
    help="Seconds between rounds (0.1 to 86400).",
)
@click.option(
    "--batch",
    default=BATCH,
    show_default=True,
    type=click.IntRange(min=1, max=10_000),
    help="Instances whose due timers fire in one transaction (1 to 10000).",
)
@with_appcontext
def worker_command(once, interval, batch):
    """Fire due timers, escalate due tasks and e-mail notifications, every INTERVAL seconds.

    While the database cannot be reached, each round says so on stderr (and in the log) and the
    next round tries again; `--once` then exits with status 3."""
    while True:
        try:
            counts = run_once(batch)
        except DatabaseUnavailable as error:
            current_app.logger.warning("worker round skipped, database unavailable: %s", error)
            click.echo(f"database unavailable, nothing done this round: {error}", err=True)
            if once:
                raise SystemExit(3) from None
        else:
            click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
            if once:
                return
        time.sleep(interval)

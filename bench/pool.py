"""How long the requirement pool takes to derive on read (issue 9), against a projection's read.

    .venv/bin/python bench/pool.py [instances ...]      (default: 500 5000)

Four instances are moved through the real diagrams (accepted and analysed, returned, rejected,
at implementation); their instance rows and event logs are then copied until the database
holds N instances. The pool is read through `engine.requirement_pool` (two queries and a fold
over the events); the lower bound of a projection's read is one SELECT of N narrow rows.
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "processes"))

from harness import DEFAULTS, HAPPY_PATH, REQUEST

import engine
from engine.models import EventRecord, InstanceRecord
from web import create_app
from web.extensions import db

IT = engine.Actor("it_bench", frozenset({"it"}))


def _complete(session, instance_id, name, clock, **overrides):
    [task] = [t for t in engine.get_instance(session, instance_id, clock=clock).tasks if t.name == name]
    actor = engine.Actor(task.assignee or "bench", frozenset(task.groups))
    _, _, values = engine.get_task(session, task.id, actor, clock=clock)
    default = DEFAULTS.get(task.form, {})
    data = default(values) if callable(default) else dict(default)
    engine.complete_task(session, task.id, {**data, **overrides}, actor, clock=clock)


def _walk(session, instance_id, target, clock):
    while True:
        ready = [t.name for t in engine.get_instance(session, instance_id, clock=clock).tasks]
        if target in ready:
            return
        _complete(session, instance_id, next(s for s in HAPPY_PATH if s in ready), clock)


def _templates(session, clock) -> list[int]:
    business = engine.Actor("business_bench", frozenset({"business"}))
    ids = [
        engine.start_instance(session, "software_upgrade", REQUEST, business, clock=clock).id
        for _ in range(4)
    ]
    analysed, returned, rejected, implementing = ids
    _walk(session, analysed, "initiation_application", clock)
    _complete(session, returned, "preliminary_review", clock, decision="return", comment="補充背景")
    _complete(session, rejected, "preliminary_review", clock, decision="reject", comment="不符合規劃")
    _walk(session, implementing, "implement", clock)
    return ids


def _copy(session, template_ids, total):
    rows = {
        r.id: r for r in session.scalars(select(InstanceRecord).where(InstanceRecord.id.in_(template_ids)))
    }
    events = {i: list(session.scalars(select(EventRecord).where(EventRecord.instance_id == i))) for i in rows}
    columns = [c.key for c in InstanceRecord.__table__.columns if c.key != "id"]
    event_columns = [c.key for c in EventRecord.__table__.columns if c.key not in ("seq", "instance_id")]
    existing = len(rows)
    while existing < total:
        template = rows[template_ids[existing % len(template_ids)]]
        new_id = session.execute(
            insert(InstanceRecord)
            .values({c: getattr(template, c) for c in columns})
            .returning(InstanceRecord.id)
        ).scalar_one()
        session.execute(
            insert(EventRecord),
            [
                {"instance_id": new_id, **{c: getattr(e, c) for c in event_columns}}
                for e in events[template.id]
            ],
        )
        existing += 1
    session.commit()


def _time(call, rounds=7) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(sizes):
    clock = engine.ManualClock()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            engine.deploy(db.session, engine.bundle_files("processes", "forms"), deployed_by="bench")
            templates = _templates(db.session, clock)
            db.session.commit()
            print(
                f"{'instances':>10} {'in pool':>8} {'derived (ms)':>13} {'declined (ms)':>14} {'projection read (ms)':>21}"
            )
            for size in sizes:
                _copy(db.session, templates, size)
                pool = engine.requirement_pool(db.session, IT)
                derived = _time(lambda: engine.requirement_pool(db.session, IT))
                declined = _time(lambda: engine.review_outcomes(db.session, IT))
                narrow = select(InstanceRecord.id, InstanceRecord.title, InstanceRecord.waiting_at)
                projection = _time(lambda q=narrow: db.session.execute(q).all())
                print(f"{size:>10} {len(pool):>8} {derived:>13.1f} {declined:>14.1f} {projection:>21.1f}")
                db.session.expire_all()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [500, 5000])

"""4. Cost growth: completion time and stored state size at rounds 1, 10, 100 and 300 of the
rectification loop (joint_test fails, rectify, joint_test again), through the engine's services
on the database (load, restore, step, dump, save: what a request does, without HTTP)."""

import json
import statistics
import time

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

import engine
from engine.models import InstanceRecord

from .client import DEFAULTS, HAPPY_PATH, REQUEST
from .setup import app_engine
from .stats import ms

CHECKPOINTS = (1, 10, 100, 300)


class Steps:
    def __init__(self, url):
        self.bind = app_engine(url)
        self.Session = sessionmaker(self.bind, expire_on_commit=False)
        self.clock = engine.ManualClock()

    def start(self) -> int:
        with self.Session.begin() as session:
            actor = engine.Actor("business1", frozenset({"business"}))
            return engine.start_instance(session, "software_upgrade", REQUEST, actor, clock=self.clock).id

    def ready(self, instance_id) -> dict:
        with self.Session() as session:
            return {t.name: t for t in engine.get_instance(session, instance_id, clock=self.clock).tasks}

    def complete(self, instance_id, name, **overrides) -> float:
        """Complete the ready task `name`; returns the seconds of the completing transaction."""
        task = self.ready(instance_id)[name]
        actor = engine.Actor(task.assignee or f"{task.group}1", frozenset(task.groups))
        with self.Session() as session:
            _, _, values = engine.get_task(session, task.id, actor, clock=self.clock)
        default = DEFAULTS.get(task.form, {})
        data = {**(default(values) if callable(default) else dict(default)), **overrides}
        began = time.perf_counter()
        with self.Session.begin() as session:
            engine.complete_task(session, task.id, data, actor, clock=self.clock)
        return time.perf_counter() - began

    def state_bytes(self, instance_id) -> int:
        with self.Session() as session:
            state = session.scalar(select(InstanceRecord.state).where(InstanceRecord.id == instance_id))
        return len(json.dumps(state).encode())

    def close(self):
        self.bind.dispose()


def growth(url, rounds=300, window=5) -> list[dict]:
    """One row per checkpoint ≤ rounds: {round, complete_ms, state_kb}. complete_ms is the median
    completion (joint_test or rectify) over rounds checkpoint … checkpoint + window - 1, so one
    slow step on a busy machine does not make the figure."""
    steps = Steps(url)
    checkpoints = [c for c in CHECKPOINTS if c <= rounds]
    try:
        instance_id = steps.start()
        for name in HAPPY_PATH[: HAPPY_PATH.index("joint_test")]:
            if name in steps.ready(instance_id):
                steps.complete(instance_id, name)
        times, sizes = {}, {}
        for round_ in range(1, max(checkpoints) + window):
            times[round_] = [
                steps.complete(instance_id, "joint_test", decision="fail"),
                steps.complete(instance_id, "rectify"),
            ]
            if round_ in checkpoints:
                sizes[round_] = steps.state_bytes(instance_id)
        return [
            {
                "round": c,
                "complete_ms": ms(statistics.median(t for r in range(c, c + window) for t in times[r])),
                "state_kb": round(sizes[c] / 1024, 1),
            }
            for c in checkpoints
        ]
    finally:
        steps.close()

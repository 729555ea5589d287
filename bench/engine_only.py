"""2. The same completion in memory by SpiffWorkflow alone (engine.Instance: no database, no
HTTP): the happy path's completions, timed one by one."""

import time

import engine

from .client import DEFAULTS, HAPPY_PATH, REQUEST
from .stats import summary


def _actor(task):
    return engine.Actor(task.assignee or f"{task.groups[0]}1", frozenset(task.groups))


def completions(procedures=5) -> dict:
    definition = engine.load_bundle("processes", "forms").definitions["software_upgrade"]
    clock = engine.ManualClock()
    samples = []
    for _ in range(procedures):
        instance, _ = engine.Instance.start(
            definition, REQUEST, engine.Actor("business1", frozenset({"business"})), clock
        )
        for _ in range(len(HAPPY_PATH) + 5):
            ready = {t.element_id: t for t in instance.ready_tasks()}
            name = next((n for n in HAPPY_PATH if n in ready), None)
            if name is None:
                break
            task = ready[name]
            _, values = instance.form_for(task.id)
            default = DEFAULTS.get(task.form, {})
            data = default(values) if callable(default) else dict(default)
            began = time.perf_counter()
            instance.complete_task(task.id, data, _actor(task))
            samples.append(time.perf_counter() - began)
    return summary(samples)

"""Real processes: `upgradeflow serve` (gunicorn, two workers) over the test's database, raced
and killed with SIGKILL under load. Loopback only; every wait is bounded."""

import http.client
import threading
import time

import pytest
from server import Server
from sqlalchemy import func, select

import engine
from bench.client import Api, complete, next_task, start, walk
from engine.admin import verify_instances
from engine.models import EventRecord
from web.extensions import db

GROUPS = ("business", "it", "finance", "management", "vendor", "qa")
ADMIN = engine.Actor("admin", frozenset(), is_admin=True)


@pytest.fixture
def server(app, database_url, tmp_path):
    server = Server(database_url, tmp_path / "serve.log").start()
    yield server
    server.kill()


@pytest.fixture
def callers(server, people):
    return {group: Api(server.port, people[group].token) for group in GROUPS}


def at_once(calls):
    """Run the callables together on threads; returns their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def completions(app) -> dict:
    with app.app_context():
        rows = db.session.execute(
            select(EventRecord.task_id, func.count())
            .where(EventRecord.type == "task_completed")
            .group_by(EventRecord.task_id)
        ).all()
    return dict(rows)


def test_two_gunicorn_workers_race_one_task_and_two_branches(app, server, people, callers):
    instance_id = start(callers["business"])
    task = next_task(callers["business"], instance_id)
    it2 = {**callers, "it": Api(server.port, people["it2"].token)}
    statuses = at_once([lambda: complete(callers, task)[0], lambda: complete(it2, task)[0]])
    assert sorted(statuses) == [200, 409]
    assert completions(app) == {task["id"]: 1}

    walk(callers, instance_id, steps=5)  # requirement_analysis … initiation_application
    ready = {t["name"] for t in callers["business"].call("GET", f"/instances/{instance_id}")[1]["tasks"]}
    assert ready == {"budget_audit", "initiation_review"}
    tasks = callers["business"].call("GET", f"/instances/{instance_id}")[1]["tasks"]
    finance = {**callers, "finance": Api(server.port, people["finance"].token)}
    statuses = at_once(
        [lambda t=t, c=c: complete(c, t)[0] for t, c in zip(tasks, (callers, finance), strict=True)]
    )
    assert statuses == [200, 200]
    done = completions(app)
    assert all(done[t["id"]] == 1 for t in tasks)


def test_kill_9_under_load_keeps_every_acknowledged_completion(app, server, callers):
    instances = [start(callers["business"]) for _ in range(4)]
    acknowledged, failed = [], []
    enough = threading.Event()
    stop = threading.Event()

    def drive():
        deadline = time.monotonic() + 180  # bounded
        while not stop.is_set() and time.monotonic() < deadline:
            for instance_id in instances:
                try:
                    task = next_task(callers["business"], instance_id)
                    if task is None:
                        continue
                    status, _ = complete(callers, task)
                except (OSError, http.client.HTTPException, AssertionError):
                    failed.append(instance_id)  # the server is down: nothing to count
                    stop.wait(0.1)
                    continue
                if 200 <= status < 300:
                    acknowledged.append(task["id"])
                if len(acknowledged) >= 8:
                    enough.set()

    driver = threading.Thread(target=drive)
    driver.start()
    assert enough.wait(timeout=120), "the server completed too few tasks"
    server.kill()  # SIGKILL to gunicorn and its workers, requests in flight
    before_restart = len(acknowledged)
    server.start()
    enough.clear()
    for _ in range(200):  # wait (bounded) for completions after the restart
        if len(acknowledged) >= before_restart + 8 or not driver.is_alive():
            break
        driver.join(timeout=0.5)
    stop.set()
    driver.join(timeout=120)
    assert len(acknowledged) >= before_restart + 1, "no completion after the restart"

    done = completions(app)
    missing = [task_id for task_id in acknowledged if done.get(task_id) != 1]
    assert missing == []
    with app.app_context():
        assert verify_instances(db.session, ADMIN) == []

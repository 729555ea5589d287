"""3. The inbox and the instance list over many instances and events, seeded with bulk inserts
(not through the engine: a year of work in seconds). 10% of the instances are running, each
waiting at one task of one group; every instance has `events_per` events."""

import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import Session

import engine
from engine.models import EventRecord, InstanceRecord, ProcessVersionRecord, TaskRecord

from .setup import GROUPS, app_engine
from .stats import summary

CHUNK = 10_000


def seed(url, instances, events_per=10) -> float:
    """Bulk-insert the rows; returns the seconds it took."""
    bind = create_engine(url)
    rng = random.Random(7)
    began = time.perf_counter()
    with Session(bind) as session:
        version_id = session.scalar(
            select(ProcessVersionRecord.id).where(ProcessVersionRecord.process_id == "software_upgrade")
        )
        start = datetime(2025, 1, 1, tzinfo=UTC)
        first = (
            session.scalar(select(InstanceRecord.id).order_by(InstanceRecord.id.desc()).limit(1)) or 0
        ) + 1
        for offset in range(0, instances, CHUNK):
            ids = range(first + offset, first + min(offset + CHUNK, instances))
            rows, tasks, events = [], [], []
            for i in ids:
                at = start + timedelta(minutes=i)
                running = i % 10 == 0
                rows.append(
                    {
                        "id": i,
                        "process_version_id": version_id,
                        "process_id": "software_upgrade",
                        "title": f"升級 #{i}",
                        "status": "running" if running else "completed",
                        "initiator": f"user{i % 500}",
                        "state": {},
                        "state_format": 1,
                        "waiting_at": "preliminary_review" if running else None,
                        "created_at": at,
                        "updated_at": at,
                        "ended_at": None if running else at,
                        "version_id": 1,
                    }
                )
                if running:
                    group = rng.choice(GROUPS)
                    tasks.append(
                        {
                            "id": str(uuid.UUID(int=rng.getrandbits(128))),
                            "instance_id": i,
                            "element_id": "preliminary_review",
                            "title": "需求初審",
                            "group_id": group,
                            "groups": [group],
                            "users": [],
                            "created_at": at,
                        }
                    )
                events += [
                    {"instance_id": i, "type": "task_completed", "element_id": "x", "at": at, "data": None}
                    for _ in range(events_per)
                ]
            session.execute(insert(InstanceRecord), rows)
            if tasks:
                session.execute(insert(TaskRecord), tasks)
            if events:
                session.execute(insert(EventRecord), events)
            session.commit()
    bind.dispose()
    return time.perf_counter() - began


def queries(url, samples=30) -> dict:
    """p50/p99 (ms) of an IT member's inbox (all of it, its first 50 as the inbox page lists
    them, and its count), the first page of all instances, and one user's running requests."""
    bind = app_engine(url)
    actor = engine.Actor("it1", frozenset({"it"}))
    calls = {
        "inbox, all tasks": lambda s: engine.list_tasks(s, actor),
        "inbox, first 50": lambda s: engine.list_tasks(s, actor, limit=50),
        "inbox count (the badge on every page)": lambda s: engine.count_tasks(s, actor),
        "instances page 1": lambda s: engine.list_instances(s, page=1, per_page=50),
        "my running requests": lambda s: engine.list_instances(
            s, initiator="user7", status="running", per_page=10
        ),
    }
    results = {}
    with Session(bind) as session:
        for name, call in calls.items():
            call(session)  # warm the caches once
            times, size = [], 0
            for _ in range(samples):
                began = time.perf_counter()
                found = call(session)
                times.append(time.perf_counter() - began)
                size = (
                    found
                    if isinstance(found, int)
                    else len(found)
                    if isinstance(found, list)
                    else found.total
                )
            results[name] = {**summary(times), "rows": size}
    bind.dispose()
    return results

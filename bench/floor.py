"""2. The floor under the API/engine ratio: what one step costs here with no workflow in it at all.

A bare Flask app under gunicorn (one worker, as `upgradeflow serve` runs it), on an engine set up
as the app's own (`web.database.configure`: SQLite's WAL and `synchronous=NORMAL`, psycopg's
connection checks), answers `POST /step/<id>` by reading a token's user, reading and locking
the instance row, writing a real instance state (the procedure half-way, as `upgradeflow` stores
it) with its optimistic version, appending one event, and committing: the statements and the
commit every completion needs, with no engine, no forms, no task rows and no answer beyond a line.

The ratio of a completion can be no better than (floor + engine) / engine, whatever the app does."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, jsonify, request

from .api import _free_port
from .client import API, Api
from .stats import summary

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
_ROWS = sa.MetaData()
USERS = sa.Table(
    "floor_users", _ROWS, sa.Column("token", sa.String(64), primary_key=True), sa.Column("name", sa.Text)
)
INSTANCES = sa.Table(
    "floor_instances",
    _ROWS,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("state", sa.JSON),
    sa.Column("version_id", sa.Integer, nullable=False),
)
EVENTS = sa.Table(
    "floor_events",
    _ROWS,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("instance_id", sa.Integer),
    sa.Column("data", sa.JSON),
)
TOKEN = "floor-token"


def half_way_state() -> dict:
    """An instance's stored state half-way along the happy path (twelve completions in)."""
    import engine

    from .client import DEFAULTS, HAPPY_PATH, REQUEST

    definition = engine.load_bundle("processes", "forms").definitions["software_upgrade"]
    instance, _ = engine.Instance.start(
        definition, REQUEST, engine.Actor("business1", frozenset({"business"})), engine.ManualClock()
    )
    for _ in range(12):
        ready = {t.element_id: t for t in instance.ready_tasks()}
        task = ready[next(n for n in HAPPY_PATH if n in ready)]
        _, values = instance.form_for(task.id)
        default = DEFAULTS.get(task.form, {})
        data = default(values) if callable(default) else dict(default)
        actor = engine.Actor(task.assignee or f"{task.groups[0]}1", frozenset(task.groups))
        instance.complete_task(task.id, data, actor)
    return instance.dump()


def create_app():
    """The floor's WSGI app over FLOOR_DATABASE_URL (gunicorn: `bench.floor:create_app()`)."""
    from web import jsontext
    from web.database import configure, engine_options

    url = os.environ["FLOOR_DATABASE_URL"]
    bind = sa.create_engine(
        url, json_serializer=jsontext.dumps, json_deserializer=jsontext.loads, **engine_options(url)
    )
    configure(bind)
    with bind.connect() as connection:
        state = connection.execute(sa.select(INSTANCES.c.state).where(INSTANCES.c.id == 0)).scalar_one()
    app = Flask(__name__)

    @app.post(API + "/step/<int:instance_id>")  # where the client calls (bench.client.Api)
    def step(instance_id):
        body = request.get_json()
        token = request.headers.get("Authorization", "").partition(" ")[2]
        with bind.begin() as connection:
            if connection.execute(sa.select(USERS.c.name).where(USERS.c.token == token)).first() is None:
                return jsonify(error="no such token"), 401
            row = INSTANCES.c
            seen = connection.execute(
                sa.select(row.version_id).where(row.id == instance_id).with_for_update()
            ).scalar_one()
            written = connection.execute(
                INSTANCES.update()
                .where(row.id == instance_id, row.version_id == seen)
                .values(state=state, version_id=seen + 1)
            ).rowcount
            assert written == 1
            connection.execute(EVENTS.insert(), {"instance_id": instance_id, "data": body})
        return jsonify(id=instance_id, version=seen + 1)

    return app


def floor(url, samples=200) -> dict:
    """p50/p99 of `POST /step/1` through gunicorn (one worker), after 20 not counted."""
    bind = sa.create_engine(url)
    _ROWS.create_all(bind)
    with bind.begin() as connection:
        connection.execute(USERS.insert(), {"token": TOKEN, "name": "business1"})
        state = half_way_state()
        connection.execute(INSTANCES.insert(), [{"id": 0, "state": state, "version_id": 0},
                                                {"id": 1, "state": state, "version_id": 0}])  # fmt: skip
    bind.dispose()
    port = _free_port()
    env = {**os.environ, "FLOOR_DATABASE_URL": url}
    command = [GUNICORN, "--workers", "1", "--bind", f"127.0.0.1:{port}", "bench.floor:create_app()"]
    server = subprocess.Popen(
        command, env=env, cwd=Path(__file__).parents[1], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        api = Api(port, TOKEN)
        latencies = []
        for _ in range(300):  # until it answers
            try:
                api.call("POST", "/step/1", {"data": {"ok": True}})
                break
            except OSError:
                time.sleep(0.1)
        for n in range(samples + 20):
            began = time.perf_counter()
            status, body = api.call("POST", "/step/1", {"data": {"ok": True, "n": n}})
            elapsed = time.perf_counter() - began
            assert status == 200, body
            if n >= 20:
                latencies.append(elapsed)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    from web import jsontext

    return {**summary(latencies), "state_kb": round(len(jsontext.dumps(state).encode()) / 1024, 1)}

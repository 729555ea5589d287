"""Drive a running Upgradeflow server (`upgradeflow serve`) through its REST API, as people would.

`Api` is one user's keep-alive connection; `walk` takes one instance along the happy path
(tests/processes/harness.py's data), each step opened (`GET /tasks/<id>`) and completed by a
member of the task's group, the next step read from the completion's answer. Shared by the
app-server tests (tests/web/test_serve.py) and the benchmarks.
"""

import http.client
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "processes"))
from harness import DEFAULTS, HAPPY_PATH, REQUEST  # found through the path above

API = "/api/v1"
STEPS = len(HAPPY_PATH) + 5  # a walk never loops forever


class Api:
    """One user's calls over one keep-alive HTTP connection to 127.0.0.1:`port`."""

    def __init__(self, port, token, timeout=30):
        self.port = port
        self.token = token
        self.timeout = timeout
        self.connection = None

    def call(self, method, path, body=None) -> tuple[int, dict | list | None]:
        """(status, JSON body). Raises OSError / http.client.HTTPException when the server is gone."""
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        try:
            self.connection.request(
                method, API + path, json.dumps(body) if body is not None else None, headers
            )
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        return response.status, (json.loads(payload) if payload else None)

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def token(port, username, password) -> str:
    status, body = Api(port, "").call("POST", "/auth/token", {"username": username, "password": password})
    assert status == 200, body
    return body["token"]


def form_data(task, values) -> dict:
    default = DEFAULTS.get(task["form"], {})
    return default(values) if callable(default) else dict(default)


def start(api: Api, **request) -> int:
    status, body = api.call("POST", "/processes/software_upgrade/instances", {"data": {**REQUEST, **request}})
    assert status == 201, body
    return body["id"]


def next_task(api: Api, instance_id):
    """The first ready task on the happy path, or None when there is none."""
    status, instance = api.call("GET", f"/instances/{instance_id}")
    assert status == 200, instance
    return on_the_path(instance["tasks"])


def on_the_path(tasks):
    """The first of these ready tasks (as the API lists them) on the happy path, or None."""
    ready = {t["name"]: t for t in tasks}
    return next((ready[name] for name in HAPPY_PATH if name in ready), None)


def complete(callers: dict, task) -> tuple[int, float]:
    """Open and complete `task` as a member of its group. Returns (status, seconds of the POST)."""
    status, seconds, _ = _open_and_complete(callers, task)
    return status, seconds


def _open_and_complete(callers: dict, task):
    api = callers[task["group"]]
    status, opened = api.call("GET", f"/tasks/{task['id']}")
    if status != 200:
        return status, 0.0, None
    began = time.perf_counter()
    status, after = api.call(
        "POST", f"/tasks/{task['id']}/complete", {"data": form_data(task, opened["data"])}
    )
    return status, time.perf_counter() - began, after


def walk(callers: dict, instance_id, steps=STEPS, record=None):
    """Complete up to `steps` happy-path tasks of the instance, as a client would: open the task's
    form, submit it, and take the next task from the instance the completion returns (asking for
    the instance only when a completion failed). `record(task, status, seconds)` is called after
    each completion. Returns how many completed with a 2xx."""
    done = 0
    ready = None  # the ready tasks as the last completion returned them
    for _ in range(steps):
        task = on_the_path(ready) if ready is not None else next_task(callers["business"], instance_id)
        if task is None:
            break
        status, seconds, after = _open_and_complete(callers, task)
        if record is not None:
            record(task, status, seconds)
        done += 200 <= status < 300
        ready = after["tasks"] if 200 <= status < 300 and after else None
    return done

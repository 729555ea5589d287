"""2. Where one completion's time goes: the REST API's completion in process (Flask's test
client, no HTTP, no gunicorn), split into the engine's step (SpiffWorkflow and the forms), the
save (state, row, task rows, log, outbox, documents) and the commit; the rest is the request
around them (token, parsing, loading the row, the answer)."""

import time
from contextlib import ExitStack
from unittest import mock

from sqlalchemy.orm import Session

import engine.workflows
from engine.instances import Instance

from .client import API, HAPPY_PATH, REQUEST, form_data, on_the_path
from .stats import summary

PARTS = {
    "step": (Instance, "complete_task"),
    "save": (engine.workflows, "_save"),
    "state": (Instance, "dump"),
    "commit": (Session, "commit"),
}


def _timed(samples, owner, name):
    original = getattr(owner, name)

    def timed(*args, **kwargs):
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            samples.append(time.perf_counter() - began)

    return mock.patch.object(owner, name, timed)


def completion_parts(app, tokens, procedures=3) -> dict:
    """{"request": summary, part: summary, ...} over the happy path's completions, the first
    procedure not counted (it loads the definitions)."""
    client = app.test_client()

    def call(group, method, path, body=None):
        headers = {"Authorization": f"Bearer {tokens[group]}"}
        response = client.open(API + path, method=method, json=body, headers=headers)
        return response.status_code, response.get_json()

    requests, parts = [], {name: [] for name in PARTS}
    for round_ in range(procedures + 1):
        status, body = call("business", "POST", "/processes/software_upgrade/instances", {"data": REQUEST})
        assert status == 201, body
        ready = call("business", "GET", f"/instances/{body['id']}")[1]["tasks"]
        for _ in range(len(HAPPY_PATH) + 5):
            task = on_the_path(ready)
            if task is None:
                break
            status, opened = call(task["group"], "GET", f"/tasks/{task['id']}")
            data = {"data": form_data(task, opened["data"])}
            seen = {name: [] for name in PARTS}
            with ExitStack() as patches:
                for name, (owner, attribute) in PARTS.items():
                    patches.enter_context(_timed(seen[name], owner, attribute))
                began = time.perf_counter()
                status, after = call(task["group"], "POST", f"/tasks/{task['id']}/complete", data)
                elapsed = time.perf_counter() - began
            assert status == 200, after
            if round_ > 0:
                requests.append(elapsed)
                for name, samples in seen.items():
                    parts[name].append(sum(samples))
            ready = after["tasks"]
    return {"request": summary(requests), **{name: summary(s) for name, s in parts.items()}}

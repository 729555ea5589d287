"""Helpers of the API tests: callers with their bearer tokens, users made on first use, and a
driver that moves instances along with engine calls (to reach a task quickly).

Valid form data comes from the process tests' harness (`tests/processes/harness.py`), so the API
tests submit exactly what the diagram tests do.
"""

import sys
from pathlib import Path

import engine
from web.extensions import db

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "processes"))
from harness import DEFAULTS, HAPPY_PATH, REQUEST  # found through the path above

API = "/api/v1"
MESSAGES = {
    "change_request": {"reason": "需增加電子簽章功能。", "scope_change": "增加電子簽章模塊。"},
    "cost_overrun": {},  # sent by the engine when a recorded cost crosses the threshold (finance)
    "support_request": {"problem": "移動端審批頁面偶爾無法載入附件。", "severity": "medium"},
}
GROUPS = ("business", "it", "finance", "management", "vendor", "qa")


def form_data(task, values, **overrides):
    """Valid data for `task` (a task dict or TaskInfo) given the values its form opens with."""
    form = task["form"] if isinstance(task, dict) else task.form
    default = DEFAULTS.get(form, {})
    data = default(values) if callable(default) else dict(default)
    return {**data, **overrides}


class Caller:
    """The API as one user sees it: every call carries the user's bearer token."""

    def __init__(self, client, user, token):
        self.client = client
        self.user = user
        self.token = token

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path, **query):
        return self.client.get(API + path, headers=self.headers, query_string=query)

    def post(self, path, body=None):
        return self.client.post(API + path, headers=self.headers, json=body)

    def patch(self, path, body=None):
        return self.client.patch(API + path, headers=self.headers, json=body)

    def delete(self, path):
        return self.client.delete(API + path, headers=self.headers)

    def start(self, **request):
        response = self.post("/processes/software_upgrade/instances", {"data": {**REQUEST, **request}})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def task(self, instance_id, name):
        """The one ready task `name` of the instance, as the instance lists it."""
        instance = self.get(f"/instances/{instance_id}").get_json()
        tasks = [t for t in instance["tasks"] if t["name"] == name]
        assert len(tasks) == 1, f"expected one ready {name}, ready: {[t['name'] for t in instance['tasks']]}"
        return tasks[0]

    def submit(self, task_id, data):
        return self.post(f"/tasks/{task_id}/complete", {"data": data})

    def complete(self, instance_id, name, **overrides):
        """Open the task's form as this user, submit valid data; returns the response."""
        task = self.task(instance_id, name)
        opened = self.get(f"/tasks/{task['id']}")
        assert opened.status_code == 200, opened.get_json()
        data = form_data(task, opened.get_json()["data"], **overrides)
        return self.submit(task["id"], data)


class People:
    """Users made on first use, each with a token: `people["it"]` is `it1`, a member of `it`;
    `people["it2"]` another member; `people["admin"]` an administrator in no group."""

    def __init__(self, make_user, token_for, client):
        self._make_user = make_user
        self._token_for = token_for
        self._client = client
        self._callers = {}

    def __getitem__(self, name) -> Caller:
        if name not in self._callers:
            group = name.rstrip("0123456789")  # "it2" is a second member of `it`
            username = name if name != group else f"{name}1"
            groups = () if group == "admin" else (group,)
            user = self._make_user(username, *groups, admin=group == "admin")
            self._callers[name] = Caller(self._client, user, self._token_for(user))
        return self._callers[name]


class Driver:
    """Moves instances along with engine calls (no HTTP), committing after each step."""

    def __init__(self, app, clock):
        self.app = app
        self.clock = clock

    def _run(self, call):
        with self.app.app_context():
            result = call(db.session)
            db.session.commit()
            return result

    def start(self, initiator: engine.User, **request) -> int:
        data = {**REQUEST, **request}
        return self._run(
            lambda s: engine.start_instance(s, "software_upgrade", data, initiator.actor, clock=self.clock)
        ).id

    def ready(self, instance_id) -> list:
        return self._run(lambda s: engine.get_instance(s, instance_id, clock=self.clock).tasks)

    def task(self, instance_id, name):
        tasks = [t for t in self.ready(instance_id) if t.name == name]
        assert len(tasks) == 1, (
            f"expected one ready {name}, ready: {[t.name for t in self.ready(instance_id)]}"
        )
        return tasks[0]

    @staticmethod
    def actor_for(task) -> engine.Actor:
        if task.assignee:
            return engine.Actor(task.assignee, frozenset(task.groups))
        return engine.Actor(f"{task.group}_driver", frozenset({task.group}))

    def complete(self, instance_id, name, **overrides):
        task = self.task(instance_id, name)
        actor = self.actor_for(task)

        def step(session):
            _, _, values = engine.get_task(session, task.id, actor, clock=self.clock)
            data = form_data(task, values, **overrides)
            return engine.complete_task(session, task.id, data, actor, clock=self.clock)

        return self._run(step)

    def send(self, instance_id, message, group="it", **payload):
        actor = engine.Actor(f"{group}_driver", frozenset({group}))
        data = {**MESSAGES[message], **payload}
        return self._run(
            lambda s: engine.send_message(s, instance_id, message, data, actor, clock=self.clock)
        )

    def wait(self, days) -> int:
        """Move the clock and fire the timers due by then. Returns how many instances moved."""
        self.clock.advance(days=days)
        return self._run(lambda s: engine.fire_due_timers(s, clock=self.clock))

    def walk(self, instance_id, target):
        """Complete the happy path's steps, with default data, until `target` is ready."""
        for _ in range(len(HAPPY_PATH) + 5):
            ready = [t.name for t in self.ready(instance_id)]
            if target in ready:
                return
            step = next((s for s in HAPPY_PATH if s in ready), None)
            assert step is not None, f"{target} not reached, ready: {ready}"
            self.complete(instance_id, step)
        raise AssertionError(f"{target} not reached")

    # How to reach the tasks off the happy path, after walking to the first element named.
    DETOURS = {  # noqa: RUF012 - a table read by `reach`, never changed
        "revise_request": (
            "preliminary_review",
            [("complete", "preliminary_review", {"decision": "return"})],
        ),
        "change_review": ("implement", [("send", "change_request", {})]),
        "change_approval": (
            "implement",
            [("send", "change_request", {}), ("complete", "change_review", {"decision": "approve"})],
        ),
        "cost_overrun_review": ("implement", [("send", "cost_overrun", {"group": "finance"})]),
        "risk_reassessment": ("implement", [("wait", 14, {})]),
        "reassessment_response": ("implement", [("wait", 14, {}), ("complete", "risk_reassessment", {})]),
        "rectify": ("joint_test", [("complete", "joint_test", {"decision": "fail"})]),
        # The support period (3 months by default) is over 100 days after go-live.
        "inspection": ("golive", [("complete", "golive", {}), ("wait", 31, {})]),
        "resolve_support_request": ("golive", [("complete", "golive", {}), ("send", "support_request", {})]),
        "confirm_support_resolution": (
            "golive",
            [
                ("complete", "golive", {}),
                ("send", "support_request", {}),
                ("complete", "resolve_support_request", {}),
            ],
        ),
        "project_closure": (
            "golive",
            [("complete", "golive", {}), ("wait", 100, {}), ("complete", "inspection", {})],
        ),
    }

    def reach(self, instance_id, target):
        """Move the instance until `target` is ready; returns its TaskInfo."""
        first, steps = self.DETOURS.get(target, (target, []))
        self.walk(instance_id, first)
        for kind, what, data in steps:
            if kind == "complete":
                self.complete(instance_id, what, **data)
            elif kind == "send":
                self.send(instance_id, what, **data)
            else:
                assert self.wait(what) >= 1  # other instances of a shared app may move too
        return self.task(instance_id, target)


TABLES = ("instances", "tasks", "events", "notifications")


def snapshot(app) -> dict:
    """Every row of the tables an engine step writes, as stored (for before/after comparisons)."""
    from sqlalchemy import text

    with app.app_context():
        return {t: db.session.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all() for t in TABLES}


# Every operation of the API: issue 3's contract, plus revoking one's own token.
OPERATIONS = {
    ("POST", "/auth/token"),
    ("DELETE", "/auth/token"),
    ("GET", "/processes"),
    ("GET", "/processes/{process_id}"),
    ("POST", "/processes/{process_id}/instances"),
    ("GET", "/instances"),
    ("GET", "/instances/{instance_id}"),
    ("GET", "/instances/{instance_id}/events"),
    ("POST", "/instances/{instance_id}/messages/{message_name}"),
    ("GET", "/tasks"),
    ("GET", "/tasks/{task_id}"),
    ("POST", "/tasks/{task_id}/claim"),
    ("POST", "/tasks/{task_id}/unclaim"),
    ("POST", "/tasks/{task_id}/complete"),
    ("GET", "/openapi.json"),
    ("POST", "/deployments"),
    ("GET", "/processes/{process_id}/versions"),
    ("GET", "/processes/{process_id}/versions/{version}/sources"),
    ("GET", "/processes/{process_id}/versions/{version}/sources/{filename}"),
    ("GET", "/processes/{process_id}/diff"),
    ("GET", "/pool"),
    ("GET", "/pool/declined"),
    ("GET", "/plans"),
    ("POST", "/plans"),
    ("GET", "/plans/{plan_id}"),
    ("POST", "/plans/{plan_id}/items"),
    ("DELETE", "/plans/{plan_id}/items/{instance_id}"),
    ("POST", "/plans/{plan_id}/publish"),
    ("POST", "/plans/{plan_id}/revisions"),
}
# Issue 5: admin actions on instances.
OPERATIONS |= {
    *(("POST", f"/instances/{{instance_id}}/{action}") for action in ("suspend", "resume", "terminate")),
    *(("POST", f"/instances/{{instance_id}}/{action}") for action in ("retry", "rewind", "replay")),
    ("POST", "/instances/{instance_id}/migrate"),
    ("POST", "/instances/{instance_id}/undo"),
    ("POST", "/instances/{instance_id}/tasks/{task_id}/skip"),
    ("PATCH", "/instances/{instance_id}/data"),
    ("POST", "/migrations"),
    ("GET", "/admin/instances"),
    ("GET", "/admin/incidents"),
}
# The regulation's records (issue 6).
OPERATIONS |= {
    ("GET", "/instances/{instance_id}/documents"),
    ("GET", "/instances/{instance_id}/documents/{document_id}"),
    ("GET", "/instances/{instance_id}/documents/{document_id}/pdf"),
    ("GET", "/instances/{instance_id}/risks"),
    ("GET", "/instances/{instance_id}/training"),
    ("GET", "/instances/{instance_id}/costs"),
    ("POST", "/instances/{instance_id}/costs"),
    ("GET", "/dashboard"),
    ("POST", "/tasks/{task_id}/uploads"),
    ("GET", "/instances/{instance_id}/uploads"),
    ("GET", "/uploads/{upload_id}"),
    ("POST", "/instances/{instance_id}/documents/{document_id}/reviews"),
    ("POST", "/instances/{instance_id}/risks"),
}
PUBLIC = {("POST", "/auth/token"), ("GET", "/openapi.json")}

"""Staff at work in the browser: logging in and out as one person after another, opening a task
from the inbox, filling its form through form-js and submitting it.

Staff read the engine to know which task is open, who may do it, what its form looks like, and
afterwards what was stored; every step itself is clicked. Only `start_instance` and `walk_to`
drive the engine directly, to put a test at its starting point quickly.
"""

from formfill import fill_form
from harness import DEFAULTS
from playwright.sync_api import Page, expect

import engine
from web.extensions import db

EVERYONE = engine.Actor("e2e-observer", frozenset(g.id for g in engine.GROUPS))


class Staff:
    """One browser tab shared by the staff, each logging in for their step."""

    def __init__(self, page: Page, live, password: str):
        self.page = page
        self.live = live
        self.password = password
        self.user: str | None = None

    # -- who is at the keyboard ------------------------------------------------------------

    def log_in(self, username: str) -> None:
        if self.user == username:
            return
        if self.user is not None:
            self.log_out()
        page = self.page
        page.goto(self.live.url + "/login")
        page.get_by_label("用戶名").fill(username)
        page.get_by_label("密碼").fill(self.password)
        page.locator(".login__card").get_by_role("button", name="登入").click()
        expect(page.locator(".user-box__name")).to_contain_text(username)
        self.user = username

    def log_out(self) -> None:
        self.page.locator(".user-box").get_by_role("button").click()
        expect(self.page.locator("#login-title")).to_be_visible()
        self.user = None

    # -- reading the engine ------------------------------------------------------------------

    def open_tasks(self, instance_id: int) -> list:
        with self.live.app.app_context():
            return [t for t in engine.list_tasks(db.session, EVERYONE) if t.instance_id == instance_id]

    def task(self, instance_id: int, element: str):
        tasks = [t for t in self.open_tasks(instance_id) if t.name == element]
        assert len(tasks) == 1, f"{element} is not open: {[t.name for t in self.open_tasks(instance_id)]}"
        return tasks[0]

    def form(self, task, username):
        """(schema, values) the task's page shows to `username`."""
        with self.live.app.app_context():
            actor = engine.get_user_by_name(db.session, username).actor
            _, schema, values = engine.get_task(db.session, task.id, actor, clock=self.live.clock)
            return schema, values or {}

    def instance(self, instance_id: int):
        with self.live.app.app_context():
            return engine.get_instance(db.session, instance_id, clock=self.live.clock)

    # -- working ------------------------------------------------------------------------------

    def open_from_inbox(self, task) -> None:
        """Go to the inbox through the navigation and open the task from its card."""
        page = self.page
        page.get_by_role("navigation", name="主導航").get_by_role("link", name="待辦事項").click()
        card = page.locator(".task-card", has=page.locator(f'a[href^="/tasks/{task.id}"]'))
        card.locator(".task-card__title a").click()
        expect(page.locator("#form-root .fjs-form")).to_be_visible()

    def data_for(self, task, values, **overrides) -> dict:
        default = DEFAULTS.get(task.form or task.name, {})
        data = default(values) if callable(default) else dict(default)
        return {**data, **overrides}

    def submit(self) -> None:
        self.page.locator("#form-submit").click()

    def complete(self, instance_id: int, element: str, **overrides) -> dict:
        """The step done by a member of its group (or its assignee) through the inbox and the form.
        Returns the data entered; asserts the engine stored exactly that."""
        task = self.task(instance_id, element)
        username = task.assignee or task.groups[0]
        self.log_in(username)
        self.open_from_inbox(task)
        schema, values = self.form(task, username)
        data = self.data_for(task, values, **overrides)
        fill_form(self.page, schema, data)
        self.submit()
        expect(self.page.locator(".flash--success")).to_be_visible()
        assert self.page.url == self.live.url + "/"
        assert_stored(self.instance(instance_id).data.get(element), data, values)
        return data


def assert_stored(stored: dict | None, entered: dict, shown: dict | None = None) -> None:
    """The engine holds what was typed; fields left alone keep what the form showed, or arrive
    empty (form-js sends "" for an untouched text field)."""
    assert stored is not None
    assert {k: stored.get(k) for k in entered} == entered
    untouched = {k: v for k, v in stored.items() if k not in entered}
    assert all(v in ("", None, [], False) or v == (shown or {}).get(k) for k, v in untouched.items()), stored


def walk_to(live, instance_id: int, element: str) -> None:
    """Complete the happy path through the engine until `element` is open (the steps before it
    are clicked through in test_procedure; here they are only the way to get there)."""
    from harness import HAPPY_PATH

    with live.app.app_context():
        for step in HAPPY_PATH:
            tasks = [t for t in engine.list_tasks(db.session, EVERYONE) if t.instance_id == instance_id]
            if element in [t.name for t in tasks]:
                return
            task = next((t for t in tasks if t.name == step), None)
            if task is None:
                continue
            actor = engine.get_user_by_name(db.session, task.assignee or task.groups[0]).actor
            _, _, values = engine.get_task(db.session, task.id, actor, clock=live.clock)
            default = DEFAULTS[task.form]
            data = default(values or {}) if callable(default) else default
            engine.complete_task(db.session, task.id, data, actor, clock=live.clock)
            db.session.commit()
    raise AssertionError(f"{element} was not reached")


def start_instance(live, username="business", **request) -> int:
    """A new request (through the engine), returns its id."""
    from harness import REQUEST

    with live.app.app_context():
        actor = engine.get_user_by_name(db.session, username).actor
        info = engine.start_instance(
            db.session, "software_upgrade", {**REQUEST, **request}, actor, clock=live.clock
        )
        db.session.commit()
        return info.id

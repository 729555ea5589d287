"""A live Upgradeflow server for the browser tests: the app on a free 127.0.0.1 port, in a thread.

The server runs in this process so a test shares the app's `engine.ManualClock` (ENGINE_CLOCK)
and can move time (timers) exactly as a deployment's clock would move on its own.
"""

import logging
import threading
from dataclasses import dataclass

from flask_migrate import upgrade
from werkzeug.serving import make_server

import engine
from web import create_app
from web.extensions import db


@dataclass
class LiveServer:
    app: object
    url: str  # the origin, e.g. http://127.0.0.1:41234
    clock: engine.ManualClock

    def fire_timers(self) -> int:
        """Fire the timers due by the clock now (what the timer worker does in production)."""
        with self.app.app_context():
            moved = engine.fire_due_timers(db.session, clock=self.clock)
            db.session.commit()
            return moved

    def has_route(self, rule_prefix: str) -> bool:
        """Whether a page under `rule_prefix` exists (features other issues add)."""
        return any(rule.rule.startswith(rule_prefix) for rule in self.app.url_map.iter_rules())

    def has_endpoint(self, endpoint: str) -> bool:
        return endpoint in self.app.view_functions


def _buffered(app):
    """The app with each response read whole (and its iterable closed) before the server writes
    it. Werkzeug's development server skips `close()` when the browser drops the connection while
    it drains the request (Chromium drops favicon requests), which leaves a static file open and
    raises a ResourceWarning later, in whichever test is running then. Nothing here streams."""

    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            if hasattr(iterable, "close"):
                iterable.close()

    return wsgi


def start_server(
    database_url: str, users: dict[str, tuple[str, ...]], admins=("admin",), password="e2e-password"
):
    """Migrate, deploy processes/ and forms/, create `users` {name: groups} and `admins`; serve.

    Returns (LiveServer, stop) where stop() shuts the server down.
    """
    clock = engine.ManualClock()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "e2e",
            "ENGINE_CLOCK": clock,
        }
    )
    with app.app_context():
        upgrade()
        engine.deploy(db.session, engine.bundle_files("processes", "forms"), deployed_by="e2e")
        for name, groups in users.items():
            engine.create_user(db.session, name, password, groups, display_name=name)
        for name in admins:
            engine.create_user(db.session, name, password, (), is_admin=True, display_name=name)
        db.session.commit()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here
    server = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()

    return LiveServer(app, f"http://127.0.0.1:{server.server_port}", clock), stop

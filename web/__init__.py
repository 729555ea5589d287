"""Upgradeflow's web layer (Flask). It talks to the engine only through `engine`'s exports.

`create_app(config=None)` builds the app in named steps; nothing is connected at import time.
"""

import os
import secrets

import pytz
from flask import Flask

import engine

from . import database
from .config import Config, from_environment
from .extensions import babel, csrf, db, login_manager, migrate


def create_app(config=None):
    """Build the Flask app. `config` is a mapping that overrides `Config` (tests pass their own)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    app.config.update(from_environment())  # raises SettingError naming a setting it cannot use
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        try:
            app.config["SECRET_KEY"] = kept_secret_key(app.instance_path)
        except OSError as error:
            # A folder the user may not write, a key file another user made: this process
            # signs with a key of its own (sessions end with it), and says so.
            app.logger.warning(
                "SECRET_KEY is not set and %s; signing with a key for this process only", error
            )
            app.config["SECRET_KEY"] = secrets.token_hex(32)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "upgradeflow.db"
        )
    app.config["COMPANY_ZONE"] = pytz.timezone(app.config["BABEL_DEFAULT_TIMEZONE"])  # its days
    register_extensions(app)
    app.url_map.converters["int"] = database.RowId  # before any route is added
    register_blueprints(app)
    app.after_request(_security_headers)
    register_vendor(app)
    register_error_handlers(app)
    register_cli(app)
    return app


def kept_secret_key(folder) -> str:
    """The key that signs sessions and CSRF tokens when SECRET_KEY is not set: made once and kept
    in `folder` (readable by its owner only), so that a restart logs no one out and leaves open
    forms valid. Several processes starting at once agree on one (the first file linked wins).
    Several hosts need SECRET_KEY set alike."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "secret_key")
    if not os.path.exists(path):
        made = os.path.join(folder, f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(made, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(made, path)  # fails if another process made it first: theirs is kept
        except FileExistsError:
            pass
        finally:
            os.unlink(made)
    with open(path, encoding="ascii") as key:
        kept = key.read().strip()
    if len(kept) < 32:
        raise ValueError(f"{path} holds no key (empty or cut short); remove it to make a new one")
    return kept


# On every answer: no page of the app may be framed by another site (clickjacking), no file is
# read as another type than it is sent as, and no address leaves for another site. The content
# policy lets a page run only the app's own script files (no inline script, no eval, nothing from
# another origin), so text that slipped into a page unescaped still cannot run; inline styles stay
# allowed (the diagram and form libraries set them), images may be data: URIs (the bpmn.io mark).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def register_extensions(app):
    from . import database, jsontext

    app.json = jsontext.Provider(app)
    database.require_driver(str(app.config["SQLALCHEMY_DATABASE_URI"]))  # before the engine is made
    # JSON columns (instance state, events) through orjson, and the pool's connection checks, per
    # database (web/database.py); options the configuration gives win.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "json_serializer": jsontext.dumps,
        "json_deserializer": jsontext.loads,
        **database.engine_options(
            str(app.config["SQLALCHEMY_DATABASE_URI"]), app.config["DATABASE_CONNECT_TIMEOUT"]
        ),
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }
    db.init_app(app)

    with app.app_context():
        database.configure(db.engine)  # SQLite: WAL and a busy timeout; PostgreSQL: checked checkouts
        database.read_requests_without_transaction(app, db)  # PostgreSQL: reads keep prepared statements
    # Restored instances kept per process (engine/cache.py); 0 turns the cache off.
    engine.INSTANCE_CACHE.resize(app.config["INSTANCE_CACHE_SIZE"])
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    from .i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)


def register_blueprints(app):
    from . import api, auth, pages

    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    csrf.exempt(api.bp)  # the API authenticates with bearer tokens, not cookies


def register_vendor(app):
    from . import vendor

    vendor.register(app)  # bpmn-js and form-js from node_modules, allow-listed


def register_error_handlers(app):
    from .errors import register

    register(app)


def register_cli(app):
    from . import cli_records
    from .cli import register

    register(app)
    cli_records.register(app)  # documents expire, backup, restore (issue 6)

"""Configuration: fixed settings (`Config`) and those the environment gives (`from_environment`),
read when an app is built, so that `upgradeflow -e FILE` and a `.env` file count, and checked:
a setting that cannot be used is refused at start (`SettingError`, naming it), never a traceback
at import or a 500 on the first page that needs it."""

import math
import os

import pytz


class SettingError(ValueError):
    """An environment variable holds a value Upgradeflow cannot use (the message names it)."""


class Config:
    # Engine options beyond web/database.py's per-database defaults (tests pass their own).
    SQLALCHEMY_ENGINE_OPTIONS = {}  # noqa: RUF012 - Flask reads plain dicts
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    BABEL_DEFAULT_LOCALE = "zh"
    LANGUAGES = ("zh", "en")
    WTF_CSRF_TIME_LIMIT = None


def from_environment(environ=None) -> dict:
    """The settings `environ` (the process's environment) gives, checked. Raises SettingError."""
    env = os.environ if environ is None else environ
    return {
        # DATABASE_URL selects the database; the default is SQLite in the Flask instance folder.
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL"),
        # Unset: one made on the first start and kept in the instance folder (web.keep_secret_key).
        "SECRET_KEY": env.get("SECRET_KEY"),
        # Times are stored in UTC and shown in the company's zone.
        "BABEL_DEFAULT_TIMEZONE": _zone(env, "UPGRADEFLOW_TIMEZONE", "Asia/Hong_Kong"),
        "PROCESSES_DIR": env.get("UPGRADEFLOW_PROCESSES", "processes"),
        "FORMS_DIR": env.get("UPGRADEFLOW_FORMS", "forms"),
        "NODE_MODULES": env.get("UPGRADEFLOW_NODE_MODULES", "node_modules"),
        # Uploaded documents, stored by content hash (R4.2); the default is <instance folder>/uploads.
        "UPLOAD_DIR": env.get("UPGRADEFLOW_UPLOADS"),
        # Restored instances each app process keeps between requests (about 0.3 MB each at go-live).
        "INSTANCE_CACHE_SIZE": _whole(env, "UPGRADEFLOW_INSTANCE_CACHE", 256, 0, 1_000_000),
        # Seconds a new PostgreSQL connection may take before the request answers 503 (psycopg
        # takes 0 or less for "wait for ever").
        "DATABASE_CONNECT_TIMEOUT": _whole(env, "UPGRADEFLOW_DB_CONNECT_TIMEOUT", 5, 1, 3600),
        # E-mail of notifications (the worker); without SMTP_HOST they are shown in the web UI only.
        "SMTP_HOST": env.get("SMTP_HOST"),
        "SMTP_PORT": _whole(env, "SMTP_PORT", 25, 1, 65535),
        "SMTP_USER": env.get("SMTP_USER"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": env.get("SMTP_STARTTLS", "") in ("1", "true", "yes"),
        "SMTP_FROM": env.get("SMTP_FROM", "upgradeflow@localhost"),
        "MAIL_DOMAIN": env.get("MAIL_DOMAIN"),  # user name -> <name>@MAIL_DOMAIN
        # A recorded cost that takes spending to the approved budget × (1 + this) raises a finance
        # review in the running instance (R2.3.2); 0.10 is 10%.
        "COST_OVERRUN_THRESHOLD": _fraction(env, "COST_OVERRUN_THRESHOLD", 0.10),
    }


def _whole(env, name, default, low, high) -> int:
    text = env.get(name)
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingError(f"{name} must be a whole number from {low} to {high}, not {text!r}") from None
    if not low <= value <= high:
        raise SettingError(f"{name} must be a whole number from {low} to {high}, not {value}")
    return value


def _fraction(env, name, default) -> float:
    text = env.get(name)
    if text is None or text.strip() == "":
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise SettingError(f"{name} must be a fraction of at least 0 (0.10 is 10%), not {text!r}")
    return value


def _zone(env, name, default) -> str:
    text = env.get(name) or default
    try:
        pytz.timezone(text)  # what Flask-Babel shows times in
    except pytz.UnknownTimeZoneError:
        raise SettingError(
            f"{name} names no time zone: {text!r} (an IANA name such as Asia/Hong_Kong)"
        ) from None
    return text

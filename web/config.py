"""Configuration from the environment, with safe defaults for a single machine."""

import os


class Config:
    # DATABASE_URL selects the database; the default is SQLite in the Flask instance folder.
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    # Engine options beyond web/database.py's per-database defaults (tests pass their own).
    SQLALCHEMY_ENGINE_OPTIONS = {}  # noqa: RUF012 - Flask reads plain dicts
    # Unset: one made on the first start and kept in the instance folder (web.keep_secret_key).
    SECRET_KEY = os.environ.get("SECRET_KEY")
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    BABEL_DEFAULT_LOCALE = "zh"
    # Times are stored in UTC and shown in the company's zone.
    BABEL_DEFAULT_TIMEZONE = os.environ.get("UPGRADEFLOW_TIMEZONE", "Asia/Hong_Kong")
    LANGUAGES = ("zh", "en")
    WTF_CSRF_TIME_LIMIT = None
    PROCESSES_DIR = os.environ.get("UPGRADEFLOW_PROCESSES", "processes")
    FORMS_DIR = os.environ.get("UPGRADEFLOW_FORMS", "forms")
    NODE_MODULES = os.environ.get("UPGRADEFLOW_NODE_MODULES", "node_modules")
    # Uploaded documents, stored by content hash (R4.2); the default is <instance folder>/uploads.
    UPLOAD_DIR = os.environ.get("UPGRADEFLOW_UPLOADS")
    # Restored instances each app process keeps between requests (about 0.3 MB each at go-live).
    INSTANCE_CACHE_SIZE = int(os.environ.get("UPGRADEFLOW_INSTANCE_CACHE", "256"))
    # Seconds a new PostgreSQL connection may take before the request answers 503.
    DATABASE_CONNECT_TIMEOUT = int(os.environ.get("UPGRADEFLOW_DB_CONNECT_TIMEOUT", "5"))
    # E-mail of notifications (the worker); without SMTP_HOST they are shown in the web UI only.
    SMTP_HOST = os.environ.get("SMTP_HOST")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    SMTP_USER = os.environ.get("SMTP_USER")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "") in ("1", "true", "yes")
    SMTP_FROM = os.environ.get("SMTP_FROM", "upgradeflow@localhost")
    MAIL_DOMAIN = os.environ.get("MAIL_DOMAIN")  # user name -> <name>@MAIL_DOMAIN
    # A recorded cost that takes spending to the approved budget × (1 + this) raises a finance
    # review in the running instance (R2.3.2); 0.10 is 10%.
    COST_OVERRUN_THRESHOLD = float(os.environ.get("COST_OVERRUN_THRESHOLD", "0.10"))

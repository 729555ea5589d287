"""Flask extensions, created unbound; `create_app` binds them. Nothing connects at import time."""

from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

import engine
from engine.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def engine_clock():
    """The engine's clock for this app: the system clock unless configured with another
    (`ENGINE_CLOCK`, e.g. an `engine.ManualClock` in tests that must move time), with the zone
    the company counts its days in (UPGRADEFLOW_TIMEZONE)."""
    base = current_app.config.get("ENGINE_CLOCK") or engine.system_clock
    return engine.CompanyClock(base, current_app.config.get("COMPANY_ZONE"))

"""The dashboard for IT and management: where projects are, what is late, what is at risk."""

from flask import render_template
from flask_login import current_user

import engine

from ..extensions import db
from ..extensions import engine_clock as clock
from . import bp


@bp.get("/dashboard")
def dashboard():
    """Projects by phase, overdue tasks, open high risks, over budget, awaiting review (403 for
    anyone but IT, management and admins, from the engine)."""
    board = engine.dashboard(db.session, current_user.actor, clock=clock())
    return render_template("pages/dashboard.html", board=board)


@bp.app_context_processor
def _dashboard_link():
    return {"may_view_dashboard": lambda: engine.may_view_dashboard(current_user.actor)}

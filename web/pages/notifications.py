"""Notifications: what the outbox holds for me, my groups and everyone; mine marked read."""

from flask import redirect, render_template, url_for
from flask_login import current_user

import engine

from ..extensions import db
from ..extensions import engine_clock as clock
from . import bp


@bp.get("/notifications")
def notifications():
    items = engine.list_notifications(db.session, current_user.actor)
    return render_template("pages/notifications.html", items=items)


@bp.post("/notifications/read")
def notifications_read():
    engine.mark_notifications_read(db.session, current_user.actor, clock=clock())
    db.session.commit()
    return redirect(url_for("pages.notifications"))


@bp.app_context_processor
def _unread():
    def unread_notifications():
        if not current_user.is_authenticated:
            return 0
        return engine.unread_count(db.session, current_user.actor)

    return {"unread_notifications": unread_notifications}

"""The language switch: remembered for the user (engine.set_locale) and in the session."""

from flask import abort, current_app, redirect, request, session, url_for
from flask_login import current_user

import engine

from ..auth import safe_next
from ..extensions import db
from . import bp


@bp.post("/language")
def set_language():
    language = request.form.get("language")
    if language not in current_app.config["LANGUAGES"]:
        abort(400, description="不支持此語言 / unknown language")
    session["locale"] = language
    if current_user.is_authenticated:
        engine.set_locale(db.session, current_user.user.id, language)
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("pages.inbox"))

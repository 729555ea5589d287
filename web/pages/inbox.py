"""The inbox: my tasks, my groups' open tasks (claim / unclaim), and my running requests."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

import engine

from ..auth import safe_next
from ..extensions import db
from ..extensions import engine_clock as clock
from ..transactions import committed
from . import bp
from .layout import by_urgency

# A department may have thousands of open tasks: the most urgent are listed, `?all=1` lists all.
GROUP_TASKS_SHOWN = 50


@bp.get("/")
def inbox():
    shown = None if request.args.get("all") == "1" else GROUP_TASKS_SHOWN
    found = engine.inbox(db.session, current_user.actor, clock()(), groups_shown=shown)
    return render_template(
        "pages/inbox.html",
        mine=by_urgency(found.mine),
        groups=by_urgency(found.groups),
        groups_total=found.groups_total,
        requests=found.requests,
        overdue=found.overdue,
    )


def _back(task_id):
    return redirect(safe_next(request.form.get("next")) or url_for("pages.task", task_id=task_id))


@bp.post("/tasks/<task_id>/claim")
def claim(task_id):
    """Take a group task, so that only I may complete it until I give it back."""
    info = committed(lambda: engine.claim_task(db.session, task_id, current_user.actor, clock=clock()))
    title = next((t.title or t.name for t in info.tasks if t.id == task_id), "")
    flash(gettext("已認領「%(task)s」。其他同事將不能再處理此任務，直到您放棄認領。", task=title), "success")
    return _back(task_id)


@bp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id):
    """Give a claimed task back to its groups."""
    info = committed(lambda: engine.unclaim_task(db.session, task_id, current_user.actor, clock=clock()))
    title = next((t.title or t.name for t in info.tasks if t.id == task_id), "")
    flash(gettext("已放棄認領「%(task)s」，任務已退回部門待辦。", task=title), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("pages.inbox"))

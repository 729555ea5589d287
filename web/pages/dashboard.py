"""The dashboard for IT and management: where projects are, how long phases take, what is late,
what is at risk; the lists behind its figures, and its CSV export.

The CSV (`/dashboard.csv`, and `format=csv` in the API) has one row per figure: `section` and
`key` are stable codes (a phase, a group, an instance id), `name` is the figure's label in the
reader's language, `value` the figure itself (a count, days on average, an amount), `unit` says
which; `count` is how many projects an average is over and `budget` the budget an actual amount
is compared with. UTF-8 with a byte order mark, so spreadsheet programs read Chinese correctly.
"""

from flask import Response, abort, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

import engine

from ..csvfile import csv_download
from ..extensions import db
from ..extensions import engine_clock as clock
from . import bp
from .layout import group_name
from .pool import PHASE_LABELS as POOL_PHASE_LABELS
from .present import Terms
from .records import cost_threshold
from .refusals import FILTER, refused
from .requests import MAIN_PROCESS
from .sources import version_sources

# The phases the dashboard counts (and the instance list filters by), in the regulation's order.
PHASE_LABELS = {
    **{phase: POOL_PHASE_LABELS[phase] for phase in engine.PHASE_NAMES},
    engine.NO_PHASE: lazy_gettext("無待辦步驟"),
}
PHASE_FILTERS = PHASE_LABELS
PER_PAGE = 50


class OverdueFilterSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    group = fields.String(load_default=None, validate=validate.Length(min=1, max=40))  # none: all
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class RiskFilterSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    instance = fields.Integer(load_default=None, validate=validate.Range(min=1))


def _load(schema: Schema) -> dict:
    try:
        return schema.load(request.args)
    except ValidationError as error:
        abort(400, description=refused(FILTER, error.messages))


def _board():
    return engine.dashboard(db.session, current_user.actor, clock=clock(), threshold=cost_threshold())


@bp.get("/dashboard")
def dashboard():
    """Projects by phase, average time per phase, overdue tasks, open high risks, over budget,
    awaiting review (403 for anyone but IT, management and admins, from the engine)."""
    return render_template(
        "pages/dashboard.html", board=_board(), phase_labels=PHASE_LABELS, project=engine.POOL_PROCESS
    )


@bp.get("/dashboard.csv")
def dashboard_export():
    """Every figure of the dashboard as CSV rows (same permission as the page)."""
    return dashboard_csv(_board())


@bp.get("/dashboard/overdue")
def dashboard_overdue():
    """The overdue tasks of one group (`group=-` for tasks of no group; every group without it):
    the rows the dashboard counts for it."""
    filters = _load(OverdueFilterSchema())
    page = engine.overdue_tasks(
        db.session,
        current_user.actor,
        filters["group"],
        clock=clock(),
        page=filters["page"],
        per_page=PER_PAGE,
    )
    return render_template(
        "pages/dashboard_overdue.html",
        group=filters["group"],
        page=page,
        pages=max(1, -(-page.total // PER_PAGE)),
        no_group=engine.NO_GROUP,
    )


@bp.get("/dashboard/risks")
def dashboard_risks():
    """The open high risks of running projects (of one project with `instance=`): the rows the
    dashboard counts."""
    filters = _load(RiskFilterSchema())
    risks = engine.open_high_risk_list(db.session, current_user.actor, filters["instance"], clock=clock())
    terms = Terms(version_sources(MAIN_PROCESS))  # the words of the latest forms
    return render_template(
        "pages/dashboard_risks.html", risks=risks, instance=filters["instance"], terms=terms
    )


COLUMNS = ("section", "key", "name", "value", "unit", "count", "budget")


def _days(average) -> str:
    return "" if average is None else f"{average.total_seconds() / 86400:.2f}"


def _group(group) -> str:
    return gettext("未指定部門") if group == engine.NO_GROUP else group_name(group)


def _row(section, key, name, value, unit, count=None, budget=None) -> dict:
    return dict(zip(COLUMNS, (section, key, name, value, unit, count, budget), strict=True))


def dashboard_rows(board: engine.Dashboard) -> list[dict]:
    """Every figure of the dashboard as a row of COLUMNS, in the page's order."""
    rows = [
        _row("projects_by_phase", phase, PHASE_LABELS[phase], count, "projects")
        for phase, count in board.phases.items()
    ]
    rows += [
        _row("average_time_per_phase", t.phase, PHASE_LABELS[t.phase], _days(t.average), "days", t.count)
        for t in board.phase_times
    ]
    rows += [
        _row("overdue_tasks", group, _group(group), count, "tasks") for group, count in board.overdue.items()
    ]
    rows.append(_row("open_high_risks", "total", gettext("合計"), board.high_risk_count, "risks"))
    rows += [
        _row("open_high_risks", r.instance_id, r.title or "", len(r.open_high), "risks")
        for r in board.high_risks
    ]
    rows += [
        _row("budget_vs_actual", c.instance_id, c.title or "", c.actual, "amount", budget=c.budget)
        for c in board.over_budget
    ]
    rows += [
        _row("awaiting_review", f"{instance_id}/{document_id}", document_id, version, "version")
        for instance_id, document_id, version, _ in board.awaiting_review
    ]
    return rows


def dashboard_csv(board: engine.Dashboard, filename="dashboard.csv") -> Response:
    """A CSV download (attachment) of every figure of the dashboard."""
    return csv_download(COLUMNS, ([row.get(c) for c in COLUMNS] for row in dashboard_rows(board)), filename)


@bp.app_context_processor
def _dashboard_link():
    return {"may_view_dashboard": lambda: engine.may_view_dashboard(current_user.actor)}

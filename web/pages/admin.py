"""Admin pages (issue 5): every instance across processes with filters and bulk actions, the
incidents, and the repair, replay and migration controls of the instance page. Administrators
only (403 otherwise); every form carries the CSRF token; each action is one engine call, the same
the REST API makes, and is recorded in the instance's event log with who did it and why."""

import json

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

import engine

from .. import jsontext
from ..api.admin import run_migrations  # one implementation for the API and the pages
from ..auth import admin_required
from ..extensions import db
from ..extensions import engine_clock as clock
from ..schemas import ROW_ID, STATUSES
from . import bp
from .layout import STATUS_LABELS, split_message
from .refusals import FILTER, FORM, refused

PER_PAGE = 50
BULK_ACTIONS = ("migrate", "suspend", "resume")
STEP_EVENTS = ("task_completed", "task_skipped")


class AdminFilterSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    process = fields.String(load_default="")
    version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    status = fields.String(load_default="", validate=validate.OneOf(("", *STATUSES)))
    waiting_at = fields.String(load_default="")
    older_than = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    initiator = fields.String(load_default="")
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


NONE_TICKED = "請先勾選至少一個實例 / Tick at least one instance."


class BulkSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    action = fields.String(required=True, validate=validate.OneOf(BULK_ACTIONS))
    # Every id checked before any instance is touched: each is acted on in its own transaction.
    ids = fields.List(
        fields.Integer(validate=ROW_ID),
        required=True,  # none ticked: the browser sends no `ids` at all (was a 500)
        validate=validate.Length(min=1, error=NONE_TICKED),
        error_messages={"required": NONE_TICKED},
    )
    version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    reason = fields.String(load_default="", validate=validate.Length(max=1000))
    dry_run = fields.Boolean(load_default=False)


def _form(schema):
    """The posted form through `schema` (blank fields left out). Raises 400 naming the problem."""
    values = {key: value for key, value in request.form.items() if key != "csrf_token" and value != ""}
    if "ids" in request.form:
        values["ids"] = request.form.getlist("ids")
    try:
        return schema.load(values)
    except ValidationError as error:
        abort(400, description=refused(FORM, error.messages))


def _blank_as_none(args):
    return {key: value for key, value in args.items() if value != ""}


@bp.get("/admin/instances")
@admin_required
def admin_instances():
    try:
        filters = AdminFilterSchema().load(_blank_as_none(request.args))
    except ValidationError as error:
        abort(400, description=refused(FILTER, error.messages))
    page = engine.admin_instances(
        db.session,
        current_user.actor,
        process_id=filters["process"] or None,
        version=filters["version"],
        status=filters["status"] or None,
        waiting_at=filters["waiting_at"] or None,
        older_than_days=filters["older_than"],
        initiator=filters["initiator"] or None,
        page=filters["page"],
        per_page=PER_PAGE,
        clock=clock(),
    )
    return render_template(
        "pages/admin_instances.html",
        page=page,
        filters=filters,
        statuses=STATUSES,
        processes=engine.list_processes(db.session),
        pages=max(1, -(-page.total // PER_PAGE)),
    )


@bp.post("/admin/instances/bulk")
@admin_required
def admin_bulk():
    """Migrate, suspend or resume the checked instances, each in its own transaction; the page
    lists every instance's outcome."""
    form = _form(BulkSchema())
    if form["action"] == "migrate":
        if form["version"] is None:
            abort(400, description="遷移須指定目標版本 / a version is required to migrate")
        body = {
            "instance_ids": form["ids"],
            "version": form["version"],
            "dry_run": form["dry_run"],
            "reason": form["reason"],
        }
        batch = run_migrations(body, current_user.actor)
        rows = [(r.instance_id, r.ok, r.reason or _moved(r, form["dry_run"])) for r in batch.instances]
    else:
        call = engine.suspend_instance if form["action"] == "suspend" else engine.resume_instance
        rows = [_repair_one(call, instance_id, form["reason"]) for instance_id in form["ids"]]
    return render_template(
        "pages/admin_results.html", action=form["action"], dry_run=form["dry_run"], rows=rows
    )


def _moved(result, dry_run):
    if dry_run:
        return gettext(
            "可以遷移到第 %(version)s 版（%(method)s）", version=result.to_version, method=result.method
        )
    return gettext("已遷移到第 %(version)s 版（%(method)s）", version=result.to_version, method=result.method)


def _repair_one(call, instance_id, reason):
    try:
        info = call(db.session, instance_id, current_user.actor, reason, clock=clock())
    except engine.NotAllowed:
        raise
    except engine.EngineError as error:
        db.session.rollback()
        return instance_id, False, split_message(str(error))
    db.session.commit()
    return instance_id, True, gettext("狀態：%(status)s", status=STATUS_LABELS.get(info.status, info.status))


@bp.get("/admin/incidents")
@admin_required
def admin_incidents():
    """Instances in error: the element, the message and the data that caused it."""
    incidents = engine.list_incidents(db.session, current_user.actor)
    return render_template("pages/admin_incidents.html", incidents=incidents)


# -- the instance page's admin controls ------------------------------------------------------------


def admin_panel(info, events) -> dict:
    """What the instance page's admin controls need: the steps it can be rewound to (newest
    first, rewound ones marked), the other versions of its process, its data as JSON."""
    steps = [e for e in reversed(events) if e.type in STEP_EVENTS and e.task_id]
    versions = [
        v.version for v in engine.list_versions(db.session, info.process_id) if v.version != info.version
    ]
    variables = {key: value for key, value in (info.data or {}).items()}
    shown = json.dumps(variables, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return {
        "steps": steps,
        "versions": versions,
        "original_json": shown,
        # What the admin typed, when the edit was refused: kept in the editor, not thrown away.
        "data_json": g.get("refused_data_edit") or shown,
    }


class ReasonSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class StepSchema(ReasonSchema):
    task_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class DataSchema(ReasonSchema):
    original = fields.String(required=True)
    data = fields.String(required=True)


class VersionSchema(ReasonSchema):
    version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    dry_run = fields.Boolean(load_default=False)


def _back(instance_id, message):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("pages.instance", instance_id=instance_id) + "#admin-title")


REPAIRS = {
    "suspend": (engine.suspend_instance, lazy_gettext("流程已暫停。")),
    "resume": (engine.resume_instance, lazy_gettext("流程已恢復。")),
    "terminate": (engine.terminate_instance, lazy_gettext("流程已終止。")),
}


@bp.post("/instances/<int:instance_id>/admin/<action>")
@admin_required
def admin_repair(instance_id, action):
    if action not in REPAIRS:
        abort(404)
    call, done = REPAIRS[action]
    form = _form(ReasonSchema())
    call(db.session, instance_id, current_user.actor, form["reason"], clock=clock())
    return _back(instance_id, str(done))


@bp.post("/instances/<int:instance_id>/admin/retry")
@admin_required
def admin_retry(instance_id):
    form = _form(ReasonSchema())
    engine.retry_instance(db.session, instance_id, current_user.actor, clock=clock(), reason=form["reason"])
    return _back(instance_id, gettext("已重試出錯的步驟。"))


@bp.post("/instances/<int:instance_id>/admin/rewind")
@admin_required
def admin_rewind(instance_id):
    form = _form(StepSchema())
    engine.rewind_instance(
        db.session, instance_id, form["task_id"], current_user.actor, form["reason"], clock=clock()
    )
    return _back(instance_id, gettext("已回退，所選步驟重新等待處理。"))


@bp.post("/instances/<int:instance_id>/admin/skip")
@admin_required
def admin_skip(instance_id):
    form = _form(StepSchema())
    engine.skip_task(
        db.session, instance_id, form["task_id"], current_user.actor, form["reason"], clock=clock()
    )
    return _back(instance_id, gettext("已跳過該步驟。"))


class _Unreadable(Exception):
    """The editor's text is no JSON object the data may hold; `args[0]` says why."""


def _json_object(text):
    """The editor's JSON object, read and checked as an API body is (no lone surrogates, NUL,
    NaN, numbers beyond 64 bits, or deep nesting: each made the instance unreadable). Raises
    _Unreadable naming the problem."""
    try:
        value = jsontext.loads_exact(text)
    except ValueError as error:
        raise _Unreadable(f"數據不是有效的 JSON（{error}） / the data is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise _Unreadable("數據須為 JSON 對象 / the data must be a JSON object")
    found = jsontext.problem(value)
    if found is not None:
        where = found.replace("the body", "the data")
        raise _Unreadable(f"數據無法保存（{where}） / the data cannot be stored: {where}")
    return value


@bp.post("/instances/<int:instance_id>/admin/data")
@admin_required
def admin_edit_data(instance_id):
    """The editor posts the data as shown and as edited; the variables that differ are set
    (old and new values go in the event log)."""
    form = _form(DataSchema())
    try:
        original, edited = _json_object(form["original"]), _json_object(form["data"])
    except _Unreadable as problem:
        # The instance page again, the typed text in its editor and the problem above it: one
        # typo lost a long edit to an error page.
        flash(split_message(problem.args[0]), "error")
        g.refused_data_edit = form["data"]
        from .instances import instance as instance_page  # it imports this module's admin_panel

        return instance_page(instance_id), 400
    removed = sorted(set(original) - set(edited))
    if removed:  # the engine sets variables, it never removes one: said so, nothing changed
        flash(gettext("不能刪除變量：%(names)s。可將其值改為 null。", names="、".join(removed)), "error")
        return redirect(url_for("pages.instance", instance_id=instance_id) + "#admin-title")
    changes = {key: value for key, value in edited.items() if original.get(key) != value}
    if not changes:
        flash(gettext("數據沒有變化。"), "info")
        return redirect(url_for("pages.instance", instance_id=instance_id) + "#admin-title")
    engine.edit_instance_data(
        db.session, instance_id, current_user.actor, changes, form["reason"], clock=clock()
    )
    shown = "；".join(
        f"{key}: {json.dumps(original.get(key), ensure_ascii=False)} → {json.dumps(value, ensure_ascii=False)}"
        for key, value in sorted(changes.items())
    )
    return _back(instance_id, gettext("數據已修改：%(changes)s", changes=shown))


@bp.post("/instances/<int:instance_id>/admin/replay")
@admin_required
def admin_replay(instance_id):
    form = _form(VersionSchema())
    report = engine.replay_instance(
        db.session,
        instance_id,
        current_user.actor,
        form["version"],
        form["dry_run"],
        clock=clock(),
        reason=form["reason"],
    )
    db.session.commit()
    return render_template("pages/admin_replay.html", instance_id=instance_id, report=report)


@bp.post("/instances/<int:instance_id>/admin/migrate")
@admin_required
def admin_migrate(instance_id):
    """With dry_run, the preview (the diff, and whether it can move); else the migration."""
    form = _form(VersionSchema())
    if form["version"] is None:
        abort(400, description="遷移須指定目標版本 / a version is required to migrate")
    # A refusal (MigrationRefused) is a 409 error page naming the element(s), as in the API.
    result = engine.migrate_instance(
        db.session,
        instance_id,
        form["version"],
        current_user.actor,
        form["dry_run"],
        clock=clock(),
        reason=form["reason"],
    )
    if not form["dry_run"]:
        return _back(instance_id, gettext("已遷移到第 %(version)s 版。", version=result.to_version))
    return render_template("pages/admin_migration.html", instance_id=instance_id, result=result)


@bp.post("/instances/<int:instance_id>/admin/undo")
@admin_required
def admin_undo(instance_id):
    form = _form(ReasonSchema())
    info = engine.undo(db.session, instance_id, current_user.actor, clock=clock(), reason=form["reason"])
    return _back(instance_id, gettext("已撤銷，流程回到第 %(version)s 版的先前狀態。", version=info.version))

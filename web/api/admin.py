"""Admin actions on instances (issue 5): repair, replay, migrate, undo. Administrators only: anyone
else gets 403 before the body is read. Every action is recorded in the instance's event log with
who did it and why (the engine does that); the engine refuses non-admins too."""

from functools import wraps

from flask import abort, g, request

import engine

from .. import schemas
from ..auth import token_required
from ..extensions import db
from ..extensions import engine_clock as clock
from . import bp
from .http import dump, parse, parse_body, parse_query
from .openapi import operation

REPAIRS = {
    "suspend": (engine.suspend_instance, schemas.RequiredReasonSchema),
    "resume": (engine.resume_instance, schemas.ReasonRequestSchema),
    "terminate": (engine.terminate_instance, schemas.RequiredReasonSchema),
}
REFUSED = {403: None, 404: None, 409: None}


def admin_token_required(view):
    """API views: 401 without a valid token, 403 unless the user is an administrator."""

    @wraps(view)
    @token_required
    def wrapper(*args, **kwargs):
        if not g.user.is_admin:
            abort(403, description="only administrators may do this")
        return view(*args, **kwargs)

    return wrapper


def _optional_body(schema):
    """Like parse_body, but a request without a body is an empty object (undo, retry, resume)."""
    if not request.get_data():
        return parse(schema, {})
    return parse_body(schema)


def _instance(info):
    db.session.commit()
    return dump(schemas.shared(schemas.InstanceSchema), info)


def _repair_view(action, call, schema):
    @admin_token_required
    @operation(
        f"{action.capitalize()} an instance",
        body=schema,
        responses={200: schemas.InstanceSchema, **REFUSED},
    )
    def view(instance_id):
        body = _optional_body(schema())
        return _instance(call(db.session, instance_id, g.user.actor, body["reason"], clock=clock()))

    view.__name__ = f"{action}_instance"
    view.__doc__ = f"{action.capitalize()} the instance, with a reason (kept in its event log)."
    return view


for _action, (_call, _schema) in REPAIRS.items():
    bp.post(f"/instances/<int:instance_id>/{_action}")(_repair_view(_action, _call, _schema))


@bp.post("/instances/<int:instance_id>/retry")
@admin_token_required
@operation(
    "Retry an instance's failed step",
    body=schemas.ReasonRequestSchema,
    responses={200: schemas.InstanceSchema, **REFUSED},
)
def retry_instance(instance_id):
    """Run the failed step of an instance in `error` again (after a fix: data edited, migrated)."""
    body = _optional_body(schemas.shared(schemas.ReasonRequestSchema))
    info = engine.retry_instance(db.session, instance_id, g.user.actor, clock=clock(), reason=body["reason"])
    return _instance(info)


@bp.post("/instances/<int:instance_id>/rewind")
@admin_token_required
@operation(
    "Rewind an instance to an earlier step",
    body=schemas.RewindRequestSchema,
    responses={200: schemas.InstanceSchema, **REFUSED},
)
def rewind_instance(instance_id):
    """Make a completed step (its `task_id` from the event log) ready again; the later events
    stay in the log, marked as rewound."""
    body = parse_body(schemas.shared(schemas.RewindRequestSchema))
    info = engine.rewind_instance(
        db.session, instance_id, body["task_id"], g.user.actor, body["reason"], clock=clock()
    )
    return _instance(info)


@bp.post("/instances/<int:instance_id>/tasks/<task_id>/skip")
@admin_token_required
@operation(
    "Skip a ready task",
    body=schemas.SkipRequestSchema,
    responses={200: schemas.InstanceSchema, **REFUSED},
)
def skip_task(instance_id, task_id):
    """Complete a ready task without its form, with a reason and optionally its result `data`."""
    body = parse_body(schemas.shared(schemas.SkipRequestSchema))
    info = engine.skip_task(
        db.session, instance_id, task_id, g.user.actor, body["reason"], body["data"], clock=clock()
    )
    return _instance(info)


@bp.patch("/instances/<int:instance_id>/data")
@admin_token_required
@operation(
    "Edit an instance's data",
    body=schemas.DataEditRequestSchema,
    responses={200: schemas.InstanceSchema, **REFUSED},
)
def edit_data(instance_id):
    """Set process variables; the old and new values go in the event log with the reason."""
    body = parse_body(schemas.shared(schemas.DataEditRequestSchema))
    info = engine.edit_instance_data(
        db.session, instance_id, g.user.actor, body["changes"], body["reason"], clock=clock()
    )
    return _instance(info)


@bp.post("/instances/<int:instance_id>/replay")
@admin_token_required
@operation(
    "Replay an instance from its event log",
    body=schemas.ReplayRequestSchema,
    responses={200: schemas.ReplayReportSchema, 403: None, 404: None},
)
def replay_instance(instance_id):
    """Rebuild the instance from its event log on its own version (or `version`) and compare:
    `matches`, and if not, the first event where they diverge and why. Without `dry_run`, the
    replayed state replaces the stored one (the old one kept for undo)."""
    body = parse_body(schemas.shared(schemas.ReplayRequestSchema))
    report = engine.replay_instance(
        db.session,
        instance_id,
        g.user.actor,
        body.get("version"),
        body["dry_run"],
        clock=clock(),
        reason=body["reason"],
    )
    db.session.commit()
    return dump(schemas.shared(schemas.ReplayReportSchema), report)


@bp.post("/instances/<int:instance_id>/migrate")
@admin_token_required
@operation(
    "Migrate an instance to another version",
    body=schemas.MigrateRequestSchema,
    responses={200: schemas.MigrationResultSchema, **REFUSED},
)
def migrate_instance(instance_id):
    """Move the instance to `version` of its process (by SpiffWorkflow's diff, else by replay):
    the diff and, unless `dry_run`, the instance now on that version. 409 when it cannot move,
    naming the element(s) and why."""
    body = parse_body(schemas.shared(schemas.MigrateRequestSchema))
    result = engine.migrate_instance(
        db.session,
        instance_id,
        body["version"],
        g.user.actor,
        body["dry_run"],
        clock=clock(),
        reason=body["reason"],
    )
    db.session.commit()
    return dump(schemas.shared(schemas.MigrationResultSchema), result)


@bp.post("/migrations")
@admin_token_required
@operation(
    "Migrate a selection of instances",
    body=schemas.MigrationsRequestSchema,
    responses={200: schemas.MigrationBatchSchema, 403: None},
)
def migrate_selection():
    """Each instance of `instance_ids` migrates in its own transaction; the answer lists every
    instance's outcome (`ok`, or the `reason` it could not move: that one is left as it was).
    With `dry_run`, a preview: the diffs and what would happen to each."""
    body = parse_body(schemas.shared(schemas.MigrationsRequestSchema))
    return dump(schemas.shared(schemas.MigrationBatchSchema), run_migrations(body, g.user.actor))


def run_migrations(body, actor) -> engine.MigrationPreview:
    """A selection migrated one transaction per instance (shared with the pages)."""
    if body["dry_run"]:
        return engine.preview_migration(db.session, body["instance_ids"], body["version"], actor, clock())
    batch = engine.MigrationPreview(body["version"])
    seen = set()
    results = engine.migrate_instances(
        db.session, body["instance_ids"], body["version"], actor, clock=clock(), reason=body.get("reason", "")
    )
    for result in results:
        if result.migrated:
            db.session.commit()
        else:
            db.session.rollback()
        batch.instances.append(result)
        if result.diff is not None and (result.process_id, result.from_version) not in seen:
            seen.add((result.process_id, result.from_version))
            batch.diffs.append(
                {"process_id": result.process_id, "from_version": result.from_version, "diff": result.diff}
            )
    return batch


@bp.post("/instances/<int:instance_id>/undo")
@admin_token_required
@operation(
    "Undo the last replay or migration",
    body=schemas.ReasonRequestSchema,
    responses={200: schemas.InstanceSchema, **REFUSED},
)
def undo(instance_id):
    """Put back the instance's state and version from before its last replay or migration;
    409 when there is nothing to undo."""
    body = _optional_body(schemas.shared(schemas.ReasonRequestSchema))
    return _instance(engine.undo(db.session, instance_id, g.user.actor, clock=clock(), reason=body["reason"]))


@bp.get("/admin/instances")
@admin_token_required
@operation(
    "Watch instances across processes",
    query=schemas.AdminInstanceQuerySchema,
    responses={200: schemas.AdminInstancePageSchema, 403: None},
)
def watch_instances():
    """Every instance of every process, oldest first, filtered by process, version, status, a
    step it waits at, age and initiator (as the admin instance page); an incident carries its
    `error`."""
    query = parse_query(schemas.shared(schemas.AdminInstanceQuerySchema))
    page = engine.admin_instances(db.session, g.user.actor, clock=clock(), **query)
    return dump(schemas.shared(schemas.AdminInstancePageSchema), page)


@bp.get("/admin/incidents")
@admin_token_required
@operation("List incidents", responses={200: [schemas.WatchedInstanceSchema], 403: None})
def incidents():
    """Instances in `error`, oldest first, each with the failed element, the message, the data it
    saw and when: what `retry` runs again after a fix."""
    found = engine.list_incidents(db.session, g.user.actor)
    return dump(schemas.shared(schemas.WatchedInstanceSchema, many=True), found)

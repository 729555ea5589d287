"""Instances: the filtered list; one instance's diagram, history, data and documents; the
diagrams of the processes it calls; and the deployed files the diagram viewer loads."""

from flask import Response, abort, current_app, render_template, request, url_for
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

import engine

from ..extensions import db
from ..extensions import engine_clock as clock
from . import bp
from .admin import admin_panel
from .dashboard import PHASE_FILTERS
from .present import present, present_data
from .refusals import FILTER, refused
from .requests import MAIN_PROCESS
from .sources import Sources, version_sources

STATUSES = ("running", "completed", "error", "suspended", "terminated")
PER_PAGE = 25
# Sent as text to be read by the viewer's script, never rendered: an XML document opened in the
# browser runs any XHTML <script> a diagram's extension elements carry (a process owner's script
# in an admin's session).
FILE_TYPES = {".bpmn": "text/plain", ".dmn": "text/plain", ".form": "text/plain"}
OWNERS_ONLY = frozenset({".dmn", ".form"})  # as in the API: decisions and forms are the owners' sources


class InstanceFilterSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default=None, validate=validate.OneOf(("", *STATUSES)))
    process = fields.String(load_default=None)
    waiting_at = fields.String(load_default=None)
    # The regulation's phase, as the dashboard counts projects by phase.
    phase = fields.String(load_default=None, validate=validate.OneOf(("", *PHASE_FILTERS)))
    mine = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


@bp.get("/instances")
def instances():
    try:
        filters = InstanceFilterSchema().load(request.args)
    except ValidationError as error:
        abort(400, description=refused(FILTER, error.messages))
    page = engine.list_instances(
        db.session,
        status=filters["status"] or None,
        process_id=filters["process"] or None,
        initiator=current_user.username if filters["mine"] else None,
        waiting_at=filters["waiting_at"] or None,
        phase=filters["phase"] or None,
        page=filters["page"],
        per_page=PER_PAGE,
    )
    shown = filters["process"] or current_app.config.get("MAIN_PROCESS", MAIN_PROCESS)
    sources = version_sources(shown)
    return render_template(
        "pages/instances.html",
        page=page,
        filters=filters,
        statuses=STATUSES,
        processes=engine.list_processes(db.session),
        steps=sources.user_tasks(shown),
        phase_labels=PHASE_FILTERS,
        sources=sources,
        pages=max(1, -(-page.total // PER_PAGE)),
    )


def _diagram(info, sources: Sources, process_id):
    """What the viewer needs: the BPMN file's URL and the elements to mark."""
    filename = sources.process_files.get(process_id)
    if filename is None:
        return None
    failed = (info.error or {}).get("element")
    return {
        "url": url_for(
            "pages.process_file", process_id=info.process_id, version=info.version, filename=filename
        ),
        "completed": sorted(info.completed_elements),
        "counts": info.completed_elements,
        # A step inside a called process is shown on this diagram at the call activities to it.
        "waiting": sorted(
            {shown for element in info.waiting_at for shown in _drawn_at(sources, process_id, element)}
        ),
        "error": min(_drawn_at(sources, process_id, failed)) if failed else None,
    }


def _drawn_at(sources: Sources, process_id, element_id) -> set:
    """The elements of `process_id`'s diagram that show `element_id`: itself, or every call
    activity of that diagram that calls (directly or through other calls) the process holding it."""
    main = sources.process_files.get(process_id)
    element = sources.elements.get(element_id)
    if element is None or element.file == main:
        return {element_id}
    shown, seen, files = set(), set(), [element.file]
    while files:  # the files whose processes are called, walked up to the main diagram once each
        file = files.pop()
        for call in sources.elements.values():
            if call.kind != "callActivity" or sources.process_files.get(call.called) != file:
                continue
            if call.file == main:
                shown.add(call.id)
            elif call.file not in seen:
                seen.add(call.file)
                files.append(call.file)
    return shown or {element_id}


@bp.get("/instances/<int:instance_id>")
def instance(instance_id):
    actor = current_user.actor
    # What they may read, and the messages the page may offer them.
    info = engine.get_instance(db.session, instance_id, clock=clock(), actor=actor, messages=True)
    events = engine.instance_events(db.session, instance_id, actor=actor)
    sources = version_sources(info.process_id, info.version)
    sections, variables = present_data(info.data, sources)
    every = sources.all_labels()
    history = [
        (
            event,
            present(event.data, None, {**every, **sources.labels_for(event.task)}) if event.data else None,
        )
        for event in reversed(events)
    ]
    return render_template(
        "pages/instance.html",
        instance=info,
        sources=sources,
        waiting=[sources.name(element) for element in info.waiting_at],
        diagram=_diagram(info, sources, info.process_id),
        called=sources.call_activities(info.process_id),
        history=history,
        sections=sections,
        variables=variables,
        documents=engine.list_documents(db.session, instance_id, actor),
        may_complete={t.id: engine.may_complete(actor, t) for t in info.tasks},
        admin=admin_panel(info, events) if current_user.is_admin else None,
    )


@bp.get("/instances/<int:instance_id>/diagrams/<process_id>")
def called_diagram(instance_id, process_id):
    """A called process's diagram, marked with this instance's progress in it."""
    info = engine.get_instance(db.session, instance_id, clock=clock())
    sources = version_sources(info.process_id, info.version)
    diagram = _diagram(info, sources, process_id)
    if diagram is None:
        abort(404, description=f"the version does not contain process {process_id!r}")
    return render_template(
        "pages/diagram.html",
        instance=info,
        process_name=sources.process_names.get(process_id, process_id),
        caller=next((c for c in sources.call_activities(info.process_id) if c.called == process_id), None),
        diagram=diagram,
    )


@bp.get("/processes/<process_id>/<int:version>/files/<path:filename>")
def process_file(process_id, version, filename):
    """A file of a deployed version exactly as deployed (the viewer loads diagrams from here)."""
    files = engine.process_sources(db.session, process_id, version)
    suffix = "." + filename.rsplit(".", 1)[-1]
    if filename not in files or suffix not in FILE_TYPES:
        abort(404, description=f"no file {filename!r} in {process_id} version {version}")
    if suffix in OWNERS_ONLY and not engine.may_own_processes(current_user.actor):
        abort(403, description="decision tables and forms are read by process owners and admins")
    response = Response(files[filename], mimetype=FILE_TYPES[suffix])
    response.headers["Content-Disposition"] = "attachment"  # opened directly: saved, not shown
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.private = True  # a version never changes, but it is not public
    response.cache_control.max_age = 3600
    return response

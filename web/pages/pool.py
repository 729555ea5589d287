"""The requirement pool page (需求管理庫): accepted requests with filters, search, sort and a CSV
export; for IT also the requests returned or rejected at preliminary review, with the reasons."""

from flask import abort, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from marshmallow import EXCLUDE, ValidationError

import engine

from .. import plan_schemas
from ..extensions import db
from ..pool_export import pool_csv
from . import bp
from .refusals import FILTER, refused
from .requests import MAIN_PROCESS
from .sources import Sources

PHASE_LABELS = {
    "request": lazy_gettext("需求申請"),
    "analysis": lazy_gettext("需求分析"),
    "initiation": lazy_gettext("項目立項"),
    "implementation": lazy_gettext("項目實施"),
    "testing": lazy_gettext("測試與驗收"),
    "training": lazy_gettext("用戶培訓"),
    "operation": lazy_gettext("上線與運維"),
    "closed": lazy_gettext("已結項"),
    "terminated": lazy_gettext("已終止"),
}
PRIORITY_LABELS = {"high": lazy_gettext("高"), "medium": lazy_gettext("中"), "low": lazy_gettext("低")}
SYSTEM_LABELS = {
    "oa": lazy_gettext("辦公自動化(OA)系統"),
    "business_management": lazy_gettext("業務管理系統"),
    "crm": lazy_gettext("客戶關係管理(CRM)系統"),
    "other": lazy_gettext("其他"),
}
SORT_LABELS = {
    "accepted_at": lazy_gettext("受理時間"),
    "requested_at": lazy_gettext("申請時間"),
    "priority": lazy_gettext("優先級"),
    "estimated_cost": lazy_gettext("估算費用"),
    "title": lazy_gettext("標題"),
    "department": lazy_gettext("申請部門"),
    "system": lazy_gettext("軟件系統"),
    "id": lazy_gettext("編號"),
}
DECISION_LABELS = {"return": lazy_gettext("退回修改"), "reject": lazy_gettext("駁回")}


def labels():
    """What the pool and plan templates need to name codes."""
    return {
        "phase_labels": PHASE_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "system_labels": SYSTEM_LABELS,
        "decision_labels": DECISION_LABELS,
    }


def _filters() -> dict:
    args = {k: v for k, v in request.args.items() if v != ""}
    try:
        return plan_schemas.PoolQuerySchema(unknown=EXCLUDE).load(args)
    except ValidationError as error:
        abort(400, description=refused(FILTER, error.messages))


def _entries(filters):
    query = {k: v for k, v in filters.items() if k not in ("format", "order")}
    return engine.requirement_pool(
        db.session, current_user.actor, descending=filters["order"] == "desc", **query
    )


@bp.get("/pool")
def pool():
    filters = _filters()
    entries = _entries(filters)
    actor = current_user.actor
    declined = engine.review_outcomes(db.session, actor) if actor.is_admin or "it" in actor.groups else None
    return render_template(
        "pages/pool.html",
        entries=entries,
        declined=declined,
        filters=filters,
        sorts=SORT_LABELS,
        own_only=not (actor.is_admin or actor.groups & {"it", "management"}),
        may_plan=actor.is_admin or bool(actor.groups & {"it", "management"}),
        sources=Sources(engine.process_sources(db.session, MAIN_PROCESS)),
        **labels(),
    )


@bp.get("/pool.csv")
def pool_export():
    headers = {
        "instance_id": gettext("編號"),
        "title": gettext("標題"),
        "system": gettext("軟件系統"),
        "department": gettext("申請部門"),
        "initiator": gettext("申請人"),
        "requested_at": gettext("申請時間"),
        "accepted_at": gettext("受理時間"),
        "priority": gettext("優先級"),
        "estimated_cost": gettext("估算費用(元)"),
        "contract_amount": gettext("合同金額(元)"),
        "status": gettext("狀態"),
        "phase": gettext("階段"),
        "waiting_at": gettext("目前所在"),
    }
    return pool_csv(_entries(_filters()), headers)

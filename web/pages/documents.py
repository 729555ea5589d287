"""The document library's pages (R4): one document as a printable page and as a PDF, and the
helpers the instance page uses to name documents. Who may read what is the engine's table
(`engine.READERS`); a refused read is a 403 from `web.errors`."""

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from weasyprint import HTML

import engine

from ..extensions import db
from ..extensions import engine_clock as clock
from . import bp
from .present import CATEGORY_LABELS, document, present_data
from .sources import Sources


def doc_title(doc) -> str:
    """The document's name in the reader's language (the stored, Chinese name otherwise)."""
    spec = document(doc.document_id)
    return str(spec.title) if spec is not None else doc.title


STATUS_LABELS = {
    "draft": lazy_gettext("草稿"),
    "in_review": lazy_gettext("審核中"),
    "archived": lazy_gettext("已歸檔（定稿）"),
    "destroyed": lazy_gettext("已銷毀"),
}


def document_status(status) -> str:
    return str(STATUS_LABELS.get(status, status))


def category_label(category) -> str:
    return str(CATEGORY_LABELS.get(category, category))


@bp.app_context_processor
def _document_helpers():
    return {"doc_title": doc_title, "category_label": category_label, "document_status": document_status}


def _read(instance_id, doc_id):
    version = request.args.get("version", type=int)
    return engine.get_document(db.session, instance_id, doc_id, current_user.actor, version)


def _context(doc, versions) -> dict:
    try:
        sources = Sources(engine.process_sources(db.session, doc.process_id, doc.process_version))
    except engine.ProcessNotFound:
        sources = Sources({})
    sections, variables = present_data(doc.content, sources)
    return {"doc": doc, "versions": versions, "sections": sections, "variables": variables}


def document_pdf(doc, versions) -> bytes:
    """The document laid out for print, as PDF bytes (WeasyPrint; CJK text needs a CJK font)."""
    html = render_template("pages/document_pdf.html", **_context(doc, versions))
    return HTML(string=html, base_url=request.url_root).write_pdf()


@bp.get("/instances/<int:instance_id>/documents/<doc_id>")
def instance_document(instance_id, doc_id):
    """One of the regulation's documents (a version with `?version=`), for reading and printing."""
    doc, versions = _read(instance_id, doc_id)
    return render_template("pages/document.html", **_context(doc, versions))


@bp.get("/instances/<int:instance_id>/documents/<doc_id>.pdf")
def instance_document_pdf(instance_id, doc_id):
    """The same document as a PDF download."""
    doc, versions = _read(instance_id, doc_id)
    response = Response(document_pdf(doc, versions), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{doc_id}-v{doc.version}.pdf"'
    return response


@bp.post("/instances/<int:instance_id>/documents/<doc_id>/reviews")
def submit_for_review(instance_id, doc_id):
    """Submit the latest version for review (R4.3.1); the review runs as its own instance."""
    review = engine.submit_for_review(
        db.session, instance_id, doc_id, current_user.actor, note=request.form.get("note", ""), clock=clock()
    )
    db.session.commit()
    flash(gettext("文檔已提交審核。"), "success")
    return redirect(url_for("pages.instance", instance_id=review.id)), 303

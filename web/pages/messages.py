"""Messages people send to a running instance from its page: a change request (R3.4.5) while the
vendor implements, a problem report (R3.6.4) in the support period. The form is the message start event's own Camunda Form (forms/change_request
.form); the submission goes through engine.send_message, which decides whether the instance
accepts it now and whether the sender's group may send it. The page only offers what the engine
says the instance takes now (`accepted_messages`) and the diagram lets the user send, so nobody fills in a form that is bound to be refused.
"""

from dataclasses import dataclass

from flask import flash, jsonify, url_for
from flask_babel import gettext
from flask_login import current_user
from lxml import etree

import engine

from ..extensions import db
from ..extensions import engine_clock as clock
from ..transactions import committed
from . import bp
from .sources import BPMN, CAMUNDA, PARSER, Sources
from .tasks import parse_submission


@dataclass
class MessageOffer:
    """A message the current user may send to the instance now, and the form to send it with."""

    name: str  # the BPMN message name, e.g. change_request
    title: str  # the start event's name, e.g. 收到變更請求
    schema: dict
    submit_url: str


def _catchers(sources: Sources):
    """(message name, start event element, its camunda:properties) for each message start event."""
    for filename, text in sources.files.items():
        if not filename.endswith(".bpmn"):
            continue
        try:
            root = etree.fromstring(text.encode("utf-8"), PARSER)
        except etree.XMLSyntaxError:
            continue
        names = {m.get("id"): m.get("name") for m in root.iter(f"{{{BPMN}}}message")}
        for event in root.iter(f"{{{BPMN}}}startEvent"):
            definition = event.find(f"{{{BPMN}}}messageEventDefinition")
            if definition is None or definition.get("messageRef") not in names:
                continue
            properties = {p.get("name"): p.get("value") or "" for p in event.iter(f"{{{CAMUNDA}}}property")}
            yield names[definition.get("messageRef")], event, properties


def _split(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


def message_offers(instance, sources: Sources) -> list[MessageOffer]:
    """The messages with a form that `instance` accepts now from the current user."""
    if instance.status != "running" or not current_user.is_authenticated:
        return []
    offers = []
    for name, event, properties in _catchers(sources):
        senders = _split(properties.get("senderGroups"))
        schema = sources.forms.get(event.get(f"{{{CAMUNDA}}}formRef") or "")
        if schema is None or name not in instance.accepted_messages:
            continue
        if senders and not senders & set(current_user.groups):
            continue
        offers.append(
            MessageOffer(
                name=name,
                title=event.get("name") or name,
                schema=schema,
                submit_url=url_for("pages.send_message", instance_id=instance.id, message_name=name),
            )
        )
    return offers


@bp.app_context_processor
def _message_helpers():
    return {"message_offers": message_offers}


@bp.post("/instances/<int:instance_id>/messages/<message_name>")
def send_message(instance_id, message_name):
    """Send a message with its form's data (posted by form.js as JSON, like a task's form)."""
    submission = parse_submission()
    info = committed(
        lambda: engine.send_message(
            db.session, instance_id, message_name, submission["data"], current_user.actor, clock=clock()
        )
    )
    flash(gettext("已提交，流程已收到。"), "success")
    return jsonify(redirect=url_for("pages.instance", instance_id=info.id), instance_id=info.id)

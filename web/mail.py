"""E-mail of outbox notifications over SMTP (configured by SMTP_HOST etc.; off when unset).

A user's address is their user name when it is one (`a@b`), else `<name>@MAIL_DOMAIN`; without
MAIL_DOMAIN such a user gets no e-mail and sees the notification in the web UI only. A name that
is not ASCII (張三) makes an address only a server with SMTPUTF8 takes; elsewhere that user is
left out of the message (and told in the web UI only).

`send` reports each note's outcome, so one note the server cannot take never holds up the rest:
accepted, failed for now (a 4xx answer: tried again later), refused for good (a 5xx answer, or a
message that cannot be written), or not tried because the session broke (tried next round).
"""

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from flask import current_app

SUBJECT_LENGTH = 120


@dataclass
class Outcome:
    sent: list = field(default_factory=list)  # ids accepted by the server (or with nobody to mail)
    # Of those, ids the server took for some recipients and refused for others -> who and why. Not
    # sent again: those who got it would get it twice.
    partly: dict = field(default_factory=dict)
    failed: dict = field(default_factory=dict)  # id -> why, for now (try again later)
    refused: dict = field(default_factory=dict)  # id -> why, for good
    unsent: list = field(default_factory=list)  # ids not tried: the session broke first


def configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def address(username: str) -> str | None:
    if "@" in username:
        return username
    domain = current_app.config.get("MAIL_DOMAIN")
    return f"{username}@{domain}" if domain else None


def subject(text: str) -> str:
    """The notification's first language (the text before " / "), on one line: a header may not
    hold a line break, and a script's notification can carry one from a form's comment."""
    return " ".join(text.split(" / ")[0].split())[:SUBJECT_LENGTH]


def _message(sender, to, text) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject(text)
    message.set_content(text)
    return message


def _answer(error) -> tuple[bool, str]:
    """(for good?, why) of a refusal: 5xx is permanent, 4xx is for now."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        why = "; ".join(f"{who}: {code} {text!r}" for who, (code, text) in error.recipients.items())
        return all(code >= 500 for code in codes), f"recipients refused: {why}"
    return error.smtp_code >= 500, f"{error.smtp_code} {error.smtp_error!r}"


def send(outgoing) -> Outcome:
    """E-mail each claimed notification (engine.Outgoing) in one SMTP session, and say what
    became of each. One the server accepted counts as sent even when the session fails
    afterwards (a timeout later in the batch, a refused QUIT): sending it again would deliver it
    twice."""
    config = current_app.config
    sender = config.get("SMTP_FROM") or "upgradeflow@localhost"
    outcome = Outcome()
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), timeout=10) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            smtp.ehlo_or_helo_if_needed()
            utf8 = smtp.has_extn("smtputf8")
            for note in outgoing:
                addresses = [a for a in map(address, note.usernames) if a]
                to = addresses if utf8 else [a for a in addresses if a.isascii()]
                if not addresses:
                    outcome.sent.append(note.id)  # nobody with an address: shown in the web UI only
                    continue
                if not to:
                    outcome.refused[note.id] = f"no address this server takes (no SMTPUTF8): {addresses}"
                    continue
                try:
                    refused = smtp.send_message(_message(sender, to, note.text))
                except smtplib.SMTPSenderRefused:
                    raise  # SMTP_FROM is refused: the configuration's fault, not this note's
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
                    for_good, why = _answer(error)
                    (outcome.refused if for_good else outcome.failed)[note.id] = why
                    continue
                except (ValueError, UnicodeError, smtplib.SMTPNotSupportedError) as error:
                    outcome.refused[note.id] = f"cannot be written as a message: {error}"
                    continue
                outcome.sent.append(note.id)
                if refused:  # some recipients only; those that were taken have it
                    why = "; ".join(f"{who}: {code} {text!r}" for who, (code, text) in refused.items())
                    outcome.partly[note.id] = f"not delivered to: {why}"
    except (OSError, smtplib.SMTPException) as error:
        current_app.logger.warning("SMTP unavailable: %s", error)
    done = set(outcome.sent) | set(outcome.failed) | set(outcome.refused)
    outcome.unsent = [note.id for note in outgoing if note.id not in done]
    for note_id, why in {**outcome.refused, **outcome.partly}.items():
        current_app.logger.warning("notification %s cannot be e-mailed: %s", note_id, why)
    return outcome

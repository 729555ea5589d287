"""E-mail of outbox notifications over SMTP (configured by SMTP_HOST etc.; off when unset).

A user's address is their user name when it is one (`a@b`), else `<name>@MAIL_DOMAIN`; without
MAIL_DOMAIN such a user gets no e-mail and sees the notification in the web UI only.
"""

import smtplib
from email.message import EmailMessage

from flask import current_app


def configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def address(username: str) -> str | None:
    if "@" in username:
        return username
    domain = current_app.config.get("MAIL_DOMAIN")
    return f"{username}@{domain}" if domain else None


def send(outgoing) -> list[int]:
    """E-mail each claimed notification (engine.Outgoing) in one SMTP session. Returns the ids of
    those that failed (the caller releases them for the next round). One the server accepted
    counts as sent even when the session fails afterwards (a timeout later in the batch, a
    refused QUIT): sending it again would deliver it twice."""
    config = current_app.config
    done = set()  # accepted by the server, or nobody to send to
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), timeout=10) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            for note in outgoing:
                to = [a for a in map(address, note.usernames) if a]
                if not to:
                    done.add(note.id)  # nobody with an address: shown in the web UI only
                    continue
                message = EmailMessage()
                message["From"] = config.get("SMTP_FROM") or "upgradeflow@localhost"
                message["To"] = ", ".join(to)
                message["Subject"] = note.text.split(" / ")[0][:120]
                message.set_content(note.text)
                try:
                    smtp.send_message(message)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException):
                    continue  # the server refused this one; the session goes on
                done.add(note.id)
    except (OSError, smtplib.SMTPException) as error:
        current_app.logger.warning("SMTP unavailable: %s", error)
    return [note.id for note in outgoing if note.id not in done]

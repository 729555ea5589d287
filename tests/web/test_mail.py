"""E-mail of the outbox: at least once, each note on its own (one the server cannot take never
holds up the rest), and the reason kept for one that can never be delivered."""

from email import message_from_bytes
from email.policy import default

from sqlalchemy import select

import engine
from engine.models import NotificationRecord
from engine.notifications import MAIL_LEASE, MAX_MAIL_ATTEMPTS
from web.extensions import db
from web.worker import run_once


def note(app, clock, recipient, text="通知 / Notice"):
    with app.app_context():
        row = NotificationRecord(recipient=recipient, kind="message", text=text, created_at=clock())
        db.session.add(row)
        db.session.commit()
        return row.id


def states(app):
    """{id: (sent?, attempts, mail_error)} of every notification."""
    with app.app_context():
        rows = db.session.execute(
            select(
                NotificationRecord.id,
                NotificationRecord.sent_at,
                NotificationRecord.attempts,
                NotificationRecord.mail_error,
            )
        ).all()
    return {r.id: (r.sent_at is not None, r.attempts, r.mail_error) for r in rows}


def messages(smtp):
    return [message_from_bytes(text.encode(), policy=default) for text in smtp.received]


def test_a_rejection_comment_with_a_line_break_is_mailed_with_a_one_line_subject(app, drive, people, smtp):
    """The diagram tells the applicant the reviewer's comment; a comment of two lines once made
    a header the mail library refused, and the worker stopped with the batch marked sent."""
    people["it"]
    instance_id = drive.start(people["business"].user)
    drive.complete(instance_id, "preliminary_review", decision="reject", comment="不在規劃內。\n明年再申請。")
    with app.app_context():
        counts = run_once()
    assert counts["mailed"] == 3  # the task for `it`, the rejection, the end
    assert all(sent and error is None for sent, _, error in states(app).values())
    rejection = next(m for m in messages(smtp) if m["Subject"].startswith("需求申請已駁回"))
    assert rejection["Subject"] == "需求申請已駁回：不在規劃內。 明年再申請。"
    assert rejection.get_content().splitlines() == ["需求申請已駁回：不在規劃內。", "明年再申請。"]


def test_a_name_this_server_cannot_address_is_left_out_and_the_rest_is_mailed(app, make_user, clock, smtp):
    """張三@example.com needs SMTPUTF8, which this server does not offer: the note to 張三 alone
    is undeliverable (saying why); a group note reaches the group's other members; the note
    after them is mailed too."""
    make_user("張三", "it")
    make_user("it1", "it")
    make_user("alice", "business")
    only_him, group, after = note(app, clock, "張三"), note(app, clock, "group:it"), note(app, clock, "alice")
    with app.app_context():
        assert run_once()["mailed"] == 2
    result = states(app)
    assert result[only_him][0] is False and "SMTPUTF8" in result[only_him][2]
    assert result[group] == (True, 0, None) and result[after] == (True, 0, None)
    assert [m["To"] for m in messages(smtp)] == ["it1@example.com", "alice@example.com"]
    with app.app_context():
        assert run_once()["mailed"] == 0  # the undeliverable one is not tried again
    assert len(smtp.received) == 2


def test_the_same_name_is_mailed_where_the_server_takes_utf8(app, make_user, clock, smtp):
    smtp.utf8 = True
    make_user("張三", "it")
    only_him = note(app, clock, "張三")
    with app.app_context():
        assert run_once()["mailed"] == 1
    assert states(app)[only_him] == (True, 0, None)
    assert len(smtp.received) == 1


def test_refused_addresses_are_given_up_and_do_not_hold_up_the_outbox(app, make_user, clock, smtp):
    """A departed user with 25 notes (550: no such user) once took the first 20 places of every
    round for ever; now each is marked undeliverable with the server's answer."""
    make_user("alice", "business")
    smtp.refuse["gone@example.com"] = b"550 no such user"
    refused = [note(app, clock, "gone") for _ in range(25)]
    wanted = note(app, clock, "alice")
    with app.app_context():
        run_once()
        run_once()
    result = states(app)
    assert result[wanted] == (True, 0, None)
    assert all(not result[i][0] and "550" in result[i][2] for i in refused)
    assert len(smtp.received) == 1


def test_a_group_note_some_members_could_not_get_says_who(app, make_user, clock, smtp):
    """The server took a group's note for one member and refused another (451, 550): the refusal
    was dropped without a word. Now it is kept beside the note, which is not sent again (the
    member who got it would get it twice)."""
    make_user("it1", "it")
    make_user("it2", "it")
    make_user("it3", "it")
    smtp.refuse["it2@example.com"] = b"451 mailbox busy"
    smtp.refuse["it3@example.com"] = b"550 no such user"
    sent = note(app, clock, "group:it")
    with app.app_context():
        run_once()
        run_once()
    done, attempts, error = states(app)[sent]
    assert (done, attempts) == (True, 0)
    assert "it2@example.com: 451" in error and "it3@example.com: 550" in error and "it1" not in error
    assert len(smtp.received) == 1 and "it1@example.com" in messages(smtp)[0]["To"]


def test_a_note_refused_for_now_is_tried_again_behind_the_others_then_given_up(app, make_user, clock, smtp):
    make_user("alice", "business")
    make_user("bob", "business")
    smtp.refuse["bob@example.com"] = b"451 try again later"
    later = note(app, clock, "bob")
    for attempt in range(1, MAX_MAIL_ATTEMPTS + 1):
        with app.app_context():
            run_once()
        sent, attempts, error = states(app)[later]
        assert (sent, attempts) == (False, attempt)
        assert (error is None) == (attempt < MAX_MAIL_ATTEMPTS)
        if attempt == 1:  # a new note goes first, ahead of the one that failed
            first = note(app, clock, "alice")
    assert "gave up after" in error and "451" in error
    assert states(app)[first] == (True, 0, None)
    with app.app_context():
        run_once()
    assert states(app)[later][1] == MAX_MAIL_ATTEMPTS  # not tried again


def test_a_claim_left_by_a_worker_that_died_is_claimed_again_when_its_lease_runs_out(
    app, make_user, clock, smtp
):
    make_user("alice", "business")
    lost = note(app, clock, "alice")
    with app.app_context():
        assert [o.id for o in engine.claim_unsent(db.session, clock=clock)] == [lost]
        db.session.commit()  # ... and the worker is killed before it sends
        assert run_once()["mailed"] == 0  # leased: another worker leaves it alone
    clock.advance(seconds=MAIL_LEASE.total_seconds() + 1)
    with app.app_context():
        assert run_once()["mailed"] == 1
    assert states(app)[lost] == (True, 0, None)
    assert len(smtp.received) == 1


def test_a_server_that_cannot_be_reached_costs_no_attempt(app, make_user, clock, smtp):
    make_user("alice", "business")
    waiting = note(app, clock, "alice")
    app.config["SMTP_PORT"] = 1  # nothing listens there
    for _ in range(MAX_MAIL_ATTEMPTS + 2):
        with app.app_context():
            assert run_once()["mailed"] == 0
    assert states(app)[waiting] == (False, 0, None)
    app.config["SMTP_PORT"] = smtp.server_address[1]
    with app.app_context():
        assert run_once()["mailed"] == 1
    assert states(app)[waiting][0] is True


def test_a_refused_sender_is_the_configurations_fault_and_gives_up_no_note(app, make_user, clock, smtp):
    """553 to MAIL FROM would refuse every note: none is marked undeliverable for it, and they
    go out once SMTP_FROM is fixed."""
    make_user("alice", "business")
    waiting = note(app, clock, "alice")
    smtp.refuse_sender = b"553 sender not allowed"
    with app.app_context():
        assert run_once()["mailed"] == 0
    assert states(app)[waiting] == (False, 0, None)
    smtp.refuse_sender = None
    with app.app_context():
        assert run_once()["mailed"] == 1
    assert states(app)[waiting][0] is True

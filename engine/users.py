"""Users, groups and API tokens. Passwords are hashed (scrypt); tokens are stored as SHA-256.

Every function takes the caller's SQLAlchemy session and only flushes; the caller commits.
"""

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from werkzeug.security import check_password_hash, generate_password_hash

from .errors import EngineError
from .groups import GROUP_IDS, GROUPS
from .models import GroupRecord, MembershipRecord, TokenRecord, UserRecord
from .tasks import Actor

MIN_PASSWORD_LENGTH = 8
# How passwords are stored: werkzeug's scrypt, deliberately slow (about 0.1 s a hash). The test
# suite, which creates thousands of users, sets a cheap PASSWORD_METHOD; nothing else changes it.
STORED_PASSWORD_METHOD = "scrypt"
PASSWORD_METHOD = STORED_PASSWORD_METHOD
DEMO_PASSWORD = "demo-password"  # printed by `upgradeflow demo`; demo users are marked is_demo


class UserError(EngineError):
    """A user could not be created or changed (duplicate name, unknown group, weak password)."""


@dataclass(frozen=True)
class User:
    """A user as the web layer sees it."""

    id: int
    username: str
    display_name: str | None
    groups: frozenset
    is_admin: bool
    is_demo: bool
    locale: str | None
    session_epoch: int = 0

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.groups, self.is_admin)


def _view(record: UserRecord) -> User:
    return User(
        id=record.id,
        username=record.username,
        display_name=record.display_name,
        groups=frozenset(m.group_id for m in record.memberships),
        is_admin=record.is_admin,
        is_demo=record.is_demo,
        locale=record.locale,
        session_epoch=record.session_epoch or 0,
    )


def end_sessions(session, user_id) -> None:
    """Refuse every web session of the user signed before now (at logout)."""
    record = session.get(UserRecord, user_id)
    if record is not None:
        record.session_epoch = (record.session_epoch or 0) + 1
        session.flush()


def ensure_groups(session) -> None:
    """Create the groups (the regulation's six departments and the process owners) if missing."""
    existing = set(session.scalars(select(GroupRecord.id)))
    for group in GROUPS:
        if group.id not in existing:
            session.add(GroupRecord(id=group.id, name_zh=group.name_zh, name_en=group.name_en))
    session.flush()


# Names the app itself uses for someone other than a user: a user so named would read what is
# meant for everyone, or stand for the command line or the engine in the event log.
RESERVED_NAMES = {
    "all": "notifications to everyone are addressed to it",
    "cli": "the command line acts under it",
    "system": "steps no person took are logged under it",
}


def create_user(
    session, username, password, groups=(), *, is_admin=False, is_demo=False, display_name=None
) -> User:
    """Create a user in the given groups. Returns User. Raises UserError naming the problem."""
    username = (username or "").strip()
    if (
        not username
        or len(username) > 80
        or not username.replace("_", "").replace("-", "").replace(".", "").isalnum()
    ):
        raise UserError(f"invalid user name {username!r}: letters, digits, '.', '_' or '-', at most 80")
    if username.lower() in RESERVED_NAMES:
        raise UserError(f"the user name {username!r} is reserved: {RESERVED_NAMES[username.lower()]}")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    unknown = set(groups) - GROUP_IDS
    if unknown:
        raise UserError(
            f"unknown group(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(GROUP_IDS))}"
        )
    if session.scalar(select(UserRecord.id).where(UserRecord.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    ensure_groups(session)
    record = UserRecord(
        username=username,
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
        display_name=display_name,
        is_admin=is_admin,
        is_demo=is_demo,
        created_at=datetime.now(UTC),
        memberships=[MembershipRecord(group_id=g) for g in sorted(set(groups))],
    )
    session.add(record)
    session.flush()
    return _view(record)


def get_user(session, user_id) -> User | None:
    """The user with that id, or None."""
    record = session.get(UserRecord, user_id)
    return _view(record) if record else None


def get_user_by_name(session, username) -> User | None:
    """The user with that name, or None."""
    record = session.scalar(select(UserRecord).where(UserRecord.username == username))
    return _view(record) if record else None


def authenticate(session, username, password) -> User | None:
    """The user if the password matches, else None (same answer for unknown users)."""
    record = session.scalar(select(UserRecord).where(UserRecord.username == (username or "")))
    if record is None:
        # As slow as a wrong password, so the time taken does not tell which names exist.
        check_password_hash(_unknown_user_hash(PASSWORD_METHOD), password or "")
        return None
    if not check_password_hash(record.password_hash, password or ""):
        return None
    return _view(record)


@functools.cache
def _unknown_user_hash(method) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def set_locale(session, user_id, locale) -> None:
    """Remember the user's language choice ('zh' or 'en')."""
    record = session.get(UserRecord, user_id)
    if record is not None:
        record.locale = locale
        session.flush()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session, user: User) -> str:
    """A new API token for the user; only its hash is stored. Returns the token text."""
    token = secrets.token_urlsafe(32)
    session.add(TokenRecord(user_id=user.id, token_hash=_hash_token(token), created_at=datetime.now(UTC)))
    session.flush()
    return token


# Built once: every API call asks, and building the statement cost twice what running it does.
_USER_OF_TOKEN = (
    select(
        UserRecord.id,
        UserRecord.username,
        UserRecord.display_name,
        UserRecord.is_admin,
        UserRecord.is_demo,
        UserRecord.locale,
        MembershipRecord.group_id,
    )
    .join(TokenRecord, TokenRecord.user_id == UserRecord.id)
    .outerjoin(MembershipRecord, MembershipRecord.user_id == UserRecord.id)
    .where(TokenRecord.token_hash == bindparam("token_hash"), TokenRecord.revoked_at.is_(None))
)


def user_for_token(session, token) -> User | None:
    """The user a valid, unrevoked token belongs to, or None. One query: every API call asks."""
    if not token:
        return None
    rows = session.connection().execute(_USER_OF_TOKEN, {"token_hash": _hash_token(token)}).all()
    if not rows:
        return None
    first = rows[0]
    return User(
        id=first.id,
        username=first.username,
        display_name=first.display_name,
        groups=frozenset(row.group_id for row in rows if row.group_id is not None),
        is_admin=first.is_admin,
        is_demo=first.is_demo,
        locale=first.locale,
    )


def revoke_token(session, token) -> bool:
    """Revoke a token. Returns whether a live token was revoked."""
    record = session.scalar(select(TokenRecord).where(TokenRecord.token_hash == _hash_token(token)))
    if record is None or record.revoked_at is not None:
        return False
    record.revoked_at = datetime.now(UTC)
    session.flush()
    return True


def create_demo_users(session) -> list[tuple[str, str]]:
    """One demo user per group plus an admin (marked is_demo). Returns [(username, password)]."""
    created = []
    for group in GROUPS:
        name = f"demo_{group.id}"
        if get_user_by_name(session, name) is None:
            create_user(
                session,
                name,
                DEMO_PASSWORD,
                [group.id],
                is_demo=True,
                display_name=f"{group.name_zh}（演示）",
            )
        created.append((name, DEMO_PASSWORD))
    if get_user_by_name(session, "demo_admin") is None:
        create_user(
            session,
            "demo_admin",
            DEMO_PASSWORD,
            [],
            is_admin=True,
            is_demo=True,
            display_name="管理員（演示）",
        )
    created.append(("demo_admin", DEMO_PASSWORD))
    return created

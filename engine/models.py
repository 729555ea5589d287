"""The database tables (SQLAlchemy 2 declarative models; no Flask).

The web layer binds these to Flask-SQLAlchemy with `SQLAlchemy(model_class=Base)`; the schema
changes only through Alembic revisions in `migrations/`.

- `InstanceRecord.version_id` is the optimistic lock: a save that lost a race raises
  `StaleDataError` and the caller answers 409, never overwriting someone else's step.
- `TaskRecord` is a projection of ready human tasks, written in the same transaction as the
  instance state, so inboxes never deserialize workflows.
- `EventRecord` is append-only: what happened to which instance, by whom, with what data.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class UserRecord(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(120))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    memberships: Mapped[list["MembershipRecord"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class GroupRecord(Base):
    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))


class MembershipRecord(Base):
    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    user: Mapped[UserRecord] = relationship(back_populates="memberships")


class TokenRecord(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user: Mapped[UserRecord] = relationship(lazy="joined")


class ProcessVersionRecord(Base):
    """One deployed version of one process: its sources as deployed and its parsed definition."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    # Deferred: large, and read only when a version is first used or downloaded.
    sources: Mapped[dict] = mapped_column(JSON, deferred=True)  # file name -> text, as deployed
    definition: Mapped[dict] = mapped_column(JSON, deferred=True)  # ProcessDefinition.dump()
    deployed_by: Mapped[str | None] = mapped_column(String(80))
    deployed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InstanceRecord(Base):
    __tablename__ = "instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), index=True)
    initiator: Mapped[str] = mapped_column(String(80), index=True)
    state: Mapped[dict] = mapped_column(JSON)
    state_format: Mapped[int] = mapped_column(Integer)
    waiting_at: Mapped[str | None] = mapped_column(Text)  # ready element ids, comma-separated
    timer_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    error: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version_id: Mapped[int] = mapped_column(Integer, nullable=False)
    process_version: Mapped[ProcessVersionRecord] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012 - SQLAlchemy's own convention


class TaskRecord(Base):
    """A ready human task (projection of instance state)."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_group_assignee", "group_id", "assignee"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task id, stable
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(300))
    group_id: Mapped[str | None] = mapped_column(String(40))
    groups: Mapped[list] = mapped_column(JSON)
    users: Mapped[list] = mapped_column(JSON)
    assignee: Mapped[str | None] = mapped_column(String(80), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(80))  # set when assignee came from a claim
    form_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class EventRecord(Base):
    """Append-only log of every change of an instance."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    actor: Mapped[str | None] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict | None] = mapped_column(JSON)


class NotificationRecord(Base):
    """Messages the procedure asked to send (`notify(...)` in scripts), delivered after commit."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(80), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SnapshotRecord(Base):
    """An instance's state before an admin replaced it (replay, migration), kept for undo."""

    __tablename__ = "instance_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    state: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

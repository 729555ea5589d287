"""The database tables (SQLAlchemy 2 declarative models; no Flask).

The web layer binds these to Flask-SQLAlchemy with `SQLAlchemy(model_class=Base)`; the schema
changes only through Alembic revisions in `migrations/`.

- `InstanceRecord.version_id` is the optimistic lock: a save that lost a race raises
  `StaleDataError` and the caller answers 409, never overwriting someone else's step.
- `TaskRecord` is a projection of ready human tasks, written in the same transaction as the
  instance state, so inboxes never deserialize workflows.
- `EventRecord` is append-only: what happened to which instance, by whom, with what data.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
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
    # Raised at each logout: a session signed before carries the old number and is refused, so
    # a copied session cookie dies with the logout (the cookie itself lives in the browser).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
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
    __table_args__ = (Index("ix_instances_initiator_status", "initiator", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), index=True)
    initiator: Mapped[str] = mapped_column(String(80), index=True)
    state: Mapped[dict] = mapped_column(JSON)
    state_format: Mapped[int] = mapped_column(Integer)
    waiting_at: Mapped[str | None] = mapped_column(Text)  # ready element ids, comma-separated
    phase: Mapped[str | None] = mapped_column(String(20), index=True)  # the regulation's (phases.py)
    timer_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    error: Mapped[dict | None] = mapped_column(JSON)
    # The process data as the last step left it (the list shows it without reading the state);
    # None for an instance not saved since revision 0119.
    data: Mapped[dict | None] = mapped_column(JSON, deferred=True)
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
    # Open to more than one group or to candidate users: the inbox asks `may_complete` of it.
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)
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
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)  # mail accepted
    # E-mail delivery (engine/notifications.py): when a worker claimed it, how many sends failed,
    # and why it can never be delivered (then no worker claims it again).
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    mail_error: Mapped[str | None] = mapped_column(Text)
    # message (a script's notify), task_assigned, due_soon, overdue, ended (engine/notifications.py)
    kind: Mapped[str | None] = mapped_column(String(20))
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # Unique where set: an escalation is recorded once per task, however many workers run.
    key: Mapped[str | None] = mapped_column(String(80), unique=True, index=True)


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


class PlanRecord(Base):
    """One version of a year's upgrade plan (年度升級改造計劃, R2.1.1): a draft, then published.

    A published version is never changed again; a revision is a new draft version of the same
    year with the items copied (`revision_of_id` names the version it started from).
    """

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("year", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # draft | published
    budget_ceiling: Mapped[float] = mapped_column(Numeric(14, 2))
    owner: Mapped[str] = mapped_column(String(80))
    revision_of_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(80))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    items: Mapped[list["PlanItemRecord"]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", lazy="selectin", order_by="PlanItemRecord.id"
    )


class PlanItemRecord(Base):
    """A pool requirement (its instance) placed in a plan version with a quarter and a budget."""

    __tablename__ = "plan_items"
    __table_args__ = (UniqueConstraint("plan_id", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    quarter: Mapped[str] = mapped_column(String(2))  # Q1..Q4
    planned_budget: Mapped[float] = mapped_column(Numeric(14, 2))
    plan: Mapped[PlanRecord] = relationship(back_populates="items")


class DocumentVersionRecord(Base):
    """One version of one of the regulation's documents of an instance (R4), never overwritten.

    `content` is the data it was made from; it is emptied (NULL) when the document is destroyed
    at the end of its retention, while the row, its hash and who destroyed it stay.
    """

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("instance_id", "document_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[dict | None] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    author: Mapped[str | None] = mapped_column(String(80))
    reviewer: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signoffs: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    destroyed_by: Mapped[str | None] = mapped_column(String(80))
    # The `document_review` instance this version was submitted to (R4.3.1), and its archival.
    review_instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_by: Mapped[str | None] = mapped_column(String(80))


class CostRecord(Base):
    """Money actually spent on a project (R2.3.2), recorded by finance; append-only."""

    __tablename__ = "project_costs"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(20))  # licences | implementation | training | other
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    spent_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(String(300))
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UploadRecord(Base):
    """A file attached to the task that asked for it; the content is on disk by its SHA-256."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Past its category's retention (R4.3.5): the row and its hash stay, the file is deleted.
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    destroyed_by: Mapped[str | None] = mapped_column(String(80))


class RaisedRiskRecord(Base):
    """A risk raised during a project outside the risk steps (R5.4.3: new risks), append-only."""

    __tablename__ = "raised_risks"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    likelihood: Mapped[str] = mapped_column(String(10))
    impact: Mapped[str] = mapped_column(String(10))
    priority: Mapped[str | None] = mapped_column(String(10))
    measures: Mapped[str | None] = mapped_column(Text)
    raised_by: Mapped[str] = mapped_column(String(80))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

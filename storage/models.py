"""SQLAlchemy 2 models: the record of patients, their diary, alerts and what happened when.

Times are stored as timezone-aware UTC instants; a patient's diary day is their *local* date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import IntEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; store aware UTC instants")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# Stable constraint names, so that migrations (and SQLite batch mode) can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict: JSON}


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(100))
    # active | discharged
    status: Mapped[str] = mapped_column(String(16), default="active")
    consented_at: Mapped[datetime]
    checkin_time: Mapped[str] = mapped_column(String(5))  # local "HH:MM"
    timezone: Mapped[str] = mapped_column(String(64))
    enrolled_on: Mapped[date] = mapped_column(Date)
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id"), nullable=True)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    # Exercise programme: a plan from bot/content/exercises.yaml and the local reminder times.
    plan_id: Mapped[str | None] = mapped_column(String(24), nullable=True)
    exercise_times: Mapped[str] = mapped_column(String(64), default="")  # "10:00,18:00"
    # Times the patient picked are theirs even at night; clinic defaults respect quiet hours.
    exercise_times_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The weekly summary: local weekday (0 Monday .. 6 Sunday; None: off) and time (None: the
    # check-in time).
    weekly_day: Mapped[int | None] = mapped_column(SmallInteger, nullable=True, default=6)
    weekly_time: Mapped[str | None] = mapped_column(String(5), nullable=True)
    # From the invite: how staff reach the patient, and the clinic's own record number.
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    clinic_ref: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime]
    discharged_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Only a hash of the code is kept: a database leak does not leak usable invites.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    clinic_ref: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The first Telegram account that opened the link: nobody else can use it.
    claimed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Set when staff re-issue the invite: the old link stops working.
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Conversation(Base):
    """Where a user is in a multi-step flow (onboarding, settings). Lives in the database so
    that a restart, or another replica, carries on from the same step."""

    __tablename__ = "conversations"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    # A short random token carried in this flow's buttons, so a button of an older flow is stale.
    nonce: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict] = mapped_column(default=dict)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[datetime]


class CheckinDraft(Base):
    """A check-in in progress, saved after every answer."""

    __tablename__ = "checkin_drafts"

    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    nonce: Mapped[str] = mapped_column(String(16))
    local_day: Mapped[date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(32))
    leg_pain: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    back_pain: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    numbness: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    weakness: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    weakness_worsening: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    red_flag: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    exercises: Mapped[str | None] = mapped_column(String(8), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CheckinEntry(Base):
    """One check-in. A day may have several: all are kept, and the latest counts for that
    day's rules. ``red_flag`` and ``exercises`` are None when the check-in closed on the urgent
    path before asking them."""

    __tablename__ = "checkin_entries"
    __table_args__ = (Index("ix_checkin_entries_patient_day", "patient_id", "local_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    local_day: Mapped[date] = mapped_column(Date)
    leg_pain: Mapped[int] = mapped_column(SmallInteger)
    back_pain: Mapped[int] = mapped_column(SmallInteger)
    numbness: Mapped[bool] = mapped_column(Boolean)
    weakness: Mapped[bool] = mapped_column(Boolean)
    weakness_worsening: Mapped[bool] = mapped_column(Boolean, default=False)
    red_flag: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    exercises: Mapped[str | None] = mapped_column(String(8), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Alert(Base):
    """An alert to the clinic: what was found, and who acknowledged it when.

    Its messages to the clinic chat (the first send, updates, re-notifications) are outbox rows
    that name it (``OutboxMessage.ref_id``); they are rendered from this row when sent.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        # One open alert per patient and rule: a new trigger updates it instead.
        Index(
            "uq_alerts_open_rule",
            "patient_id",
            "rule",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))  # urgent | worsening | review
    rule: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | acknowledged
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sends: Mapped[int] = mapped_column(Integer, default=0)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    acknowledged_by_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    # patient | staff | system | operator | visitor (someone not on the staff list)
    actor: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    patient_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(48))
    details: Mapped[dict] = mapped_column(default=dict)


class InboxUpdate(Base):
    """Every update from Telegram, stored before Telegram is told it arrived.

    Handled in order per chat (only the oldest pending update of a chat can be claimed), in
    parallel across chats, and marked done in the same transaction as its effects.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        Index(
            "ix_inbox_pending",
            "chat_id",
            "update_id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)  # 0: an update that has no chat
    payload: Mapped[dict]
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending | done | failed
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class RelayedQuestion(Base):
    """A patient's question passed to the clinic, and the staff reply."""

    __tablename__ = "relayed_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text)
    # Where it was relayed: message ids are per chat, so a reply is matched on both.
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    created_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    answered_by_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Reminder(Base):
    """A recurring local time for a patient; ``next_at`` (UTC) is when it is next due.

    The database is the schedule: one repeating tick claims rows whose ``next_at`` has come
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), queues an ``OutboxMessage`` for each and moves
    ``next_at`` on, in one transaction, so a restart or a second process neither loses nor
    repeats one.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("patient_id", "kind", "local_time", name="uq_reminder_slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # checkin | exercise
    local_time: Mapped[str] = mapped_column(String(5))
    next_at: Mapped[datetime] = mapped_column(index=True)


class Priority(IntEnum):
    """The order in which queued messages are sent, and the sending budget is served: the
    outbox's ``priority`` column, and the limiter's waiting line (``bot.delivery.limiter``)."""

    URGENT = 0  # urgent advice to a patient, urgent alerts to the clinic
    ANSWER = 1  # replies and edits answering a person, relayed questions, staff answers
    ALERT = 2  # routine alerts (worsening) and their updates
    REMINDER = 3  # exercise reminders, check-in prompts and nudges
    DIGEST = 4  # the daily clinic digest


class OutboxMessage(Base):
    """Every message the bot starts (outbox): urgent advice, clinic alerts and their
    re-notifications, relayed questions and staff answers, check-in prompts, nudges, exercise
    reminders and the digest. Written in the transaction that decided to send it; claimed by
    priority (``FOR UPDATE SKIP LOCKED`` on PostgreSQL); every attempt is recorded. The dedupe
    key makes a second write of the same message a no-op."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "priority",
            "send_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_outbox_patient", "patient_id"),
        Index(
            "ix_outbox_urgent_pending",
            "chat_id",
            sqlite_where=text("status = 'pending' AND priority = 0"),
            postgresql_where=text("status = 'pending' AND priority = 0"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # urgent_advice | alert | relay | staff_reply | checkin | nudge | exercise | digest
    kind: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(SmallInteger)  # Priority, above
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), nullable=True
    )
    # What the message is about: an alert's id (kind alert), a relayed question's id (relay).
    ref_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The text, for messages written when they are queued; None: rendered when sent.
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Reminders: the occurrence they belong to.
    due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    local_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    slot: Mapped[str | None] = mapped_column(String(5), nullable=True)  # local "HH:MM"
    send_at: Mapped[datetime]
    # pending | sent | skipped | failed
    status: Mapped[str] = mapped_column(String(12), default="pending")
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Set: this row edits that message (in ``chat_id``) instead of sending a new one.
    edit_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class DeliveryAttempt(Base):
    """Every attempt to deliver an outbox message, with its outcome."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="CASCADE"), nullable=True, index=True
    )
    at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))  # sent | retry | failed | blocked
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class ExerciseLog(Base):
    """Adherence: what the patient answered to an exercise reminder."""

    __tablename__ = "exercise_log"
    __table_args__ = (
        UniqueConstraint("patient_id", "local_day", "slot", name="uq_exercise_log_slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    local_day: Mapped[date] = mapped_column(Date)
    slot: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(8))  # done | snoozed | skipped
    at: Mapped[datetime]


class StaffMenu(Base):
    """A chat that was given the staff command menu, so that it can be taken away again when
    its clinician leaves the staff list."""

    __tablename__ = "staff_menus"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    set_at: Mapped[datetime]


class ClinicJob(Base):
    """A clinic-wide recurring job (the daily digest): ``next_at`` in UTC; a process runs it
    by moving ``next_at`` on with a conditional update, so it runs once whatever the replicas."""

    __tablename__ = "clinic_jobs"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_at: Mapped[datetime]


class PromResponse(Base):
    """One questionnaire (a PROM) as the patient answers it: ``answers`` fill in one tap at a
    time, ``score`` is set when it is complete. ``occasion``: joining | review | discharge."""

    __tablename__ = "prom_responses"
    __table_args__ = (Index("ix_prom_responses_patient", "patient_id", "instrument"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    instrument: Mapped[str] = mapped_column(String(16))  # startback | psfs | groc
    occasion: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | done | dropped
    # A short random token carried in the buttons, so a button of another questionnaire is stale.
    nonce: Mapped[str] = mapped_column(String(16))
    step: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[dict] = mapped_column(default=dict)
    score: Mapped[dict | None] = mapped_column(nullable=True)
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)

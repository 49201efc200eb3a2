"""Unit of work: one session and one transaction per command, rolled back unless committed."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.delivery import InboxRepository, OutboxRepository
from storage.repositories import (
    AlertRepository,
    AuditLog,
    CheckinRepository,
    ClinicJobRepository,
    ConversationRepository,
    InviteRepository,
    PatientRepository,
    PromRepository,
    QuestionRepository,
    ReminderRepository,
    StaffMenuRepository,
)


class HandledUpdate:
    """The update being handled in this task (set by the inbox). The first commit of a unit
    of work in its handler marks it done, in the same transaction as the effects."""

    def __init__(self, update_id: int) -> None:
        self.update_id = update_id
        self.marked = False
        self.error: BaseException | None = None


current_update: ContextVar[HandledUpdate | None] = ContextVar("current_update", default=None)


class UnitOfWork:
    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        after_commit: Callable[[int | None], None] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        # Told the most urgent outbox priority committed (to wake the sender at once).
        self._after_commit = after_commit
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessionmaker()
        s = self.session
        self.patients = PatientRepository(s)
        self.invites = InviteRepository(s)
        self.conversations = ConversationRepository(s)
        self.checkins = CheckinRepository(s)
        self.alerts = AlertRepository(s)
        self.audit = AuditLog(s)
        self.questions = QuestionRepository(s)
        self.staff_menus = StaffMenuRepository(s)
        self.proms = PromRepository(s)
        self.reminders = ReminderRepository(s)
        self.clinic_jobs = ClinicJobRepository(s)
        self.inbox = InboxRepository(s)
        self.outbox = OutboxRepository(s)
        return self

    async def __aexit__(self, *exc: object) -> None:
        # close() rolls back whatever was not committed, and (unlike rollback()) leaves the
        # loaded objects readable after the unit of work ends.
        await self.session.close()

    async def commit_aside(self) -> None:
        """Commit without marking the update being handled done: for a fact kept whatever
        becomes of the update (a patient who writes can be reached again). The update is
        marked done later, with its own effects (a crash in between handles it again)."""
        await self.session.commit()

    async def commit(self) -> None:
        handled = current_update.get()
        if handled is not None and not handled.marked:
            await self.inbox.mark_done(handled.update_id, datetime.now(UTC))
        await self.session.commit()
        if handled is not None:
            handled.marked = True
        if self._after_commit is not None and self.outbox.most_urgent is not None:
            self._after_commit(self.outbox.most_urgent)
        self.outbox.most_urgent = None

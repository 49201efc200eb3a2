"""Unit of work: one session and one transaction per command, rolled back unless committed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories import (
    AlertRepository,
    AuditLog,
    CheckinRepository,
    ConversationRepository,
    InviteRepository,
    PatientRepository,
    QuestionRepository,
    UpdateLog,
)


class UnitOfWork:
    def __init__(self, sessionmaker: async_sessionmaker) -> None:
        self._sessionmaker = sessionmaker
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
        self.updates = UpdateLog(s)
        self.questions = QuestionRepository(s)
        return self

    async def __aexit__(self, *exc: object) -> None:
        # close() rolls back whatever was not committed, and (unlike rollback()) leaves the
        # loaded objects readable after the unit of work ends.
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

"""All database access. Repositories never commit: the unit of work does."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Alert,
    AuditEvent,
    CheckinDraft,
    CheckinEntry,
    ClinicJob,
    Conversation,
    ExerciseLog,
    Invite,
    OutboxMessage,
    Patient,
    PromResponse,
    RelayedQuestion,
    Reminder,
    StaffMenu,
)

# Built once (their cache keys are computed once): the lookups of every update a patient sends.
_PATIENT_BY_USER = select(Patient).where(Patient.telegram_user_id == bindparam("user"))
_PATIENT_AND_DRAFT_BY_USER = (
    select(Patient, CheckinDraft)
    .outerjoin(CheckinDraft, CheckinDraft.patient_id == Patient.id)
    .where(Patient.telegram_user_id == bindparam("user"))
)


class _Repo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session


def _row(obj, skip: tuple[str, ...] = ()) -> dict:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}


# What a patient's copy of their data holds: section -> (table, order), their rows only.
_PATIENT_DATA = {
    "diary": (CheckinEntry, CheckinEntry.local_day),
    "checkin_in_progress": (CheckinDraft, CheckinDraft.started_at),
    "alerts_to_the_clinic": (Alert, Alert.created_at),
    "questions": (RelayedQuestion, RelayedQuestion.created_at),
    "questionnaires": (PromResponse, PromResponse.started_at),
    "exercise_log": (ExerciseLog, ExerciseLog.local_day),
    "reminders": (Reminder, Reminder.id),
    "messages_to_you": (OutboxMessage, OutboxMessage.id),
    "activity_log": (AuditEvent, AuditEvent.id),
}


class PatientRepository(_Repo):
    async def by_user(self, telegram_user_id: int, with_draft: bool = False) -> Patient | None:
        """``with_draft``: their check-in draft is loaded in the same query (a button press
        of the check-in needs both; ``CheckinRepository.draft`` then finds it loaded)."""
        if not with_draft:
            return await self.s.scalar(_PATIENT_BY_USER, {"user": telegram_user_id})
        row = (await self.s.execute(_PATIENT_AND_DRAFT_BY_USER, {"user": telegram_user_id})).first()
        if row is None:
            return None
        patient, draft = row
        if draft is not None:
            # The session's identity map holds what it loaded weakly: an unchanged draft
            # nobody refers to is dropped at once, and would be read again. Held for the
            # unit of work (the session's own ``info``), ``CheckinRepository.draft`` finds it.
            self.s.info.setdefault("held", []).append(draft)
        return patient

    def forget_held(self) -> None:
        """After a commit part-way through a unit of work: what ``by_user`` read with the
        patient may have changed since (another chat's unit of work), so it is read again."""
        for obj in self.s.info.pop("held", []):
            if obj in self.s:
                self.s.expunge(obj)

    async def get(self, patient_id: int) -> Patient | None:
        return await self.s.get(Patient, patient_id)

    async def add(self, patient: Patient) -> Patient:
        self.s.add(patient)
        await self.s.flush()
        return patient

    async def mark_unreachable(self, patient_ids: set[int]) -> None:
        await self.s.execute(
            update(Patient).where(Patient.id.in_(patient_ids)).values(unreachable=True)
        )

    async def list_all(self, include_discharged: bool = False) -> list[Patient]:
        q = select(Patient).order_by(Patient.id)
        if not include_discharged:
            q = q.where(Patient.status == "active")
        return list(await self.s.scalars(q))

    async def everything_about(self, patient: Patient) -> dict[str, object]:
        data: dict[str, object] = {"patient": _row(patient, skip=("invite_id",))}
        for section, (model, order) in _PATIENT_DATA.items():
            rows = await self.s.scalars(
                select(model).where(model.patient_id == patient.id).order_by(order)
            )
            data[section] = [_row(r) for r in rows]
        return data

    async def erase(self, patient: Patient) -> None:
        """Delete the patient, every row about them, their invite and any other link they
        opened (both hold their name), and the audit events they caused before they had a
        patient id. Children first, so this does not rely on ON DELETE CASCADE."""
        pid, user_id, invite_id = patient.id, patient.telegram_user_id, patient.invite_id
        for model in (  # alerts before outbox rows: the order the outbox takes locks in
            Alert,
            CheckinDraft,
            CheckinEntry,
            RelayedQuestion,
            PromResponse,
            AuditEvent,
            ExerciseLog,
            Reminder,
            OutboxMessage,
        ):
            await self.s.execute(delete(model).where(model.patient_id == pid))
        await self.s.delete(patient)
        await self.s.flush()
        await self.s.execute(
            delete(Invite).where((Invite.id == invite_id) | (Invite.claimed_by == user_id))
        )
        await self.s.execute(
            delete(AuditEvent).where(AuditEvent.actor == "patient", AuditEvent.actor_id == user_id)
        )


class InviteRepository(_Repo):
    async def add(self, invite: Invite) -> Invite:
        self.s.add(invite)
        await self.s.flush()
        return invite

    async def by_hash(self, code_hash: str) -> Invite | None:
        return await self.s.scalar(select(Invite).where(Invite.code_hash == code_hash))

    async def get(self, invite_id: int) -> Invite | None:
        return await self.s.get(Invite, invite_id)

    async def claim(self, invite_id: int, user_id: int, now: datetime) -> bool:
        """Give an unclaimed invite to this account; True if it is (now or already) theirs.
        A conditional update: of two accounts opening the link at once, one wins."""
        res = await self.s.execute(
            update(Invite)
            .where(Invite.id == invite_id, Invite.claimed_by.is_(None))
            .values(claimed_by=user_id, claimed_at=now)
        )
        if res.rowcount == 1:
            return True
        owner = await self.s.scalar(select(Invite.claimed_by).where(Invite.id == invite_id))
        return owner == user_id

    async def consume(self, invite_id: int, user_id: int, now: datetime) -> bool:
        """Mark used by the account that claimed it, only if still unused, unrevoked and
        unexpired: single use even under races."""
        res = await self.s.execute(
            update(Invite)
            .where(
                Invite.id == invite_id,
                Invite.used_at.is_(None),
                Invite.revoked_at.is_(None),
                Invite.expires_at > now,
                Invite.claimed_by == user_id,
            )
            .values(used_at=now)
        )
        return res.rowcount == 1

    async def revoke(self, invite_id: int, now: datetime) -> bool:
        """Stop an unused invite from working; False if it was used (or revoked) already."""
        res = await self.s.execute(
            update(Invite)
            .where(Invite.id == invite_id, Invite.used_at.is_(None), Invite.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return res.rowcount == 1


class ConversationRepository(_Repo):
    async def get(self, telegram_user_id: int) -> Conversation | None:
        return await self.s.get(Conversation, telegram_user_id)

    async def save(self, conv: Conversation) -> None:
        await self.s.merge(conv)

    async def drop(self, telegram_user_id: int) -> None:
        await self.s.execute(
            delete(Conversation).where(Conversation.telegram_user_id == telegram_user_id)
        )


class CheckinRepository(_Repo):
    async def draft(self, patient_id: int) -> CheckinDraft | None:
        return await self.s.get(CheckinDraft, patient_id)

    async def save_draft(self, draft: CheckinDraft) -> None:
        if draft not in self.s:  # loaded by this unit of work: its changes are tracked
            await self.s.merge(draft)

    async def drop_draft(self, patient_id: int) -> None:
        await self.s.execute(delete(CheckinDraft).where(CheckinDraft.patient_id == patient_id))

    async def latest_on(self, patient_id: int, day: date) -> CheckinEntry | None:
        """The day's latest check-in (a day may have several)."""
        return await self.s.scalar(
            select(CheckinEntry)
            .where(CheckinEntry.patient_id == patient_id, CheckinEntry.local_day == day)
            .order_by(CheckinEntry.created_at.desc(), CheckinEntry.id.desc())
            .limit(1)
        )

    async def add_entry(self, entry: CheckinEntry) -> None:
        self.s.add(entry)
        await self.s.flush()

    async def entries(
        self,
        patient_id: int,
        since: date | None = None,
        limit: int | None = None,
        offset: int = 0,
        day: date | None = None,
    ) -> list[CheckinEntry]:
        """Newest first (within a day too)."""
        q = select(CheckinEntry).where(CheckinEntry.patient_id == patient_id)
        if since is not None:
            q = q.where(CheckinEntry.local_day >= since)
        if day is not None:
            q = q.where(CheckinEntry.local_day == day)
        q = q.order_by(
            CheckinEntry.local_day.desc(), CheckinEntry.created_at.desc(), CheckinEntry.id.desc()
        )
        if limit is not None:
            q = q.limit(limit).offset(offset)
        return list(await self.s.scalars(q))

    async def count(self, patient_id: int) -> int:
        return await self.s.scalar(
            select(func.count())
            .select_from(CheckinEntry)
            .where(CheckinEntry.patient_id == patient_id)
        )


class AlertRepository(_Repo):
    async def get(self, alert_id: int) -> Alert | None:
        return await self.s.get(Alert, alert_id)

    async def by_ids(self, alert_ids: list[int]) -> dict[int, Alert]:
        return {a.id: a for a in await self.s.scalars(select(Alert).where(Alert.id.in_(alert_ids)))}

    async def open_for(self, patient_id: int, rule: str) -> Alert | None:
        return await self.s.scalar(
            select(Alert).where(
                Alert.patient_id == patient_id, Alert.rule == rule, Alert.status == "open"
            )
        )

    async def add(self, alert: Alert) -> Alert:
        self.s.add(alert)
        await self.s.flush()
        return alert

    async def open_alerts(self, patient_id: int) -> list[Alert]:
        q = select(Alert).where(Alert.status == "open", Alert.patient_id == patient_id)
        return list(await self.s.scalars(q.order_by(Alert.created_at)))

    async def open_with_patients(self) -> list[tuple[Alert, Patient]]:
        """Every open alert with its patient, oldest first, in one query."""
        rows = await self.s.execute(
            select(Alert, Patient)
            .join(Patient, Patient.id == Alert.patient_id)
            .where(Alert.status == "open")
            .order_by(Alert.created_at)
        )
        return [(alert, patient) for alert, patient in rows]

    async def lock(self, alert_ids: list[int]) -> None:
        """Lock these alerts' rows until the transaction ends (in id order; PostgreSQL)."""
        await self.s.execute(
            select(Alert.id).where(Alert.id.in_(alert_ids)).order_by(Alert.id).with_for_update()
        )

    async def open_urgent_since(self, before: datetime) -> list[Alert]:
        """Open urgent alerts raised at or before ``before``, of patients still in care, in
        id order."""
        q = (
            select(Alert)
            .join(Patient, Patient.id == Alert.patient_id)
            .where(
                Alert.status == "open",
                Alert.level == "urgent",
                Alert.created_at <= before,
                Patient.status == "active",
            )
            .order_by(Alert.id)
        )
        return list(await self.s.scalars(q))

    async def open_all(self) -> list[Alert]:
        return list(await self.s.scalars(select(Alert).where(Alert.status == "open")))

    async def for_patient(self, patient_id: int) -> list[Alert]:
        """Every alert raised for a patient, newest first."""
        q = select(Alert).where(Alert.patient_id == patient_id)
        return list(await self.s.scalars(q.order_by(Alert.created_at.desc(), Alert.id.desc())))

    async def open_counts(self) -> dict[int, int]:
        rows = await self.s.execute(
            select(Alert.patient_id, func.count())
            .where(Alert.status == "open")
            .group_by(Alert.patient_id)
        )
        return {pid: n for pid, n in rows}

    async def acknowledge(self, alert_id: int, user_id: int, user_name: str, now: datetime) -> bool:
        res = await self.s.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.status == "open")
            .values(
                status="acknowledged",
                acknowledged_by=user_id,
                acknowledged_by_name=user_name,
                acknowledged_at=now,
                updated_at=now,
            )
        )
        return res.rowcount == 1


class AuditLog(_Repo):
    async def record(
        self,
        at: datetime,
        actor: str,
        action: str,
        *,
        actor_id: int | None = None,
        patient_id: int | None = None,
        **details: object,
    ) -> None:
        self.s.add(
            AuditEvent(
                at=at,
                actor=actor,
                actor_id=actor_id,
                patient_id=patient_id,
                action=action,
                details=details,
            )
        )


class StaffMenuRepository(_Repo):
    async def chats(self) -> set[int]:
        return set(await self.s.scalars(select(StaffMenu.chat_id)))

    async def record(self, given: set[int], taken: set[int], now: datetime) -> None:
        """The chats that were given the staff menu, and those it was taken from."""
        for chat_id in given:
            await self.s.merge(StaffMenu(chat_id=chat_id, set_at=now))
        if taken:
            await self.s.execute(delete(StaffMenu).where(StaffMenu.chat_id.in_(taken)))


class QuestionRepository(_Repo):
    async def add(self, q: RelayedQuestion) -> RelayedQuestion:
        self.s.add(q)
        await self.s.flush()
        return q

    async def by_staff_message(self, chat_id: int, message_id: int) -> RelayedQuestion | None:
        return await self.s.scalar(
            select(RelayedQuestion).where(
                RelayedQuestion.staff_chat_id == chat_id,
                RelayedQuestion.staff_message_id == message_id,
            )
        )

    async def get(self, question_id: int) -> RelayedQuestion | None:
        return await self.s.get(RelayedQuestion, question_id)

    async def for_patient(self, patient_id: int) -> list[RelayedQuestion]:
        """A patient's questions to the clinic, newest first."""
        q = select(RelayedQuestion).where(RelayedQuestion.patient_id == patient_id)
        return list(
            await self.s.scalars(
                q.order_by(RelayedQuestion.created_at.desc(), RelayedQuestion.id.desc())
            )
        )

    async def mark_relayed(
        self, question_id: int, staff_chat_id: int, staff_message_id: int | None, now: datetime
    ) -> None:
        q = await self.s.get(RelayedQuestion, question_id)
        if q is None:  # erased meanwhile
            return
        q.staff_chat_id = staff_chat_id
        q.staff_message_id = staff_message_id
        self.s.add(
            AuditEvent(
                at=now,
                actor="patient",
                actor_id=None,
                patient_id=q.patient_id,
                action="question_relayed",
                details={"question_id": q.id},
            )
        )


class PromRepository(_Repo):
    async def add(self, response: PromResponse) -> PromResponse:
        self.s.add(response)
        await self.s.flush()
        return response

    async def get(self, response_id: int) -> PromResponse | None:
        return await self.s.get(PromResponse, response_id)

    async def open_for(self, patient_id: int) -> PromResponse | None:
        """The questionnaire the patient is answering now, if any."""
        return await self.s.scalar(
            select(PromResponse)
            .where(PromResponse.patient_id == patient_id, PromResponse.status == "open")
            .order_by(PromResponse.id.desc())
            .limit(1)
        )

    async def for_patient(self, patient_id: int) -> list[PromResponse]:
        """Every questionnaire of a patient, oldest first."""
        q = select(PromResponse).where(PromResponse.patient_id == patient_id)
        return list(await self.s.scalars(q.order_by(PromResponse.started_at, PromResponse.id)))

    async def drop_open(self, patient_id: int) -> None:
        await self.s.execute(
            update(PromResponse)
            .where(PromResponse.patient_id == patient_id, PromResponse.status == "open")
            .values(status="dropped")
        )


class ReminderRepository(_Repo):
    """Reminder slots, their due claims, and the exercise log that answers them."""

    async def for_patient(self, patient_id: int) -> list[Reminder]:
        return list(await self.s.scalars(select(Reminder).where(Reminder.patient_id == patient_id)))

    async def add(self, reminder: Reminder) -> None:
        self.s.add(reminder)

    async def remove(self, reminder: Reminder) -> None:
        await self.s.delete(reminder)

    async def flush(self) -> None:
        await self.s.flush()

    async def claim_due(self, now: datetime, limit: int) -> list[Any]:
        """Due slots with what deciding about them needs from their patient, as plain rows,
        oldest first; locked until the transaction ends (others skip them on PostgreSQL)."""
        q = (
            select(
                Reminder.id,
                Reminder.kind,
                Reminder.local_time,
                Reminder.next_at,
                Reminder.patient_id,
                Patient.timezone,
                Patient.chat_id,
                Patient.status,
                Patient.unreachable,
                Patient.paused_until,
                Patient.exercise_times_chosen,
                Patient.weekly_day,
            )
            .join(Patient, Patient.id == Reminder.patient_id)
            .where(Reminder.next_at <= now)
            .order_by(Reminder.next_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Reminder)
        )
        return list((await self.s.execute(q)).all())

    async def move_on(self, moved: list[dict]) -> None:
        """Bulk: each {"id", "next_at"}."""
        if moved:
            await self.s.execute(update(Reminder), moved)

    async def checked_in_on(self, patient_ids: set[int], days: set[date]) -> set[tuple[int, date]]:
        rows = await self.s.execute(
            select(CheckinEntry.patient_id, CheckinEntry.local_day).where(
                CheckinEntry.patient_id.in_(patient_ids), CheckinEntry.local_day.in_(days)
            )
        )
        return {(p, d) for p, d in rows}

    async def exercise_answers(
        self, patient_ids: set[int], days: set[date]
    ) -> dict[tuple[int, date, str], str]:
        rows = await self.s.execute(
            select(
                ExerciseLog.patient_id, ExerciseLog.local_day, ExerciseLog.slot, ExerciseLog.status
            ).where(ExerciseLog.patient_id.in_(patient_ids), ExerciseLog.local_day.in_(days))
        )
        return {(p, d, slot): st for p, d, slot, st in rows}

    async def log_exercise(
        self, patient_id: int, day: date, slot: str, status: str, now: datetime
    ) -> None:
        row = await self.s.scalar(
            select(ExerciseLog).where(
                ExerciseLog.patient_id == patient_id,
                ExerciseLog.local_day == day,
                ExerciseLog.slot == slot,
            )
        )
        if row is None:
            self.s.add(
                ExerciseLog(patient_id=patient_id, local_day=day, slot=slot, status=status, at=now)
            )
        else:
            row.status, row.at = status, now


class ClinicJobRepository(_Repo):
    """Clinic-wide recurring jobs (the daily digest), run once whatever the processes."""

    async def claim(self, name: str, now: datetime, lease: timedelta, first: datetime) -> bool:
        """True if this transaction may run the job now: it was due, and is now leased for
        ``lease`` (a conditional update: one process wins). A job never seen before is
        scheduled for ``first`` and not run."""
        if await self.s.get(ClinicJob, name) is None:
            self.s.add(ClinicJob(name=name, next_at=first))
            return False
        res = await self.s.execute(
            update(ClinicJob)
            .where(ClinicJob.name == name, ClinicJob.next_at <= now)
            .values(next_at=now + lease)
        )
        return res.rowcount == 1

    async def schedule(self, name: str, next_at: datetime) -> None:
        await self.s.execute(
            update(ClinicJob).where(ClinicJob.name == name).values(next_at=next_at)
        )

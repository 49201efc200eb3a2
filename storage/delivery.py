"""The inbox and the outbox tables: storing, claiming and recording, in bulk statements."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import DeliveryAttempt, InboxUpdate, OutboxMessage, Patient, Priority


def insert_ignoring_duplicates(session: AsyncSession, table):
    """INSERT ... ON CONFLICT DO NOTHING, in the dialect of the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


# Built once: the statement of every update handled (a Core statement on the table, its cache
# key computed once, rather than an ORM update rebuilt for each update).
_inbox = InboxUpdate.__table__
_MARK_DONE = (
    update(_inbox)
    .where(_inbox.c.update_id == bindparam("done_id"), _inbox.c.status == "pending")
    .values(status="done", done_at=bindparam("finished"), claimed_until=None, error=None)
)


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def store(self, rows: list[dict[str, Any]]) -> set[int]:
        """Rows with update_id, chat_id, payload, received_at and optionally claimed_until
        (claimed by the storing process); an update seen before is ignored (Telegram may
        deliver one twice). Returns the ids that were new."""
        if not rows:
            return set()
        values = [
            {
                "status": "pending",
                "claimed_until": None,
                **r,
                "attempts": 1 if r.get("claimed_until") else 0,
            }
            for r in rows
        ]
        stmt = insert_ignoring_duplicates(self.s, InboxUpdate.__table__).returning(
            InboxUpdate.update_id
        )
        return set((await self.s.scalars(stmt, values)).all())

    async def chats_with_pending(self, chat_ids: set[int]) -> set[int]:
        """Which of these chats have updates not handled yet (their order must be kept)."""
        return set(
            await self.s.scalars(
                select(InboxUpdate.chat_id)
                .where(InboxUpdate.status == "pending", InboxUpdate.chat_id.in_(chat_ids))
                .distinct()
            )
        )

    async def renew(self, update_ids: set[int], until: datetime) -> None:
        """Extend the leases a live process holds (a dead one's run out)."""
        await self.s.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(update_ids), InboxUpdate.status == "pending")
            .values(claimed_until=until),
            execution_options={"synchronize_session": False},
        )

    async def claim(
        self, now: datetime, lease: timedelta, limit: int, chat_id: int | None = None
    ) -> list[Any]:
        """Claim up to ``limit`` updates, at most one per chat: the oldest pending update of
        a chat, and only while no earlier one of that chat is pending (claimed elsewhere, or
        waiting to be retried). Locked rows are skipped on PostgreSQL."""
        earlier = aliased(InboxUpdate)
        q = (
            select(InboxUpdate.update_id)
            .where(
                InboxUpdate.status == "pending",
                or_(InboxUpdate.claimed_until.is_(None), InboxUpdate.claimed_until < now),
                ~select(earlier.update_id)
                .where(
                    earlier.chat_id == InboxUpdate.chat_id,
                    earlier.status == "pending",
                    earlier.update_id < InboxUpdate.update_id,
                )
                .exists(),
            )
            .order_by(InboxUpdate.update_id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=InboxUpdate)
        )
        if chat_id is not None:
            q = q.where(InboxUpdate.chat_id == chat_id)
        ids = list(await self.s.scalars(q))
        if not ids:
            return []
        await self.s.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(ids))
            .values(claimed_until=now + lease, attempts=InboxUpdate.attempts + 1),
            execution_options={"synchronize_session": False},
        )
        rows = await self.s.execute(
            select(
                InboxUpdate.update_id,
                InboxUpdate.chat_id,
                InboxUpdate.payload,
                InboxUpdate.attempts,
            )
            .where(InboxUpdate.update_id.in_(ids))
            .order_by(InboxUpdate.update_id)
        )
        return list(rows)

    async def release(self, update_ids: set[int]) -> None:
        """Hand back claimed updates that were not started (a clean stop)."""
        await self.s.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(update_ids), InboxUpdate.status == "pending")
            .values(claimed_until=None),
            execution_options={"synchronize_session": False},
        )

    async def mark_done(self, update_id: int, now: datetime) -> None:
        await self.s.execute(_MARK_DONE, {"done_id": update_id, "finished": now})

    async def retry_later(self, update_id: int, at: datetime, error: str) -> None:
        await self.s.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id == update_id, InboxUpdate.status == "pending")
            .values(claimed_until=at, error=error),
            execution_options={"synchronize_session": False},
        )

    async def fail(self, update_id: int, now: datetime, error: str) -> None:
        await self.s.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id == update_id, InboxUpdate.status == "pending")
            .values(status="failed", done_at=now, claimed_until=None, error=error),
            execution_options={"synchronize_session": False},
        )

    async def for_chat(self, chat_id: int) -> list[Any]:
        """The updates still kept from one chat (handled ones are pruned after a week)."""
        rows = await self.s.execute(
            select(InboxUpdate.update_id, InboxUpdate.received_at, InboxUpdate.payload)
            .where(InboxUpdate.chat_id == chat_id)
            .order_by(InboxUpdate.update_id)
        )
        return list(rows)

    async def erase_chat(self, chat_id: int) -> None:
        await self.s.execute(delete(InboxUpdate).where(InboxUpdate.chat_id == chat_id))

    async def prune(self, before: datetime) -> None:
        """Handled updates are only needed to spot a re-delivery (seconds to minutes)."""
        await self.s.execute(
            delete(InboxUpdate).where(
                InboxUpdate.status != "pending", InboxUpdate.received_at < before
            )
        )


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session
        # The most urgent priority queued in this unit of work (the sender is woken for it).
        self.most_urgent: int | None = None

    async def forget_body(self, outbox_id: int) -> None:
        await self.s.execute(
            update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(body=None)
        )

    async def existing_keys(self, keys: list[str]) -> set[str]:
        """Which of these dedupe keys are queued already."""
        if not keys:
            return set()
        rows = await self.s.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))
        )
        return set(rows)

    async def sent_copies(self, kinds: tuple[str, ...], ref_id: int) -> set[tuple[int, int]]:
        """(chat_id, message_id) of every message of these kinds about ``ref_id`` that was
        sent (chat_id 0: the clinic chat)."""
        rows = await self.s.execute(
            select(OutboxMessage.chat_id, OutboxMessage.message_id).where(
                OutboxMessage.kind.in_(kinds),
                OutboxMessage.ref_id == ref_id,
                OutboxMessage.status == "sent",
                OutboxMessage.message_id.is_not(None),
            )
        )
        return {(chat_id, message_id) for chat_id, message_id in rows}

    async def add(
        self,
        *,
        kind: str,
        priority: int,
        chat_id: int,
        dedupe_key: str,
        send_at: datetime,
        patient_id: int | None = None,
        ref_id: int | None = None,
        body: str | None = None,
    ) -> None:
        """Queue a message; a message with the same dedupe key is never queued twice."""
        await self.add_many(
            [
                {
                    "kind": kind,
                    "priority": priority,
                    "chat_id": chat_id,
                    "dedupe_key": dedupe_key,
                    "send_at": send_at,
                    "patient_id": patient_id,
                    "ref_id": ref_id,
                    "body": body,
                }
            ]
        )

    async def add_many(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        values = [{"status": "pending", "attempts": 0, **r} for r in rows]
        await self.s.execute(insert_ignoring_duplicates(self.s, OutboxMessage.__table__), values)
        top = min(r["priority"] for r in rows)
        self.most_urgent = top if self.most_urgent is None else min(self.most_urgent, top)

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.s.get(OutboxMessage, message_id)

    async def claim(
        self, now: datetime, lease: timedelta, limit: int, max_priority: int, min_priority: int = 0
    ) -> tuple[list[Any], dict[int, Any]]:
        """Claim due messages, most urgent first; returns them (plain rows) and their
        patients by id. Locked rows are skipped on PostgreSQL; the claim is written in the
        same transaction, so two senders never get the same message."""
        urgent = aliased(OutboxMessage)
        ids = list(
            await self.s.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.priority.between(min_priority, max_priority),
                    OutboxMessage.send_at <= now,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                    # Nothing overtakes urgent advice or an urgent alert that is waiting to be
                    # retried in the same chat: the patient reads the advice first.
                    ~select(urgent.id)
                    .where(
                        urgent.chat_id == OutboxMessage.chat_id,
                        urgent.status == "pending",
                        urgent.priority == Priority.URGENT,
                        # due, or being retried; not a re-notification planned for later
                        or_(urgent.send_at <= now, urgent.attempts > 0),
                        OutboxMessage.priority > Priority.URGENT,
                    )
                    .exists(),
                )
                .order_by(OutboxMessage.priority, OutboxMessage.send_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return [], {}
        await self.s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(claimed_until=now + lease),
            execution_options={"synchronize_session": False},
        )
        rows = list(
            await self.s.execute(
                select(OutboxMessage.__table__)
                .where(OutboxMessage.id.in_(ids))
                .order_by(OutboxMessage.priority, OutboxMessage.send_at)
            )
        )
        pids = {r.patient_id for r in rows if r.patient_id is not None}
        patients = (
            {
                p.id: p
                for p in await self.s.execute(select(Patient.__table__).where(Patient.id.in_(pids)))
            }
            if pids
            else {}
        )
        return rows, patients

    async def existing(self, ids: list[int]) -> set[int]:
        return set(await self.s.scalars(select(OutboxMessage.id).where(OutboxMessage.id.in_(ids))))

    async def record(self, rows: list[dict[str, Any]], attempts: list[dict[str, Any]]) -> None:
        """Bulk: the new state of each message (by id), and one row per attempt made."""
        if rows:
            await self.s.execute(update(OutboxMessage), rows)
        if attempts:
            await self.s.execute(DeliveryAttempt.__table__.insert(), attempts)

    async def waiting_for(self, kind: str, ref_id: int, except_purpose: str) -> bool:
        """Is a message about this (an alert) queued and not yet taken by a sender, other than
        one for ``except_purpose`` (the key's third part)? It is rendered when it is sent, so
        it will carry whatever changed meanwhile."""
        found = await self.s.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.kind == kind,
                OutboxMessage.ref_id == ref_id,
                OutboxMessage.status == "pending",
                OutboxMessage.claimed_until.is_(None),
                OutboxMessage.dedupe_key.not_like(f"%:{except_purpose}:%"),
            )
            .limit(1)
        )
        return found is not None

    async def skip_pending(self, kind: str, ref_id: int) -> None:
        """Messages about something that no longer needs them (an acknowledged alert)."""
        await self.s.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.kind == kind,
                OutboxMessage.ref_id == ref_id,
                OutboxMessage.status == "pending",
            )
            .values(status="skipped", detail="no longer needed"),
            execution_options={"synchronize_session": False},
        )

    async def drop_pending_for(self, patient_id: int, kinds: tuple[str, ...], now: datetime):
        """Forget queued messages, but not one a sender holds right now (it checks)."""
        await self.s.execute(
            delete(OutboxMessage).where(
                OutboxMessage.patient_id == patient_id,
                OutboxMessage.kind.in_(kinds),
                OutboxMessage.status == "pending",
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
        )

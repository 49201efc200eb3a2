"""The outbox sender: every message the bot starts, claimed by priority and sent once.

One step (:meth:`Outbox.dispatch_once`) claims a batch of due messages (most urgent first;
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so processes share the work), renders and sends them
concurrently through the shared, priority-ordered budget, and records every outcome and attempt
in one transaction. Errors are told apart: a 429 waits exactly ``retry_after``; a network error
or a 5xx backs off; a patient who blocked the bot is marked unreachable; other permanent errors
stop the message, except an urgent alert, which is never given up.

Two lanes: the fast lane (urgent advice and alerts, answers to people, routine alerts) is woken
the moment such a message is committed; the bulk lane also turns due reminders into messages
and works through the morning's prompts in batches. Neither waits for the other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.content import render, text
from bot.delivery.sender import Sender, retry_after_seconds
from bot.outcomes.chart import render_png
from bot.runtime.clock import Clock
from bot.services import reminders
from bot.services.alerts import (
    ALERT_EDIT,
    ONCALL,
    alert_purpose,
    queue_acknowledged_edits,
    queue_alert_message,
    queue_escalations,
)
from bot.services.progress import progress_of
from bot.settings import Settings
from storage.db import SessionMaker
from storage.models import Alert, Priority
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
MAX_BACKOFF = 60.0
FAST_LANE = Priority.ALERT
FAST_BATCH = 20
BULK_BATCH = 500
REMINDER_KINDS = ("checkin", "nudge", "exercise")
CLINIC_KINDS = ("alert", "relay", "digest", "notice", "erased")
# Messages to clinicians in private: a failure says nothing about the patient's chat.
STAFF_KINDS = (ONCALL, ALERT_EDIT)
ALERT_KINDS = ("alert", ONCALL, ALERT_EDIT)
# Given up after this many transient failures; the others are retried until delivered.
MAX_ATTEMPTS = {"checkin": 5, "nudge": 5, "exercise": 5, "weekly": 5, "digest": 50}


@dataclass(frozen=True)
class Refs:
    """What a batch's messages are rendered from, loaded with the claim: alerts by id,
    questionnaires by id, and the weekly summaries' progress by outbox row id."""

    alerts: dict[int, Alert]
    proms: dict[int, Any]
    weeks: dict[int, Any]


@dataclass(frozen=True)
class Result:
    """What happened to one message. outcome: sent | skipped | failed | retry | blocked |
    released (handed back untried)."""

    row: Any
    outcome: str
    detail: str | None = None
    message_id: int | None = None
    retry_in: float | None = None


class Outbox:
    def __init__(self, sm: SessionMaker, sender: Sender, settings: Settings, clock: Clock) -> None:
        self.sm = sm
        self.sender = sender
        self.settings = settings
        self.clock = clock
        self._fast = asyncio.Lock()
        # Each lane its own sends in flight: an urgent message never waits for a place behind
        # a batch of reminders (bench/latency.py --fanout measured 2-3 s when they shared one).
        self._gate = asyncio.Semaphore(settings.send_concurrency)
        self._fast_gate = asyncio.Semaphore(settings.send_concurrency)

    # -- one step -------------------------------------------------------------------------

    def bulk_batch(self) -> int:
        """Claimed at a time: about two seconds of sending, so that a stopping bot hands back
        little and a second process finds work to share."""
        rate = self.settings.send_rate_per_second
        return BULK_BATCH if rate <= 0 else min(BULK_BATCH, max(10, 2 * rate))

    async def dispatch_once(
        self,
        max_priority: int = Priority.DIGEST,
        limit: int | None = None,
        keep_going: Callable[[], bool] = lambda: True,
        min_priority: int = Priority.URGENT,
    ) -> int:
        """Claim, send and record one batch (priorities ``min_priority`` to ``max_priority``);
        returns how many messages were claimed."""
        now = self.clock.now()
        limit = limit or self.bulk_batch()
        if max_priority >= Priority.REMINDER:
            await self._escalate(now)  # first, and on its own: nothing below can hold it up
            grace = timedelta(hours=self.settings.reminder_grace_hours)
            async with UnitOfWork(self.sm) as uow:
                await reminders.materialise_due(
                    uow,
                    now,
                    grace=grace,
                    nudge_after=timedelta(hours=self.settings.checkin_nudge_hours),
                    limit=limit,
                )
        async with UnitOfWork(self.sm) as uow:
            rows, patients = await uow.outbox.claim(now, LEASE, limit, max_priority, min_priority)
            alert_ids = [r.ref_id for r in rows if r.kind in ALERT_KINDS]
            alerts = await uow.alerts.by_ids(alert_ids) if alert_ids else {}
            # Questionnaires: rendered from the response when sent.
            proms = {r.ref_id: await uow.proms.get(r.ref_id) for r in rows if r.kind == "prom"}
            weeks = {
                r.id: await progress_of(uow, patients[r.patient_id])
                for r in rows
                if r.kind == "weekly" and r.patient_id in patients
            }
            refs = Refs(alerts, proms, weeks)
            # Checked again as they go: checked in already, paused, discharged, too late.
            jobs = [
                reminders.Job(r, patients[r.patient_id])
                for r in rows
                if r.kind in (*REMINDER_KINDS, "weekly")
            ]
            grace = timedelta(hours=self.settings.reminder_grace_hours)
            skip = await reminders.unwanted(uow, jobs, now, grace) if jobs else {}
            await uow.session.commit()
        if not rows:
            return 0
        results = [Result(r, "skipped", skip[r.id]) for r in rows if r.id in skip]

        gate = self._fast_gate if max_priority <= FAST_LANE else self._gate

        async def one(row: Any) -> Result:
            async with gate:
                if not keep_going():
                    return Result(row, "released")
                return await self._send(row, patients.get(row.patient_id), refs)

        results += await asyncio.gather(*(one(r) for r in rows if r.id not in skip))
        await self._record(results, alerts)
        return len(rows)

    async def _escalate(self, now) -> None:
        """Queue the private copies of urgent alerts nobody has acknowledged: in its own unit
        of work, so that nothing else on the tick (a reminder that fails) can hold it up."""
        try:
            async with UnitOfWork(self.sm) as uow:
                await queue_escalations(
                    uow,
                    now,
                    timedelta(minutes=self.settings.alert_escalate_minutes),
                    timedelta(minutes=self.settings.alert_renotify_minutes),
                    self.settings.oncall_ids,
                )
                await uow.commit()
        except Exception:  # noqa: BLE001 - logged loudly; tried again on the next tick
            log.critical("on-call escalation could not be queued", exc_info=True)

    # -- sending --------------------------------------------------------------------------

    async def _send(self, row: Any, patient: Any, refs: Refs) -> Result:
        try:
            return await self._deliver(row, patient, refs)
        except RetryAfter as exc:
            return Result(row, "retry", "429", retry_in=retry_after_seconds(exc))
        except Forbidden as exc:
            return Result(row, "blocked", exc.message)
        except BadRequest as exc:  # the request is wrong: retrying will not help
            return Result(row, "failed", f"BadRequest: {exc.message}")
        except NetworkError as exc:  # timeouts and 5xx
            delay = min(2.0 * (row.attempts + 1), MAX_BACKOFF)
            return Result(row, "retry", f"network: {exc.message}", retry_in=delay)
        except TelegramError as exc:
            new_id = getattr(exc, "new_chat_id", None)
            hint = f" (the group is now chat {new_id}: set CLINIC_CHAT_ID)" if new_id else ""
            return Result(row, "failed", f"{type(exc).__name__}: {exc.message}{hint}")
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the batch
            log.exception("outbox message %s failed unexpectedly", row.id)
            return Result(row, "failed", type(exc).__name__)

    async def _deliver(self, row: Any, patient: Any, refs: Refs) -> Result:
        s = self.settings
        alerts = refs.alerts
        priority = Priority(row.priority)
        chat_id = s.clinic_chat_id if row.kind in CLINIC_KINDS else row.chat_id
        markup = None
        if row.kind in REMINDER_KINDS:
            body, markup = render.reminder(row.kind, row.id, patient)
        elif row.kind == "urgent_advice":
            body = render.urgent_advice(row.body, s.clinic_name)
        elif row.kind == "advice_guest":
            body = render.urgent_advice(row.body, None)
        elif row.kind == "alert":
            alert = alerts.get(row.ref_id)
            if alert is None or patient is None:
                return Result(row, "skipped", "alert erased")
            renotify = alert_purpose(row.dedupe_key) == "renotify"
            if renotify and alert.status != "open":
                return Result(row, "skipped", "acknowledged")
            body = render.alert_text(alert, patient, s, repeat=renotify)
            markup = render.alert_keyboard(alert)
            if alert.telegram_message_id and not renotify:
                # An alert that was updated: edit it in place rather than add noise (the
                # group's 20 messages a minute are for other patients' alerts too).
                try:
                    await self.sender.edit_message_text(
                        chat_id, alert.telegram_message_id, body, priority, reply_markup=markup
                    )
                    return Result(row, "sent", message_id=alert.telegram_message_id)
                except BadRequest as exc:
                    if "not modified" in exc.message.lower():
                        return Result(row, "sent", message_id=alert.telegram_message_id)
                    if "not found" not in exc.message.lower():
                        raise
        elif row.kind == ONCALL:
            alert = alerts.get(row.ref_id)
            if alert is None or patient is None:
                return Result(row, "skipped", "alert erased")
            if alert.status != "open":
                return Result(row, "skipped", "acknowledged")
            minutes = int((self.clock.now() - alert.created_at).total_seconds() // 60)
            body = render.oncall_alert(alert, patient, s, minutes)
            markup = render.alert_keyboard(alert)
        elif row.kind == "prom":
            response = refs.proms.get(row.ref_id)
            if response is None or response.status != "open":
                return Result(row, "skipped", "questionnaire closed")
            body, markup = render.prom_question(response, first=True)
        elif row.kind == "weekly":
            return await self._weekly(row, patient, refs.weeks.get(row.id), priority)
        elif row.kind == ALERT_EDIT:
            return await self._edit_copy(row, patient, alerts.get(row.ref_id), priority)
        else:  # relay, staff_reply, to_patient, digest, notice, erased: written when queued
            body = row.body
        message_id = await self.sender.send_push(chat_id, body, markup, priority)
        return Result(row, "sent", message_id=message_id)

    async def _weekly(self, row: Any, patient: Any, progress: Any, priority) -> Result:
        """The weekly summary: the chart and the week in a paragraph (a paragraph alone while
        there are too few check-ins for a chart)."""
        if patient is None or progress is None:
            return Result(row, "skipped", "patient erased")
        caption = render.weekly_caption(patient, progress, row.local_day)
        if not progress.enough:
            message_id = await self.sender.send_push(row.chat_id, caption, None, priority)
            return Result(row, "sent", message_id=message_id)
        png = await asyncio.to_thread(render_png, progress)
        message_id = await self.sender.send_photo(row.chat_id, png, caption, priority)
        return Result(row, "sent", message_id=message_id)

    async def _edit_copy(self, row: Any, patient: Any, alert: Alert | None, priority) -> Result:
        """Show on a copy of an alert that it was acknowledged (and take its buttons away)."""
        if alert is None or patient is None:
            return Result(row, "skipped", "alert erased")
        chat_id = row.chat_id or self.settings.clinic_chat_id
        body = render.alert_text(alert, patient, self.settings)
        try:
            await self.sender.edit_message_text(
                chat_id,
                row.edit_message_id,
                body,
                priority,
                reply_markup=render.alert_keyboard(alert),
            )
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return Result(row, "sent", message_id=row.edit_message_id)
            if "not found" in exc.message.lower():  # deleted by someone in the chat
                return Result(row, "skipped", exc.message)
            raise
        return Result(row, "sent", message_id=row.edit_message_id)

    # -- recording ------------------------------------------------------------------------

    def _state(self, r: Result, now) -> dict[str, Any]:
        row = r.row
        state = {
            "id": row.id,
            "claimed_until": None,
            "detail": r.detail,
            "attempts": row.attempts + (0 if r.outcome in ("skipped", "released") else 1),
            "status": r.outcome,
            "send_at": row.send_at,
            "sent_at": None,
            "message_id": None,
        }
        urgent_alert = row.kind == "alert" and row.priority == Priority.URGENT
        if r.outcome == "released":  # claimed but not tried (the bot is stopping)
            state.update(status="pending", detail=row.detail)
        elif r.outcome == "sent":
            state.update(sent_at=now, message_id=r.message_id)
        elif r.outcome == "retry":
            limit = MAX_ATTEMPTS.get(row.kind)
            if limit is None or state["attempts"] < limit:
                state.update(status="pending", send_at=now + timedelta(seconds=r.retry_in or 1))
            else:
                state["status"] = "failed"
        elif urgent_alert:
            # Never given up: a misconfigured or migrated group chat is fixed by a person, and
            # the alert must still arrive once it is.
            log.critical(
                "urgent alert %s not delivered to the clinic chat: %s", row.ref_id, r.detail
            )
            retry = timedelta(minutes=self.settings.alert_renotify_minutes)
            state.update(status="pending", send_at=now + retry)
        elif r.outcome in ("blocked", "failed"):
            state["status"] = "failed"
            if row.kind in CLINIC_KINDS:
                log.critical("message to the clinic chat not delivered: %s", r.detail)
            elif row.kind == ONCALL:
                log.critical(
                    "urgent alert %s not delivered privately to on-call clinician %s (%s): "
                    "they must open a private chat with the bot and press Start",
                    row.ref_id,
                    row.chat_id,
                    r.detail,
                )
        if r.outcome not in ("sent", "skipped", "released"):
            log.warning("outbox %s (%s): %s (%s)", row.id, row.kind, r.outcome, r.detail)
        return state

    async def _record(self, results: list[Result], alerts: dict[int, Alert]) -> None:
        now = self.clock.now()
        states = [self._state(r, now) for r in results]
        attempts = [
            {"outbox_id": r.row.id, "at": now, "outcome": r.outcome, "detail": r.detail}
            for r in results
            if r.outcome not in ("skipped", "released")
        ]
        async with UnitOfWork(self.sm) as uow:
            # Alerts before outbox rows, the order acknowledging takes them in: the other way
            # round, an acknowledgement and this record deadlock on PostgreSQL.
            sent_alerts = sorted(
                {
                    r.row.ref_id
                    for r in results
                    if r.row.kind in ("alert", ONCALL) and r.outcome == "sent"
                }
            )
            if sent_alerts:
                await uow.alerts.lock(sent_alerts)
            # A message may have gone meanwhile (the patient erased their data).
            left = await uow.outbox.existing([s["id"] for s in states])
            await uow.outbox.record(
                [s for s in states if s["id"] in left],
                [a for a in attempts if a["outbox_id"] in left],
            )
            blocked = {
                r.row.patient_id
                for r in results
                if r.outcome == "blocked"
                and r.row.kind not in CLINIC_KINDS + STAFF_KINDS
                and r.row.patient_id
            }
            if blocked:
                await uow.patients.mark_unreachable(blocked)
                for pid in blocked:
                    await uow.audit.record(now, "system", "patient_unreachable", patient_id=pid)
            for r in results:
                if r.outcome == "sent" and r.row.id in left:
                    await self._after_sent(uow, r, now)
                elif r.row.kind == "staff_reply" and r.outcome in ("blocked", "failed"):
                    await self._tell_staff(uow, r, "relay_not_delivered", why=r.detail, now=now)
                elif r.row.kind == "erased" and r.outcome in ("blocked", "failed"):
                    await uow.outbox.forget_body(r.row.id)
            await uow.session.commit()

    async def _after_sent(self, uow: UnitOfWork, r: Result, now) -> None:
        row = r.row
        if row.kind == ONCALL:
            alert = await uow.alerts.get(row.ref_id)
            if alert is not None and alert.status != "open":
                # Acknowledged while this copy was on its way: it is edited like the others.
                await queue_acknowledged_edits(uow, alert, now, only=(row.chat_id, r.message_id))
        if row.kind == "alert":
            alert = await uow.alerts.get(row.ref_id)
            if alert is None:
                return
            if alert.status != "open" and alert_purpose(row.dedupe_key) != "update":
                await queue_acknowledged_edits(uow, alert, now, only=(row.chat_id, r.message_id))
            if r.message_id == alert.telegram_message_id:
                return  # edited in place: not a new post, and no new re-notification
            alert.sends += 1
            alert.last_sent_at = now
            alert.telegram_message_id = r.message_id
            if alert.sends == 1:
                await uow.audit.record(
                    now, "system", "alert_sent", patient_id=alert.patient_id, alert_id=alert.id
                )
            if alert.status == "open" and alert.level == "urgent":
                await queue_alert_message(
                    uow,
                    alert,
                    0,
                    now + timedelta(minutes=self.settings.alert_renotify_minutes),
                    f"renotify:{alert.sends}",
                )
        elif row.kind == "relay":
            await uow.questions.mark_relayed(
                row.ref_id, self.settings.clinic_chat_id, r.message_id, now
            )
        elif row.kind == "staff_reply":
            await self._tell_staff(uow, r, "relay_delivered", now=now)
        elif row.kind in ("erased", "digest"):
            # Names and figures for the clinic chat, not for the bot to keep (an erasure
            # could not find them: these rows name no patient).
            await uow.outbox.forget_body(row.id)

    async def _tell_staff(self, uow: UnitOfWork, r: Result, key: str, now, why=None) -> None:
        patient = await uow.patients.get(r.row.patient_id) if r.row.patient_id else None
        if patient is None:
            return
        await uow.outbox.add(
            kind="notice",
            priority=Priority.ANSWER,
            chat_id=0,
            dedupe_key=f"notice:{key}:{r.row.id}",
            send_at=now,
            patient_id=patient.id,
            body=text(key, name=patient.name, why=why or ""),
        )

    # -- lanes ----------------------------------------------------------------------------

    async def drain_fast(self) -> None:
        """Urgent messages, answers and routine alerts until none is due. One at a time in
        this process: a handler that awaits it returns once its urgent advice is out."""
        async with self._fast:
            while await self.dispatch_once(FAST_LANE, FAST_BATCH) >= FAST_BATCH:
                pass

    async def drain_all(self, keep_going: Callable[[], bool] = lambda: True) -> None:
        """Reminders, prompts and digests. Two loops share the work: while one waits on the
        database for its next batch, the other's messages are on the wire. What is more urgent
        is the fast lane's alone: a handler that awaits ``drain_fast`` must find its urgent
        advice sent, not claimed by this lane and still on its way (the patient would read
        the check-in's closing words before the advice)."""
        size = self.bulk_batch()

        async def loop() -> None:
            while (
                keep_going()
                and await self.dispatch_once(keep_going=keep_going, min_priority=FAST_LANE + 1)
                >= size
            ):
                pass

        await asyncio.gather(loop(), loop())

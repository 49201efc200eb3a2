"""The daily check-in: /checkin, its buttons, and the typed note."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.content import render, text
from bot.delivery.sender import raw_call
from bot.handlers import proms
from bot.handlers.common import edit_pressed, patient_or_explain, svc
from bot.services import checkin, patients
from storage.models import Patient

log = logging.getLogger(__name__)


async def begin_checkin(
    update: Update, context: ContextTypes.DEFAULT_TYPE, patient: Patient, first: bool = False
) -> None:
    """Send the current question of today's check-in as a new message."""

    async def send(draft) -> int:
        for body in render.checkin_opening(draft, first):
            await context.bot.send_message(patient.chat_id, body)
        return await _send_question(context, patient, draft)

    await checkin.begin(svc(context), patient, send)


async def _send_question(context: ContextTypes.DEFAULT_TYPE, patient: Patient, draft) -> int:
    sent = await raw_call(  # only the new message's id is kept (see raw_call)
        context.bot,
        "send_message",
        chat_id=patient.chat_id,
        text=render.checkin_question(draft),
        reply_markup=render.checkin_keyboard(draft),
    )
    return sent["message_id"]


async def checkin_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    patient = await patient_or_explain(update, context)
    if patient is not None:
        await begin_checkin(update, context, patient)


async def checkin_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, nonce: str, code: str, value: str
) -> None:
    s = svc(context)
    query = update.callback_query
    step = render.CODE_STEPS.get(code)
    async with s.uow() as uow:  # one unit of work for the press: the hot path of a check-in
        patient = await patients.active_patient(uow, update.effective_user.id, True)
        if patient is not None and step is not None:
            outcome = await checkin.answer(
                uow, patient, nonce, step, value, s.now(), s.settings.thresholds
            )
    if patient is not None and step is not None and outcome.status == "late_urgent":
        await s.deliver_urgent()  # a Yes on an old safety question: advice first
        await query.answer()
        return
    if patient is None or step is None or outcome.status in ("stale", "invalid"):
        await query.answer(text("checkin_stale"), show_alert=True)
        return
    if outcome.urgent:
        # Safety first: the advice is already queued with the alert (the outbox sends it
        # before anything else); this message is closed and the flow goes on below it.
        await s.deliver_urgent()
        try:
            await query.answer()
            await edit_pressed(
                update,
                render.checkin_question_done(outcome.draft)
                if outcome.draft
                else query.message.text_html,
            )
        except TelegramError as exc:
            log.warning("check-in message not updated after urgent advice: %s", exc.message)
        if outcome.status == "question":

            async def send(draft) -> int:
                return await _send_question(context, patient, draft)

            await checkin.send_question(s, patient.id, outcome.draft, send)
    elif outcome.status == "question":
        await query.answer()
        await edit_pressed(
            update, render.checkin_question(outcome.draft), render.checkin_keyboard(outcome.draft)
        )
    if outcome.status == "done":
        if not outcome.urgent:
            await query.answer()
        await _finished(update, context, patient, outcome, edit=not outcome.urgent)


async def checkin_note(
    update: Update, context: ContextTypes.DEFAULT_TYPE, patient: Patient, urgent: bool = False
) -> bool:
    """A typed message while the check-in waits for a note. False if it is not waiting.
    ``urgent``: the note reported a red flag (the advice has gone): the check-in closes on the
    urgent path."""
    s = svc(context)
    async with s.uow() as uow:
        outcome = await checkin.note(
            uow,
            patient,
            update.effective_message.text or "",
            s.now(),
            s.settings.thresholds,
            urgent=urgent,
        )
    if outcome.status == "none":
        return False
    if outcome.status == "note_continued":
        await update.effective_message.reply_text(text("note_continued"))
        return True
    if outcome.status == "note_too_long":
        await update.effective_message.reply_text(
            text("note_too_long", length=len(outcome.draft.note), limit=checkin.NOTE_LIMIT),
            reply_markup=render.checkin_keyboard(outcome.draft),
        )
        return True
    await _finished(update, context, patient, outcome, edit=False)
    return True


async def _finished(update, context, patient: Patient, outcome, edit: bool) -> None:
    body = render.checkin_closing(patient, outcome.entry, outcome)
    if edit:
        await edit_pressed(update, body)
    else:
        await context.bot.send_message(patient.chat_id, body)
    if outcome.questionnaire_may_follow:
        await proms.offer(context, patient)

"""Questions: /faq topics, free-text questions, relaying to the clinic and staff replies."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.content import render, text
from bot.handlers.common import is_staff, svc
from bot.services import questions
from storage.models import Patient

log = logging.getLogger(__name__)


async def faq_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(
        text("faq_topics"), reply_markup=render.faq_keyboard(questions.answer_topics())
    )


async def free_text_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, patient: Patient | None
) -> None:
    """Free text outside any flow, from ``patient`` (None: not an active patient)."""
    s = svc(context)
    if patient is None:
        await update.effective_message.reply_text(
            text("not_registered", clinic=s.settings.clinic_name)
        )
        return
    question = update.effective_message.text or ""
    match = questions.answer(question)
    if match.entry is not None and match.entry.kind == "answer":
        body, markup = render.faq_reply(match.entry, questions.related(match.entry))
        await update.effective_message.reply_text(body, reply_markup=markup)
        return
    async with s.uow() as uow:
        qid = await questions.keep_question(uow, patient, question, s.now())
    if match.entry is not None:  # a deferral: a safe answer, and the offer of a human
        body, markup = render.faq_deferral(match.entry, qid)
    else:
        body, markup = render.faq_unsure(match.alternatives, qid, s.settings.clinic_name)
    await update.effective_message.reply_text(body, reply_markup=markup)


async def small_talk(
    update: Update, context: ContextTypes.DEFAULT_TYPE, patient: Patient | None, kind: str
) -> None:
    """Hello, thanks, ok or an emoji, outside any flow: a short pointer to what the bot does."""
    s = svc(context)
    if patient is None:
        body = text("not_registered", clinic=s.settings.clinic_name)
    else:
        body = text(f"small_talk_{kind}")
    await update.effective_message.reply_text(body)


async def faq_button(update: Update, context, ref: str, action: str) -> None:
    query = update.callback_query
    s = svc(context)
    if action == "show":
        entry = questions.faq_index().get(ref)
        if entry is None:
            await query.answer(text("stale_button"), show_alert=True)
            return
        await query.answer()
        body, markup = render.faq_reply(entry, questions.related(entry))
        await context.bot.send_message(update.effective_chat.id, body, reply_markup=markup)
        return
    relayed = None
    if ref.isdigit() and len(ref) <= 9:
        async with s.uow() as uow:
            relayed = await questions.relay(uow, update.effective_user.id, int(ref), s.now())
    if relayed is None:
        await query.answer(text("stale_button"), show_alert=True)
        return
    patient, _ = relayed
    await query.answer()
    await context.bot.send_message(patient.chat_id, text("relay_sent"))


async def staff_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply, in the staff chat, to a relayed question goes to the patient."""
    s = svc(context)
    msg = update.effective_message
    if msg.reply_to_message is None or not is_staff(update, context):
        return
    async with s.uow() as uow:
        # The outbox delivers it and tells this chat "Sent to ..." (or why it could not).
        await questions.reply_to_patient(
            uow,
            msg.chat_id,
            msg.reply_to_message.message_id,
            msg.text or "",
            update.effective_user.id,
            s.now(),
            staff_name=update.effective_user.full_name,
            clinic=s.settings.clinic_name,
        )

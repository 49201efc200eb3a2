"""Questions: /faq topics, free-text questions, relaying to the clinic and staff replies."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.content import Markup, callbacks, label, text
from bot.content.render import button
from bot.handlers.common import active_patient, is_staff, svc
from bot.language.faq import FaqEntry
from bot.services import questions
from storage.models import Patient

log = logging.getLogger(__name__)


def _topic_rows(entries, extra=()) -> InlineKeyboardMarkup:
    rows = [[button(e.topic, callbacks.FAQ.build(e.id, "show"))] for e in entries]
    rows.extend([[b] for b in extra])
    return InlineKeyboardMarkup(rows)


def _answer_text(entry: FaqEntry) -> str:
    # FAQ answers are our own reviewed content, with <b> allowed.
    return text("faq_answer", topic=entry.topic, answer=Markup(entry.answer.strip()))


async def faq_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    entries = [e for e in questions.faq_index().entries if e.kind == "answer"]
    await update.effective_message.reply_text(text("faq_topics"), reply_markup=_topic_rows(entries))


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
        related = [e for e in (questions.faq_index().get(r) for r in match.entry.related) if e]
        await update.effective_message.reply_text(
            _answer_text(match.entry), reply_markup=_topic_rows(related) if related else None
        )
        return
    async with s.uow() as uow:
        qid = await questions.keep_question(uow, patient, question, s.now())
    ask = button(label("btn_ask_clinic"), callbacks.FAQ.build(qid, "ask"))
    if match.entry is not None:  # a deferral: a safe answer, and the offer of a human
        body = _answer_text(match.entry) + "\n\n" + text("faq_deferral_offer")
        await update.effective_message.reply_text(body, reply_markup=_topic_rows([], [ask]))
        return
    key = "faq_unsure" if match.alternatives else "faq_unsure_none"
    await update.effective_message.reply_text(
        text(key, clinic=s.settings.clinic_name),
        reply_markup=_topic_rows(match.alternatives[:3], [ask]),
    )


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
        related = [e for e in (questions.faq_index().get(r) for r in entry.related) if e]
        await context.bot.send_message(
            update.effective_chat.id,
            _answer_text(entry),
            reply_markup=_topic_rows(related) if related else None,
        )
        return
    patient = await active_patient(update, context)
    if patient is None or not ref.isdigit() or len(ref) > 9:
        await query.answer(text("stale_button"), show_alert=True)
        return
    async with s.uow() as uow:
        q = await questions.question_to_relay(uow, patient, int(ref))
    if q is None:
        await query.answer(text("stale_button"), show_alert=True)
        return
    body = text(
        "relay_to_staff", name=patient.name, patient_id=patient.id, question=q.question[:3000]
    )
    async with s.uow() as uow:
        await questions.queue_relay(uow, patient, q, body, s.now())
    await query.answer()
    await context.bot.send_message(patient.chat_id, text("relay_sent"))


async def staff_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply, in the staff chat, to a relayed question goes to the patient."""
    s = svc(context)
    msg = update.effective_message
    if msg.reply_to_message is None or not is_staff(update, context):
        return
    async with s.uow() as uow:
        found = await questions.record_reply(
            uow,
            msg.chat_id,
            msg.reply_to_message.message_id,
            msg.text or "",
            update.effective_user.id,
            s.now(),
            staff_name=update.effective_user.full_name,
        )
        if found is None:
            return
        _, patient = found
        body = text("relay_reply", clinic=s.settings.clinic_name, answer=(msg.text or "")[:3800])
        # The outbox delivers it and tells this chat "Sent to ..." (or why it could not).
        await questions.queue_to_patient(uow, patient, body, s.now(), kind="staff_reply")

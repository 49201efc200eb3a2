"""The urgent path: a red flag in any text. The advice to the patient and the clinic alert are
queued together, durably, and the outbox sends the advice first. A message that only may
describe one gets the question "Is this happening now?" (Yes / No) instead."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import ContextTypes

from bot.content import text
from bot.content.render import red_flag_question_keyboard
from bot.handlers.common import svc
from bot.language.red_flag_triage import assess
from bot.services.safety import answer_happening_now, ask_if_happening_now, report_text_red_flag


async def red_flag_in_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True if the message reported a red flag (the urgent path was taken). A message that
    only may describe one gets the question, and False: it is then handled as usual too (a
    question is still answered, a note still kept)."""
    msg = update.effective_message
    message = msg.text or msg.caption or ""
    triage = assess(message)
    if triage.level == "none" or triage.hit is None:
        return False
    s = svc(context)
    async with s.uow() as uow:
        patient = await uow.patients.by_user(update.effective_user.id)
        if triage.level == "ask" and patient is None:
            # Someone not (yet) a patient is advised only on a clear red flag: there is no
            # clinic alert to fall back on, and they may be typing a time or a name to join.
            return False
        if triage.level == "ask":
            after = timedelta(minutes=s.settings.red_flag_confirm_minutes)
            asked = await ask_if_happening_now(
                uow, patient, triage.hit, message, s.now(), after, s.settings
            )
        else:
            asked = None
            await report_text_red_flag(uow, update.effective_user.id, triage.hit, message, s.now())
    if asked is None:
        await s.deliver_urgent()
        return True
    await msg.reply_text(
        text("red_flag_question"),
        reply_markup=red_flag_question_keyboard(asked.alert_id, asked.nonce),
    )
    return False


async def red_flag_answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, alert_id: str, answer: str, nonce: str
) -> None:
    """Yes / No to "Is this happening now?"."""
    s = svc(context)
    query = update.callback_query
    if answer not in ("y", "n"):
        await query.answer(text("stale_button"), show_alert=True)
        return
    async with s.uow() as uow:
        outcome = await answer_happening_now(
            uow, update.effective_user.id, int(alert_id), answer == "y", nonce, s.now()
        )
    if outcome == "stale":
        await query.answer(text("red_flag_question_answered"), show_alert=True)
        return
    await query.answer()
    key = "red_flag_question_yes" if outcome == "urgent" else "red_flag_question_no"
    await query.edit_message_text(text(key))
    if outcome == "urgent":
        await s.deliver_urgent()

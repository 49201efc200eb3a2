"""The urgent path: a red flag in any text. The advice to the patient and the clinic alert are
queued together, durably, and the outbox sends the advice first. A message that only may
describe one gets the question "Is this happening now?" (Yes / No) instead. Texts that come
other ways are read for one too: an edited message, a caption on a photo or voice note."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.content import text
from bot.content.render import red_flag_question_keyboard
from bot.handlers.common import svc
from bot.services import safety


async def red_flag_in_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True if the message reported a red flag (the urgent path was taken). A message that
    only may describe one gets the question, and False: it is then handled as usual too (a
    question is still answered, a note still kept)."""
    s = svc(context)
    msg = update.effective_message
    check = await safety.check_text(s, update.effective_user.id, msg.text or msg.caption or "")
    if check.status == "urgent":
        await s.deliver_urgent()
        return True
    if check.status == "asked":
        await msg.reply_text(
            text("red_flag_question"),
            reply_markup=red_flag_question_keyboard(check.question.alert_id, check.question.nonce),
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
        outcome = await safety.answer_happening_now(
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


async def screen_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs first. Updates we do not act on (joins, updates with no sender) stop here; an edit
    is not a new answer, but a red flag typed into one must still be acted on."""
    edited = update.edited_message
    if update.message is None and update.callback_query is None and edited is None:
        raise ApplicationHandlerStop
    if update.effective_user is None:  # a channel or an anonymous group admin
        raise ApplicationHandlerStop
    if edited is not None:
        if edited.chat.type == "private" and (edited.text or edited.caption):
            await red_flag_in_text(update, context)
        raise ApplicationHandlerStop


async def unsupported_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    # A photo or voice note may carry a caption that reports a red flag.
    if update.effective_message.caption and await red_flag_in_text(update, context):
        return
    await update.effective_message.reply_text(text("unsupported_media"))

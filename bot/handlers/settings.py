"""/settings: times, time zone, pause and resume (state in the database, like every flow)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.content import render, text
from bot.handlers.common import svc
from bot.services import patient_settings

CHOICES = {
    "ct": "checkin_time",
    "et": "exercise_times",
    "tz": "timezone",
    "wk": "weekly",
    "ps": "pause",
    "rs": "resume",
}


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = svc(context)
    async with s.uow() as uow:
        result = await patient_settings.open_menu_for(uow, update.effective_user.id, s.now())
    if result is None:
        await update.effective_message.reply_text(
            text("not_registered", clinic=s.settings.clinic_name)
        )
        return
    body, markup = render.settings_menu(result)
    await update.effective_message.reply_text(body, reply_markup=markup)


async def settings_button(update: Update, context, nonce: str, code: str) -> None:
    s = svc(context)
    query = update.callback_query
    async with s.uow() as uow:
        result = await patient_settings.choose_for(
            uow, update.effective_user.id, nonce, CHOICES.get(code), s.now()
        )
    if result.status == "stale":
        await query.answer(text("stale_button"), show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(render.settings_reply(result))


async def settings_text(update: Update, context, patient) -> bool:
    s = svc(context)
    async with s.uow() as uow:
        result = await patient_settings.typed(
            uow, patient, update.effective_message.text or "", s.now()
        )
    if result is None:
        return False
    await update.effective_message.reply_text(render.settings_reply(result))
    return True

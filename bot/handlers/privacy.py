"""/mydata and /deleteme."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.content import render, text
from bot.handlers.common import svc
from bot.services import privacy


async def mydata_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = svc(context)
    async with s.uow() as uow:
        data = await privacy.export_for(uow, update.effective_user.id, s.now())
    if data is None:
        await update.effective_message.reply_text(
            text("not_registered", clinic=s.settings.clinic_name)
        )
        return
    await update.effective_message.reply_document(
        data, filename="my-recovery-diary.json", caption=text("mydata_caption")
    )


async def deleteme_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = svc(context)
    uid = update.effective_user.id
    async with s.uow() as uow:
        status = await privacy.erasure_asked(uow, uid)
    clinic = s.settings.clinic_name
    if status == "not_registered":
        await update.effective_message.reply_text(text("not_registered", clinic=clinic))
    elif status == "urgent_open":
        await update.effective_message.reply_text(text("deleteme_urgent_open", clinic=clinic))
    else:
        await update.effective_message.reply_text(
            text("deleteme_confirm", clinic=clinic), reply_markup=render.erase_keyboard(uid)
        )


async def deleteme_button(update: Update, context, owner: str, answer: str) -> None:
    s = svc(context)
    query = update.callback_query
    # The button names its owner: nobody can press someone else's erase button.
    if owner != str(update.effective_user.id) or answer not in ("yes", "no"):
        await query.answer(text("stale_button"), show_alert=True)
        return
    await query.answer()
    if answer == "no":
        await query.edit_message_text(text("deleteme_kept"))
        return
    async with s.uow() as uow:
        result = await privacy.erase(uow, update.effective_user.id, s.now())
    if result == "urgent_open":  # an urgent alert was raised after the question was asked
        await query.edit_message_text(text("deleteme_urgent_open", clinic=s.settings.clinic_name))
    elif result == "not_registered":
        await query.edit_message_text(text("stale_button"))
    else:
        await query.edit_message_text(text("deleteme_done", clinic=s.settings.clinic_name))

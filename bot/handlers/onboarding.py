"""/start with an invite code, consent, check-in time and time zone."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.content import render, text
from bot.handlers.checkin import begin_checkin
from bot.handlers.common import is_staff, svc
from bot.services import onboarding
from bot.services.onboarding import Step


async def start_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = svc(context)
    code = context.args[0] if context.args else ""
    if not code and is_staff(update, context):
        await update.effective_message.reply_text(text("help_staff"))
        return

    async def show(step: Step) -> int:
        body, markup = render.onboarding_screen(step, s.settings)
        sent = await update.effective_message.reply_text(body, reply_markup=markup)
        return sent.message_id

    await onboarding.start_shown(s, update.effective_user.id, code, show)


async def onboarding_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, nonce: str, step: str, value: str
) -> None:
    s = svc(context)
    query = update.callback_query
    async with s.uow() as uow:
        result = await onboarding.press(
            uow,
            update.effective_user.id,
            update.effective_chat.id,
            nonce,
            step,
            value,
            s.settings.clinic_timezone,
            s.now(),
        )
    if result.status == "stale":
        await query.answer(text("stale_button"), show_alert=True)
        return
    await query.answer()
    await _show(update, context, result, edit=True)


async def onboarding_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Typed answers (a time, a time zone) during onboarding; False when not onboarding."""
    s = svc(context)
    typed = update.effective_message.text or ""
    async with s.uow() as uow:
        result = await onboarding.typed(
            uow, update.effective_user.id, update.effective_chat.id, typed, s.now()
        )
    if result is None:
        return False
    await _show(update, context, result, edit=False)
    return True


async def _show(update: Update, context: ContextTypes.DEFAULT_TYPE, result: Step, edit: bool):
    body, markup = render.onboarding_screen(result, svc(context).settings)
    if edit:
        await update.callback_query.edit_message_text(body, reply_markup=markup)
    else:
        await update.effective_message.reply_text(body, reply_markup=markup)
    if result.status == "registered":
        await begin_checkin(update, context, result.patient, first=True)

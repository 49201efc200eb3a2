"""The urgent path: advice to the patient first, then the clinic alert goes out."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.content import text
from bot.handlers.common import svc
from bot.rules.red_flags import detect_red_flag
from bot.services.safety import report_text_red_flag


async def send_urgent_advice(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, reason: str, kick: bool
) -> None:
    s = svc(context)
    if kick:
        # The alert is already committed; start delivering it without waiting for the tick.
        s.kick()
    await context.bot.send_message(
        chat_id, text("urgent_advice", reason=reason, clinic=s.settings.clinic_name)
    )


async def red_flag_in_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True if the message reported a red flag (and the urgent path was taken)."""
    msg = update.effective_message
    message = msg.text or msg.caption or ""
    hit = detect_red_flag(message)
    if hit is None:
        return False
    s = svc(context)
    async with s.uow() as uow:
        patient = await report_text_red_flag(uow, update.effective_user.id, hit, message, s.now())
    if patient is None:
        await context.bot.send_message(
            update.effective_chat.id, text("urgent_advice_unregistered", reason=hit.reason)
        )
    else:
        await send_urgent_advice(context, update.effective_chat.id, hit.reason, kick=True)
    return True

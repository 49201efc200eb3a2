"""The urgent path: a red flag in any text. The advice to the patient and the clinic alert are
queued together, durably, and the outbox sends the advice first."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.common import svc
from bot.rules.red_flags import detect_red_flag
from bot.services.safety import report_text_red_flag


async def red_flag_in_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True if the message reported a red flag (and the urgent path was taken)."""
    msg = update.effective_message
    message = msg.text or msg.caption or ""
    hit = detect_red_flag(message)
    if hit is None:
        return False
    s = svc(context)
    async with s.uow() as uow:
        await report_text_red_flag(uow, update.effective_user.id, hit, message, s.now())
    await s.deliver_urgent()
    return True

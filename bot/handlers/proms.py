"""Questionnaires (PROMs) in the chat: one tap per answer, a typed activity for the PSFS."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.content import render, text
from bot.handlers.common import svc
from bot.services import proms
from storage.models import Patient


async def offer(context: ContextTypes.DEFAULT_TYPE, patient: Patient) -> None:
    """Ask the questionnaire that is due (or left half done), if any."""
    s = svc(context)
    async with s.uow() as uow:
        response = await proms.offer(uow, patient, s.now())
    if response is not None:
        await _ask(context, patient.chat_id, response)


async def _ask(context, chat_id: int, response) -> None:
    body, markup = render.prom_question(response, first=True)
    await context.bot.send_message(chat_id, body, reply_markup=markup)


async def prom_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, nonce: str, payload: str
) -> None:
    s = svc(context)
    query = update.callback_query
    step, _, value = payload.partition("_")
    if not step.isdigit() or len(step) > 3:
        await query.answer(text("stale_button"), show_alert=True)
        return
    async with s.uow() as uow:
        result = await proms.answer(uow, update.effective_user.id, nonce, int(step), value, s.now())
    if result.status == "stale":
        await query.answer(text("stale_button"), show_alert=True)
        return
    await query.answer()
    if result.status == "question":
        body, markup = render.prom_question(result.response)
        await query.edit_message_text(body, reply_markup=markup)
        return
    await query.edit_message_text(render.prom_done(result.response))
    if result.next is not None:
        await _ask(context, update.effective_chat.id, result.next)


async def prom_text(update: Update, context: ContextTypes.DEFAULT_TYPE, patient: Patient) -> bool:
    """A typed activity for the PSFS; False when no questionnaire waits for one."""
    typed = update.effective_message.text or ""
    s = svc(context)
    async with s.uow() as uow:
        result = await proms.typed(uow, patient, typed, s.now())
    if result.status == "none":
        return False
    if result.status == "too_long":
        await update.effective_message.reply_text(render.prom_too_long())
        return True
    if result.status == "done":  # "that's all", typed
        await update.effective_message.reply_text(render.prom_done(result.response))
        if result.next is not None:
            await _ask(context, update.effective_chat.id, result.next)
        return True
    body, markup = render.prom_question(result.response)
    await update.effective_message.reply_text(body, reply_markup=markup)
    return True

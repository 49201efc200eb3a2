"""Handlers every chat needs: de-duplication, help, cancel, media we cannot read, errors."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.content import text
from bot.delivery.inbox import report_error
from bot.delivery.sender import raw_call
from bot.services import onboarding, patients
from bot.services.context import Services
from storage.models import Patient

log = logging.getLogger(__name__)


def svc(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


async def active_patient(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Patient | None:
    """The patient who sent this update, if they are registered and not discharged."""
    async with svc(context).uow() as uow:
        return await patients.active_patient(uow, update.effective_user.id)


async def patient_or_explain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Patient | None:
    """The sender as an active patient, or None after telling them how to join."""
    patient = await active_patient(update, context)
    if patient is None:
        clinic = svc(context).settings.clinic_name
        await update.effective_message.reply_text(text("not_registered", clinic=clinic))
    return patient


def is_staff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Staff actions need a listed staff id, in the clinic chat or in private."""
    s = svc(context).settings
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or not s.is_staff(user.id):
        return False
    return chat.type == "private" or chat.id == s.clinic_chat_id


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = svc(context)
    user = update.effective_user
    if is_staff(update, context):
        await update.effective_message.reply_text(text("help_staff"))
        return
    if update.effective_chat.type != "private":
        return  # not in a group for someone who is not staff: the group's budget is for alerts
    async with s.uow() as uow:
        conv = await onboarding.current(uow, user.id)
    key = "help_onboarding" if conv is not None else "help_patient"
    await update.effective_message.reply_text(text(key, clinic=s.settings.clinic_name))


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = svc(context)
    async with s.uow() as uow:
        had = await onboarding.cancel(uow, update.effective_user.id, s.now())
    await update.effective_message.reply_text(text("cancelled" if had else "nothing_to_cancel"))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(text("unknown_command"))


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log, tell the user kindly, never fail itself. A database outage is not the user's
    problem: the inbox handles the update again once the database is back."""
    if report_error(context.error):
        log.warning("database unavailable while handling an update: %r", context.error)
        return
    log.error("error while handling an update", exc_info=context.error)
    try:
        if isinstance(update, Update) and update.effective_chat is not None:
            if update.callback_query is not None:
                await update.callback_query.answer()
            if update.effective_chat.type == "private":
                await context.bot.send_message(update.effective_chat.id, text("error_generic"))
    except Exception:  # noqa: BLE001 - the error handler must not raise
        log.warning("could not tell the user about the error", exc_info=True)


async def edit_pressed(update: Update, body: str, markup=None) -> None:
    """Replace the text (and buttons) of the message whose button was pressed: the check-in's
    hot path, so the answer is not made into a ``Message`` nobody reads (see ``raw_call``)."""
    message = update.callback_query.message
    await raw_call(
        update.get_bot(),
        "edit_message_text",
        chat_id=message.chat.id,
        message_id=message.message_id,
        text=body,
        reply_markup=markup,
    )

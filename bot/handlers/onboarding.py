"""/start with an invite code, consent, check-in time and time zone."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.content import render, text
from bot.handlers.checkin import begin_checkin
from bot.handlers.common import is_staff, svc
from bot.services import onboarding
from bot.services.onboarding import Step


def _screen(
    step: Step, context: ContextTypes.DEFAULT_TYPE
) -> tuple[str, InlineKeyboardMarkup | None]:
    s = svc(context).settings
    conv = step.conv
    clinic = s.clinic_name
    match step.status:
        case "no_code":
            return text("start_no_code", clinic=clinic), None
        case (
            "invite_unknown" | "invite_used" | "invite_expired" | "invite_revoked" | "invite_taken"
        ):
            return text(f"start_{step.status}", clinic=clinic, days=s.invite_valid_days), None
        case "already_registered":
            return text("start_already", name=step.patient.name), None
        case "consent":
            return (
                text("consent", name=conv.data["name"], clinic=clinic),
                render.consent_keyboard(conv.nonce),
            )
        case "declined":
            return text("consent_declined"), None
        case "time":
            return text("ask_time"), render.time_keyboard(conv.nonce)
        case "bad_time":
            return text("bad_time"), render.time_keyboard(conv.nonce)
        case "timezone":
            return (
                text("ask_timezone", time=conv.data["checkin_time"], clinic_tz=s.clinic_timezone),
                render.timezone_keyboard(conv.nonce, s.clinic_timezone),
            )
        case "bad_timezone":
            return text("bad_timezone"), render.timezone_keyboard(conv.nonce, s.clinic_timezone)
        case "timezone_several":
            return (
                render.several_zones(step.place),
                render.timezone_keyboard(conv.nonce, s.clinic_timezone),
            )
        case "registered":
            p = step.patient
            return text("registered", name=p.name, time=p.checkin_time, timezone=p.timezone), None
        case _:
            return text("stale_button"), None


async def start_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = svc(context)
    code = context.args[0] if context.args else ""
    if not code and is_staff(update, context):
        await update.effective_message.reply_text(text("help_staff"))
        return
    async with s.uow() as uow:
        step = await onboarding.start(uow, update.effective_user.id, code, s.now())
    body, markup = _screen(step, context)
    sent = await update.effective_message.reply_text(body, reply_markup=markup)
    if step.status == "consent":
        async with s.uow() as uow:
            await onboarding.remember_message(uow, update.effective_user.id, sent.message_id)


async def onboarding_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, nonce: str, step: str, value: str
) -> None:
    s = svc(context)
    query = update.callback_query
    user = update.effective_user
    async with s.uow() as uow:
        match step, value:
            case "c", "y" | "n":
                result = await onboarding.consent(uow, user.id, nonce, value == "y", s.now())
            case "t", _:
                result = await onboarding.choose_time(uow, user.id, nonce, value, s.now())
            case "z", "clinic":
                result = await onboarding.choose_timezone(
                    uow,
                    user.id,
                    update.effective_chat.id,
                    nonce,
                    s.settings.clinic_timezone,
                    s.now(),
                )
            case _:
                result = Step("stale")
    if result.status == "stale":
        await query.answer(text("stale_button"), show_alert=True)
        return
    await query.answer()
    await _show(update, context, result, edit=True)


async def onboarding_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Typed answers (a time, a time zone) during onboarding; False when not onboarding."""
    s = svc(context)
    user = update.effective_user
    typed = update.effective_message.text or ""
    async with s.uow() as uow:
        conv = await onboarding.current(uow, user.id)
        if conv is None:
            return False
        if conv.step == "time":
            result = await onboarding.choose_time(uow, user.id, None, typed, s.now())
        elif conv.step == "timezone":
            result = await onboarding.choose_timezone(
                uow, user.id, update.effective_chat.id, None, typed, s.now()
            )
        else:  # consent needs a button; show it again
            result = Step("consent", conv=conv)
    await _show(update, context, result, edit=False)
    return True


async def _show(update: Update, context: ContextTypes.DEFAULT_TYPE, result: Step, edit: bool):
    body, markup = _screen(result, context)
    if edit:
        await update.callback_query.edit_message_text(body, reply_markup=markup)
    else:
        await update.effective_message.reply_text(body, reply_markup=markup)
    if result.status == "registered":
        await begin_checkin(update, context, result.patient, first=True)

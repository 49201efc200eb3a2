"""/settings: times, time zone, pause and resume (state in the database, like every flow)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.content import callbacks, label, render, text
from bot.content.render import button
from bot.handlers.common import svc
from bot.services import patient_settings, reminders
from bot.services.patient_settings import Result

CHOICES = {
    "ct": "checkin_time",
    "et": "exercise_times",
    "tz": "timezone",
    "wk": "weekly",
    "ps": "pause",
    "rs": "resume",
}
LABELS = {
    "ct": "btn_set_checkin",
    "et": "btn_set_exercise",
    "tz": "btn_set_timezone",
    "wk": "btn_set_weekly",
    "ps": "btn_set_pause",
    "rs": "btn_set_resume",
}


def _menu(result: Result) -> tuple[str, InlineKeyboardMarkup]:
    p, nonce = result.patient, result.conv.nonce
    paused = (
        text("settings_paused", until=p.paused_until.isoformat())
        if p.paused_until
        else text("settings_active")
    )
    body = text(
        "settings_menu",
        checkin_time=p.checkin_time,
        exercise_times=", ".join(reminders.parse_times(p.exercise_times)) or text("settings_none"),
        timezone=p.timezone,
        weekly=render.weekly_setting(p),
        paused=paused,
    )
    codes = ["ct", "et", "tz", "wk", "ps"] + (["rs"] if p.paused_until else [])
    rows = [[button(label(LABELS[c]), callbacks.SETTINGS.build(nonce, c))] for c in codes]
    return body, InlineKeyboardMarkup(rows)


def _saved(result: Result) -> str:
    p = result.patient
    return text(
        result.status,
        checkin_time=p.checkin_time,
        timezone=p.timezone,
        exercise_times=", ".join(reminders.parse_times(p.exercise_times)),
        until=p.paused_until.isoformat() if p.paused_until else "",
        weekly=render.weekly_setting(p),
    )


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = svc(context)
    async with s.uow() as uow:
        patient = await uow.patients.by_user(update.effective_user.id)
        if patient is None or patient.status != "active":
            await update.effective_message.reply_text(
                text("not_registered", clinic=s.settings.clinic_name)
            )
            return
        result = await patient_settings.open_menu(uow, patient, s.now())
    body, markup = _menu(result)
    await update.effective_message.reply_text(body, reply_markup=markup)


async def settings_button(update: Update, context, nonce: str, code: str) -> None:
    s = svc(context)
    query = update.callback_query
    async with s.uow() as uow:
        patient = await uow.patients.by_user(update.effective_user.id)
        result = Result("stale")
        if patient is not None and code in CHOICES:
            result = await patient_settings.choose(uow, patient, nonce, CHOICES[code], s.now())
    if result.status == "stale":
        await query.answer(text("stale_button"), show_alert=True)
        return
    await query.answer()
    if result.status.startswith("saved_"):
        await query.edit_message_text(_saved(result))
    elif result.status == "ask_timezone":
        await query.edit_message_text(text("ask_timezone_setting"))
    else:
        await query.edit_message_text(text(result.status))


async def settings_text(update: Update, context, patient) -> bool:
    s = svc(context)
    async with s.uow() as uow:
        result = await patient_settings.typed(
            uow, patient, update.effective_message.text or "", s.now()
        )
    if result is None:
        return False
    if result.status.startswith("saved_"):
        await update.effective_message.reply_text(_saved(result))
    elif result.status == "timezone_several":
        await update.effective_message.reply_text(render.several_zones(result.place))
    else:
        await update.effective_message.reply_text(text(result.status))
    return True

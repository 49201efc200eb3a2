"""Exercise plans (/plans, /plan, /exercises), reminder buttons and the check-in prompt."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.content import callbacks, text
from bot.content.exercises import library
from bot.content.render import button, render_exercise, render_plan
from bot.handlers.checkin import begin_checkin
from bot.handlers.common import active_patient, svc
from bot.handlers.staff import _refuse, _reply_long
from bot.services import patient_settings, reminders
from bot.services.questions import queue_to_patient


def _times(raw: str) -> str:
    return ", ".join(reminders.parse_times(raw)) or text("settings_none")


async def plans_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await _refuse(update, context, "plans"):
        return
    lines = [text("plans_header")] + [
        text("plans_row", id=p.id, name=p.name, description=p.description)
        for p in library().plans.values()
    ]
    await _reply_long(update, lines)


async def plan_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await _refuse(update, context, "plan"):
        return
    s = svc(context)
    args = context.args or []
    if len(args) != 2 or not args[0].isdigit() or len(args[0]) > 9:
        await update.effective_message.reply_text(text("plan_usage"))
        return
    async with s.uow() as uow:
        patient, plan_id = await patient_settings.assign_plan(
            uow, int(args[0]), args[1], update.effective_user.id, s.now()
        )
    if patient is None:
        await update.effective_message.reply_text(text("patient_unknown", id=args[0]))
        return
    if plan_id is None:
        await update.effective_message.reply_text(text("plan_unknown", plan=args[1]))
        return
    plan = library().plan(plan_id)
    times = _times(patient.exercise_times)
    await update.effective_message.reply_text(
        text("plan_assigned", name=patient.name, id=patient.id, plan=plan.name, times=times)
    )
    async with s.uow() as uow:
        body = text("plan_told_patient", plan=plan.name, times=times)
        await queue_to_patient(uow, patient, body, s.now())


async def exercises_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    patient = await active_patient(update, context)
    plan = library().plan(patient.plan_id) if patient and patient.plan_id else None
    if plan is None:
        await update.effective_message.reply_text(text("no_plan"))
        return
    # One message with the plan; each exercise opens from its button, not as a flood of texts.
    rows = [[button(ex.name, callbacks.EXERCISE.build(ex.id, "show"))] for ex in plan.exercises]
    await update.effective_message.reply_text(
        render_plan(plan), reply_markup=InlineKeyboardMarkup(rows)
    )


async def exercise_button(update: Update, context, exercise_id: str) -> None:
    query = update.callback_query
    ex = library().exercise(exercise_id)
    if ex is None:
        await query.answer(text("stale_button"), show_alert=True)
        return
    await query.answer()
    await context.bot.send_message(update.effective_chat.id, render_exercise(ex))


async def reminder_button(update: Update, context, push_ref: str, answer: str) -> None:
    s = svc(context)
    query = update.callback_query
    patient = await active_patient(update, context)
    if patient is None or answer not in ("done", "snz", "skip"):  # push_ref: digits
        await query.answer(text("stale_button"), show_alert=True)
        return
    async with s.uow() as uow:
        status = await reminders.log_exercise(uow, patient, int(push_ref), answer, s.now())
    if not status:
        await query.answer(text("exercise_button_old"), show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(query.message.text_html + "\n\n" + text(f"exercise_{status}"))


async def checkin_prompt_button(update: Update, context, push_ref: str) -> None:
    await update.callback_query.answer()
    patient = await active_patient(update, context)
    if patient is None:
        return
    await begin_checkin(update, context, patient)

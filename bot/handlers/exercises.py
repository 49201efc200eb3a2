"""Exercise plans (/plans, /plan, /exercises), reminder buttons and the check-in prompt."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.content import render, text
from bot.content.exercises import library
from bot.handlers.checkin import begin_checkin
from bot.handlers.common import active_patient, svc
from bot.handlers.staff import _refuse, _reply_long
from bot.services import patient_settings, reminders


async def plans_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await _refuse(update, context, "plans"):
        return
    await _reply_long(update, render.plans_lines(library().plans.values()))


async def plan_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await _refuse(update, context, "plan"):
        return
    s = svc(context)
    args = context.args or []
    if len(args) != 2 or not args[0].isdigit() or len(args[0]) > 9:
        await update.effective_message.reply_text(text("plan_usage"))
        return
    async with s.uow() as uow:  # the patient's message is queued with the plan
        patient, plan = await patient_settings.assign_plan_and_tell(
            uow, int(args[0]), args[1], update.effective_user.id, s.now()
        )
    if patient is None:
        await update.effective_message.reply_text(text("patient_unknown", id=args[0]))
        return
    if plan is None:
        await update.effective_message.reply_text(text("plan_unknown", plan=args[1]))
        return
    await update.effective_message.reply_text(render.plan_assigned(patient, plan))


async def exercises_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    patient = await active_patient(update, context)
    plan = library().plan(patient.plan_id) if patient and patient.plan_id else None
    if plan is None:
        await update.effective_message.reply_text(text("no_plan"))
        return
    # One message with the plan; each exercise opens from its button, not as a flood of texts.
    await update.effective_message.reply_text(
        render.render_plan(plan), reply_markup=render.plan_keyboard(plan)
    )


async def exercise_button(update: Update, context, exercise_id: str) -> None:
    query = update.callback_query
    ex = library().exercise(exercise_id)
    if ex is None:
        await query.answer(text("stale_button"), show_alert=True)
        return
    await query.answer()
    await context.bot.send_message(update.effective_chat.id, render.render_exercise(ex))


async def reminder_button(update: Update, context, push_ref: str, answer: str) -> None:
    s = svc(context)
    query = update.callback_query
    status = None
    if answer in ("done", "snz", "skip"):  # push_ref: digits
        async with s.uow() as uow:
            status = await reminders.log_exercise_for(
                uow, update.effective_user.id, int(push_ref), answer, s.now()
            )
    if status is None:
        await query.answer(text("stale_button"), show_alert=True)
        return
    if not status:
        await query.answer(text("exercise_button_old"), show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(render.exercise_logged(query.message.text_html, status))


async def checkin_prompt_button(update: Update, context, push_ref: str) -> None:
    await update.callback_query.answer()
    patient = await active_patient(update, context)
    if patient is None:
        return
    await begin_checkin(update, context, patient)

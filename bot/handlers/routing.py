"""Dispatch of free text and of button presses to the flow they belong to.

Order matters and is safety-first: a red flag in any text is acted on before anything else,
plain "help" included. Then "help" itself; then the open flow (onboarding, a check-in note,
a settings question); then small talk (hello, thanks, an emoji); then the FAQ.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot.content import callbacks, text
from bot.handlers import exercises, privacy, proms, questions, settings
from bot.handlers.checkin import checkin_button, checkin_note
from bot.handlers.common import active_patient, help_command
from bot.handlers.onboarding import onboarding_button, onboarding_text
from bot.handlers.safety import red_flag_answer, red_flag_in_text
from bot.handlers.staff import alert_button
from bot.language.plain_words import plain_request


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await red_flag_in_text(update, context):
        # A note that reports a red flag is still the patient's note: keep it.
        patient = await active_patient(update, context)
        if patient is not None:
            await checkin_note(update, context, patient, urgent=True)
        return
    # "help" or "menu" typed instead of /help: the help, in the middle of a flow too.
    said = plain_request(update.effective_message.text)
    if said == "help":
        await help_command(update, context)
        return
    if await onboarding_text(update, context):
        return
    patient = await active_patient(update, context)
    if patient is not None:
        if await checkin_note(update, context, patient):
            return
        if await proms.prom_text(update, context, patient):
            return
        if await settings.settings_text(update, context, patient):
            return
    if said is not None:  # hello, thanks, ok, an emoji: not a question for the FAQ
        await questions.small_talk(update, context, patient, said)
        return
    await questions.free_text_question(update, context, patient)


def button_routes() -> list[CallbackQueryHandler]:
    """One route per kind of button, by the pattern that owns its data
    (:mod:`bot.content.callbacks`); the fields reach the handler as arguments, already of the
    right shape. Anything no pattern accepts (an old or forged button) is told it is stale."""

    def fields(handler, keep: tuple[int, ...] = (0, 1, 2)):
        async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            groups = context.matches[0].groups()
            await handler(update, context, *(groups[i] for i in keep if i < len(groups)))

        return on_press

    async def alert(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        alert_id, action = context.matches[0].groups()
        await alert_button(update, context, action, int(alert_id))

    routes = [
        (callbacks.ONBOARDING, fields(onboarding_button)),
        (callbacks.CHECKIN, fields(checkin_button)),
        (callbacks.RED_FLAG, fields(red_flag_answer)),
        (callbacks.ALERT, alert),
        (callbacks.EXERCISE_REMINDER, fields(exercises.reminder_button)),
        (callbacks.EXERCISE, fields(exercises.exercise_button, keep=(0,))),
        (callbacks.CHECKIN_PROMPT, fields(exercises.checkin_prompt_button, keep=(0,))),
        (callbacks.SETTINGS, fields(settings.settings_button)),
        (callbacks.ERASE, fields(privacy.deleteme_button)),
        (callbacks.QUESTIONNAIRE, fields(proms.prom_button, keep=(0, 2))),
        (callbacks.FAQ, fields(questions.faq_button)),
    ]
    return [CallbackQueryHandler(fn, pattern=area.pattern) for area, fn in routes] + [
        CallbackQueryHandler(stale_button, pattern=callbacks.ANY)
    ]


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer(text("stale_button"), show_alert=True)

"""Dispatch of free text and of button presses to the flow they belong to.

Order matters and is safety-first: a red flag in any text is acted on before anything else,
plain "help" included. Then "help" itself; then the open flow (onboarding, a check-in note,
a settings question); then small talk (hello, thanks, an emoji); then the FAQ.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import render
from bot.content import text
from bot.handlers import exercises, privacy, proms, questions, settings
from bot.handlers.checkin import checkin_button, checkin_note
from bot.handlers.common import active_patient, help_command
from bot.handlers.onboarding import onboarding_button, onboarding_text
from bot.handlers.safety import red_flag_answer, red_flag_in_text
from bot.handlers.staff import alert_button
from bot.rules.plain_words import plain_request

# Areas whose first field is a number, checked here once, with its longest form (database ids
# are 32-bit; the erase button names a Telegram user id, which can be longer).
_ID_DIGITS = {"al": 9, "ex": 9, "ck": 9, "dm": 12, "rf": 9}


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await red_flag_in_text(update, context):
        # A note that reports a red flag is still the patient's note: keep it.
        patient = await active_patient(update, context)
        if patient is not None:
            await checkin_note(update, context, patient)
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


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    parsed = render.parse_callback(query.data)
    if parsed is None:
        await query.answer(text("stale_button"), show_alert=True)
        return
    area, a, b, c = parsed
    digits = _ID_DIGITS.get(area)
    if digits and not (a.isdigit() and len(a) <= digits):
        await query.answer(text("stale_button"), show_alert=True)
        return
    if area == "ob":
        await onboarding_button(update, context, a, b, c)
    elif area == "ci":
        await checkin_button(update, context, a, b, c)
    elif area == "rf" and c:
        await red_flag_answer(update, context, a, b, c)
    elif area == "al" and b in ("ack", "dia") and not c:
        await alert_button(update, context, b, int(a))
    elif area == "ex" and not c:
        await exercises.reminder_button(update, context, a, b)
    elif area == "xe" and b == "show" and not c:
        await exercises.exercise_button(update, context, a)
    elif area == "ck" and b == "go" and not c:
        await exercises.checkin_prompt_button(update, context, a)
    elif area == "st" and not c:
        await settings.settings_button(update, context, a, b)
    elif area == "dm" and not c:
        await privacy.deleteme_button(update, context, a, b)
    elif area == "pr" and b == "a" and c:
        await proms.prom_button(update, context, a, c)
    elif area == "fq" and b in ("show", "ask") and not c:
        await questions.faq_button(update, context, a, b)
    else:
        await query.answer(text("stale_button"), show_alert=True)

"""/progress: the patient's chart and how far they have come."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from bot.content import render, text
from bot.handlers.common import patient_or_explain, svc
from bot.outcomes.chart import render_png
from bot.services.progress import own_progress


async def progress_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    patient = await patient_or_explain(update, context)
    if patient is None:
        return
    s = svc(context)
    async with s.uow() as uow:
        progress, psfs = await own_progress(uow, patient)
    if not progress.enough:
        await update.effective_message.reply_text(text("progress_too_few", days=len(progress.days)))
        return
    png = await asyncio.to_thread(render_png, progress)  # ~0.3 s of CPU: off the event loop
    await update.effective_message.reply_photo(png, caption=render.progress_caption(progress, psfs))

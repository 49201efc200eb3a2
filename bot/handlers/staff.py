"""Staff commands and alert buttons. Only listed staff, in the clinic chat or in private."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.content import render, text
from bot.handlers.common import is_staff, svc
from bot.outcomes.chart import render_png
from bot.services import alerts, export, invites
from bot.services import progress as progress_service
from bot.services import staff as staff_service

log = logging.getLogger(__name__)


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, what: str) -> bool:
    if is_staff(update, context):
        return False
    s = svc(context)
    async with s.uow() as uow:
        await staff_service.record_refusal(uow, update.effective_user.id, what, s.now())
    log.warning("staff command %s refused for a non-staff user", what)
    # In the clinic group a refusal would spend the group's 20 messages a minute, which urgent
    # alerts need: refused there without a word (audited); in private, told kindly.
    if update.effective_chat.type == "private":
        await update.effective_message.reply_text(text("staff_only"))
    return True


async def _patient_arg(
    update: Update, context: ContextTypes.DEFAULT_TYPE, command: str
) -> int | None:
    """The patient ID of a staff command "/command ID", once the user is known to be staff;
    None (with the reason said or audited) otherwise."""
    if await _refuse(update, context, command):
        return None
    patient_id = _id_arg(context)
    if patient_id is None:
        await update.effective_message.reply_text(text("patient_usage", command=f"/{command}"))
    return patient_id


def _id_arg(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    if len(context.args or []) != 1 or not context.args[0].isdigit() or len(context.args[0]) > 9:
        return None
    return int(context.args[0])


async def invite_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/invite NAME [| PHONE | REF]"""
    if await _refuse(update, context, "invite"):
        return
    s = svc(context)
    try:
        async with s.uow() as uow:
            inv = await invites.staff_invite(
                uow,
                " ".join(context.args or []),
                created_by=update.effective_user.id,
                now=s.now(),
                valid_days=s.settings.invite_valid_days,
            )
    except invites.InviteError as exc:
        await update.effective_message.reply_text(text(exc.key))
        return
    await _send_invite(update, context, inv, "invite_created")


async def reinvite_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reinvite N: a new link for invite N; the old one stops working."""
    if await _refuse(update, context, "reinvite"):
        return
    s = svc(context)
    invite_id = _id_arg(context)
    if invite_id is None:
        await update.effective_message.reply_text(text("reinvite_usage"))
        return
    async with s.uow() as uow:
        result = await invites.staff_reissue(
            uow,
            invite_id,
            created_by=update.effective_user.id,
            now=s.now(),
            valid_days=s.settings.invite_valid_days,
        )
    if result.status != "reissued":
        await update.effective_message.reply_text(text(f"reinvite_{result.status}", id=invite_id))
        return
    await _send_invite(update, context, result.invite, "invite_reissued", old=invite_id)


async def _send_invite(update, context, inv: invites.NewInvite, key: str, **extra) -> None:
    link = invites.deep_link(context.bot.username, inv.code)
    await update.effective_message.reply_text(
        render.invite_text(key, inv, link, svc(context).settings, **extra)
    )


async def patients_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await _refuse(update, context, "patients"):
        return
    s = svc(context)
    async with s.uow() as uow:
        rows = await staff_service.patient_rows(uow)
    if not rows:
        await update.effective_message.reply_text(text("patients_none"))
        return
    await _reply_long(update, render.patients_lines(rows))


async def _reply_long(update: Update, lines: list[str]) -> None:
    """Telegram caps a message at 4096 characters: split on line boundaries."""
    for message in render.chunk_lines(lines):
        await update.effective_message.reply_text(message)


async def _diary_lines(
    update: Update, context: ContextTypes.DEFAULT_TYPE, patient_id: int, page: int = 1
) -> list[str]:
    s = svc(context)
    async with s.uow() as uow:
        diary = await staff_service.diary(uow, patient_id, update.effective_user.id, s.now(), page)
    if diary is None:
        return [text("patient_unknown", id=patient_id)]
    return render.diary_lines(diary, s.settings)


async def note_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/note ID DATE: a diary note in full."""
    if await _refuse(update, context, "note"):
        return
    args = context.args or []
    day = _date_arg(args[1]) if len(args) == 2 else None
    if day is None or not args[0].isdigit() or len(args[0]) > 9:
        await update.effective_message.reply_text(text("note_usage"))
        return
    s = svc(context)
    async with s.uow() as uow:
        patient, entries = await staff_service.whole_notes(
            uow, int(args[0]), day, update.effective_user.id, s.now()
        )
    if patient is None:
        await update.effective_message.reply_text(text("patient_unknown", id=args[0]))
        return
    if not entries:
        await update.effective_message.reply_text(text("note_none", id=patient.id, day=day))
        return
    for message in render.note_messages(patient, entries, day):
        await update.effective_message.reply_text(message)


def _date_arg(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


async def patient_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await _refuse(update, context, "patient"):
        return
    args = context.args or []
    numbers = [int(a) for a in args if a.isdigit() and len(a) <= 9]
    if len(numbers) != len(args) or not 1 <= len(args) <= 2:
        await update.effective_message.reply_text(text("patient_usage", command="/patient"))
        return
    page = numbers[1] if len(numbers) == 2 else 1
    await _reply_long(update, await _diary_lines(update, context, numbers[0], page))
    if page == 1:
        await _send_chart(update, context, numbers[0])


async def _send_chart(update: Update, context: ContextTypes.DEFAULT_TYPE, patient_id: int) -> None:
    """The patient's progress chart, under the first page of their diary."""
    s = svc(context)
    async with s.uow() as uow:
        chart = await progress_service.chart_of(uow, patient_id)
    if chart is None or not chart[1].enough:
        return
    patient, progress = chart
    png = await asyncio.to_thread(render_png, progress)
    await update.effective_message.reply_photo(
        png, caption=render.staff_progress_caption(patient, progress)
    )


async def alerts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await _refuse(update, context, "alerts"):
        return
    s = svc(context)
    async with s.uow() as uow:
        rows = await staff_service.open_alerts(uow)
    if not rows:
        await update.effective_message.reply_text(text("alerts_none"))
        return
    await _reply_long(update, render.alerts_lines(rows, s.settings))


async def discharge_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    patient_id = await _patient_arg(update, context, "discharge")
    if patient_id is None:
        return
    s = svc(context)
    async with s.uow() as uow:
        patient, done = await staff_service.discharge(
            uow, patient_id, update.effective_user.id, s.now()
        )
    if patient is None:
        await update.effective_message.reply_text(text("patient_unknown", id=patient_id))
        return
    key = "discharged" if done else "already_discharged"
    await update.effective_message.reply_text(text(key, name=patient.name, id=patient.id))


async def alert_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, alert_id: int
) -> None:
    if action == "dia":
        await _alert_diary(update, context, alert_id)
    else:
        await _acknowledge(update, context, alert_id)


async def _alert_diary(update: Update, context: ContextTypes.DEFAULT_TYPE, alert_id: int) -> None:
    """The Diary button of an alert: the first page of the patient's diary, for staff."""
    s = svc(context)
    query = update.callback_query
    if not is_staff(update, context):
        await query.answer(text("staff_only"), show_alert=True)
        return
    async with s.uow() as uow:
        alert, diary = await staff_service.alert_diary(
            uow, alert_id, update.effective_user.id, s.now()
        )
    if alert is None:
        await query.answer(text("ack_unknown"), show_alert=True)
        return
    await query.answer()
    if diary is None:
        await _reply_long(update, [text("patient_unknown", id=alert.patient_id)])
    else:
        await _reply_long(update, render.diary_lines(diary, s.settings))


async def _acknowledge(update: Update, context: ContextTypes.DEFAULT_TYPE, alert_id: int) -> None:
    s = svc(context)
    query = update.callback_query
    user = update.effective_user
    staff = is_staff(update, context)
    chat_id = update.effective_chat.id
    pressed = (0 if chat_id == s.settings.clinic_chat_id else chat_id, query.message.message_id)
    async with s.uow() as uow:
        result = await alerts.acknowledge(
            uow, alert_id, user.id, user.full_name[:100], staff, s.now(), pressed
        )
    if result.status == "refused":
        log.warning("non-staff user pressed Acknowledge on alert %s", alert_id)
        await query.answer(text("ack_refused"), show_alert=True)
        return
    if result.status == "unknown":
        await query.answer(text("ack_unknown"), show_alert=True)
        return
    await query.answer(text("ack_done" if result.status == "acknowledged" else "ack_already"))
    try:
        await query.edit_message_text(render.alert_text(result.alert, result.patient, s.settings))
    except BadRequest as exc:  # pressed twice: the message already shows the acknowledgement
        if "not modified" not in exc.message.lower():
            raise


async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export ID: the patient's record as a FHIR R4 Bundle (a JSON file)."""
    patient_id = await _patient_arg(update, context, "export")
    if patient_id is None:
        return
    s = svc(context)
    async with s.uow() as uow:
        made = await export.patient_bundle(
            uow, patient_id, "staff", update.effective_user.id, s.now()
        )
    await _send_file(update, patient_id, made, f"patient-{patient_id}.fhir.json", "export_caption")


async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report ID: the discharge report (PDF)."""
    patient_id = await _patient_arg(update, context, "report")
    if patient_id is None:
        return
    s = svc(context)
    async with s.uow() as uow:
        made = await export.discharge_report(
            uow, patient_id, "staff", update.effective_user.id, s.settings, s.now()
        )
    name = f"discharge-report-{patient_id}.pdf"
    await _send_file(update, patient_id, made, name, "report_caption")


async def _send_file(update: Update, patient_id: int, made, filename: str, caption: str) -> None:
    """A patient's file (``made``: (patient, bytes), or None for an unknown ID) as a document."""
    if made is None:
        await update.effective_message.reply_text(text("patient_unknown", id=patient_id))
        return
    patient, data = made
    await update.effective_message.reply_document(
        data, filename=filename, caption=text(caption, name=patient.name, id=patient_id)
    )

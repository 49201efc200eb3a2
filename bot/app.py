"""The one place that assembles the Telegram application."""

from __future__ import annotations

import asyncio
import contextvars
import logging

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.content import ContentError, messages, read, snippets, use_dir
from bot.content.exercises import library
from bot.delivery import digest as digest_delivery
from bot.delivery.http import AiohttpRequest
from bot.delivery.limiter import Limiter
from bot.delivery.outbox import FAST_LANE, Outbox
from bot.delivery.sender import Sender
from bot.delivery.transport import BotRequest
from bot.handlers import (
    checkin,
    common,
    exercises,
    onboarding,
    privacy,
    progress,
    questions,
    routing,
    safety,
    staff,
)
from bot.handlers import settings as settings_handlers
from bot.language.places import place_table
from bot.language.plain_words import vocabulary
from bot.language.red_flag_model import load_concepts, load_model
from bot.language.red_flags import load_rules
from bot.outcomes.proms import content as prom_content
from bot.runtime.clock import Clock, make_clock
from bot.services.context import Services
from bot.services.questions import faq_index
from bot.settings import Settings
from storage.db import make_engine, make_sessionmaker

log = logging.getLogger(__name__)

PATIENT_COMMANDS = [
    ("checkin", "Record today's pain and symptoms"),
    ("exercises", "Your exercise plan"),
    ("settings", "Times, time zone, pause"),
    ("faq", "Answers to common questions"),
    ("progress", "A chart of your pain and exercises"),
    ("mydata", "A file with everything stored about you"),
    ("deleteme", "Erase everything stored about you"),
    ("help", "What I can do"),
    ("cancel", "Stop what we are doing"),
]
STAFF_COMMANDS = [
    ("invite", "Invite a patient: /invite NAME | PHONE | REF"),
    ("reinvite", "A new link for invite N: /reinvite N"),
    ("patients", "All patients with latest scores"),
    ("patient", "A patient's diary: /patient ID [PAGE]"),
    ("note", "A diary note in full: /note ID DATE"),
    ("alerts", "Open alerts"),
    ("plans", "Exercise plans"),
    ("plan", "Assign a plan: /plan ID PLAN"),
    ("export", "A patient's record as FHIR: /export ID"),
    ("report", "A patient's discharge report (PDF): /report ID"),
    ("discharge", "Discharge a patient: /discharge ID"),
    ("help", "Staff commands"),
]


_background: set[asyncio.Task] = set()  # strong references to fire-and-forget tasks


def _outbox(context: ContextTypes.DEFAULT_TYPE) -> Outbox:
    return context.application.bot_data["outbox"]


async def fast_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Urgent advice and alerts, answers and routine alerts that are due (retries,
    re-notifications): a job of its own, so they never wait behind a batch of reminders."""
    await _outbox(context).drain_fast()


async def bulk_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reminders, prompts and the daily digest: the database says what is due."""
    app = context.application
    running = lambda: app.running  # noqa: E731 - stops a batch on SIGTERM
    await _outbox(context).drain_all(running)
    if app.running:
        s: Services = app.bot_data["services"]
        await digest_delivery.run_if_due(s.sessionmaker, s.settings, s.clock)


async def _set_commands(app: Application, settings: Settings, services: Services) -> None:
    patient = [BotCommand(c, d) for c, d in PATIENT_COMMANDS]
    staff_cmds = [BotCommand(c, d) for c, d in STAFF_COMMANDS]
    await app.bot.set_my_commands(patient, scope=BotCommandScopeDefault())
    chats = {settings.clinic_chat_id, *settings.clinic_staff_ids}
    async with services.uow() as uow:
        had = await uow.staff_menus.chats()
    given, taken = set(), set()
    for chat_id in sorted(chats):
        try:
            await app.bot.set_my_commands(staff_cmds, scope=BotCommandScopeChat(chat_id))
            given.add(chat_id)
        except TelegramError as exc:
            # A staff member who has not opened the bot yet has no chat with it.
            log.info("staff command menu not set for chat %s: %s", chat_id, exc.message)
    for chat_id in sorted(had - chats):  # no longer on the staff list: back to the patients'
        try:
            await app.bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
            taken.add(chat_id)
        except TelegramError as exc:
            log.info("staff command menu not removed for chat %s: %s", chat_id, exc.message)
    async with services.uow() as uow:
        await uow.staff_menus.record(given, taken, services.now())
        await uow.commit()


# Each content file and what is built from it, in an order where a file comes after those it
# uses (messages and the FAQ put in snippets of safety.yaml).
CONTENT = (
    ("safety.yaml", snippets),
    ("messages.yaml", messages),
    ("exercises.yaml", library),
    ("faq.yaml", faq_index),
    ("red_flags.yaml", load_rules),
    ("red_flag_model.yaml", load_concepts),
    ("red_flag_model.json", load_model),
    ("places.yaml", place_table),
    ("plain_words.yaml", vocabulary),
    ("proms.yaml", prom_content),
)


def load_content(directory: str | None = None) -> None:
    """Every content file of ``directory`` (None: bot/content) parsed, checked against its
    schema and built into what the bot uses, once, at start. A file that does not parse or
    does not fit raises :class:`ContentError`: one line naming the file and where."""
    use_dir(directory)
    for name, _ in CONTENT:
        read(name)
    for name, build in CONTENT:
        try:
            build()
        except ContentError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            problem = str(exc).removeprefix(f"{name}: ")
            raise ContentError(name, "", problem) from None


def build_application(settings: Settings, clock: Clock | None = None) -> Application:
    clock = clock or make_clock(settings.clock_file)

    async def post_init(app: Application) -> None:
        engine = make_engine(settings.database_url)
        sm = make_sessionmaker(engine)
        outbox = Outbox(sm, Sender(app.bot), settings, clock)

        def drain_fast() -> asyncio.Task:
            # Outside the update's context: the outbox's commits are not the update's.
            task = asyncio.get_running_loop().create_task(
                outbox.drain_fast(), context=contextvars.Context()
            )
            _background.add(task)
            task.add_done_callback(_background.discard)
            return task

        def on_queued(priority: int) -> None:
            if priority <= FAST_LANE:  # wake the fast lane
                drain_fast()

        async def deliver_now() -> None:
            try:
                await drain_fast()
            except Exception:  # noqa: BLE001 - queued durably; the next tick sends it
                log.warning("urgent messages not sent at once; the outbox retries", exc_info=True)

        services = Services(settings, sm, clock, on_queued=on_queued, deliver_now=deliver_now)
        app.bot_data["services"] = services
        app.bot_data["outbox"] = outbox
        app.bot_data["engine"] = engine
        # Content is read, checked and indexed once, here, not on the first message that
        # needs it (building the FAQ index took about half a second).
        load_content(settings.content_dir)
        await _set_commands(app, settings, services)
        jobs = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
        app.job_queue.run_repeating(
            fast_tick, interval=settings.tick_seconds, first=0.1, name="fast", job_kwargs=jobs
        )
        app.job_queue.run_repeating(
            bulk_tick, interval=settings.tick_seconds, first=0.2, name="bulk", job_kwargs=jobs
        )
        log.info("bot @%s ready", app.bot.username)

    async def post_shutdown(app: Application) -> None:
        engine = app.bot_data.get("engine")
        if engine is not None:
            await engine.dispose()

    app = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.telegram_api_base_url)
        # Updates come from the inbox (bot.delivery.inbox), not from PTB's Updater.
        .updater(None)
        .request(BotRequest(Limiter(settings.send_rate_per_second)))
        .get_updates_request(AiohttpRequest())
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    private = filters.ChatType.PRIVATE
    # 1. Before anything: updates we never act on stop here; edits are checked for red flags.
    #    (A re-delivered update never gets this far: the inbox stores each update id once.)
    app.add_handler(TypeHandler(Update, safety.screen_update), group=-1)
    # 2. Commands.
    app.add_handler(CommandHandler("start", onboarding.start_command, private))
    app.add_handler(CommandHandler("help", common.help_command))
    app.add_handler(CommandHandler("cancel", common.cancel_command, private))
    app.add_handler(CommandHandler("checkin", checkin.checkin_command, private))
    app.add_handler(CommandHandler("faq", questions.faq_command, private))
    app.add_handler(CommandHandler("exercises", exercises.exercises_command, private))
    app.add_handler(CommandHandler("settings", settings_handlers.settings_command, private))
    app.add_handler(CommandHandler("plans", exercises.plans_command))
    app.add_handler(CommandHandler("plan", exercises.plan_command))
    app.add_handler(CommandHandler("progress", progress.progress_command, private))
    app.add_handler(CommandHandler("mydata", privacy.mydata_command, private))
    app.add_handler(CommandHandler("deleteme", privacy.deleteme_command, private))
    app.add_handler(CommandHandler("invite", staff.invite_command))
    app.add_handler(CommandHandler("reinvite", staff.reinvite_command))
    app.add_handler(CommandHandler("patients", staff.patients_command))
    app.add_handler(CommandHandler("patient", staff.patient_command))
    app.add_handler(CommandHandler("note", staff.note_command))
    app.add_handler(CommandHandler("alerts", staff.alerts_command))
    app.add_handler(CommandHandler("export", staff.export_command))
    app.add_handler(CommandHandler("report", staff.report_command))
    app.add_handler(CommandHandler("discharge", staff.discharge_command))
    # 3. Buttons, parsed and checked in one place.
    for route in routing.button_routes():
        app.add_handler(route)
    # 4. Free text in private: red flags first, then the open flow, then questions.
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, routing.private_text))
    # 5. In the staff chat: a reply to a relayed question goes back to the patient.
    app.add_handler(
        MessageHandler(
            filters.Chat(settings.clinic_chat_id) & filters.REPLY & filters.TEXT & ~filters.COMMAND,
            questions.staff_reply,
        )
    )
    # 6. Anything else in private: unknown commands, stickers, photos, voice notes...
    app.add_handler(MessageHandler(private & filters.COMMAND, common.unknown_command))
    app.add_handler(MessageHandler(private, safety.unsupported_media))
    app.add_error_handler(common.error_handler)
    return app

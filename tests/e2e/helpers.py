"""Acting out journeys through the fake Bot API."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select, update

from storage.models import OutboxMessage, Patient, Reminder
from tests.e2e.conftest import CLINIC_CHAT, STAFF

LINK_RE = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]+)")


def last_id(api, chat_id: int) -> int:
    msgs = api.messages(chat_id)
    return msgs[-1]["message_id"] if msgs else 0


async def say(
    api,
    user_id: int,
    text: str,
    *,
    chat_id: int | None = None,
    contains: str = "",
    timeout: float = 10.0,
) -> dict:
    """Send text and wait for the bot's next message in that chat (optionally containing)."""
    chat = chat_id if chat_id is not None else user_id
    after = last_id(api, chat)
    await api.send_text(user_id, text, chat_id=chat_id)
    return await api.wait_for_message(
        chat, lambda m: contains.lower() in m["text"].lower(), timeout=timeout, after=after
    )


async def press(
    api,
    user_id: int,
    message: dict,
    button_text: str,
    *,
    contains: str = "",
    chat_id: int | None = None,
    new_message: bool = False,
    timeout: float | None = None,
) -> dict:
    """Press a button; wait for the message to change (or a new one when new_message).
    ``timeout``: longer than the default wait, for a press the bot answers only once it has
    started."""
    wait = {} if timeout is None else {"timeout": timeout}
    chat = chat_id if chat_id is not None else user_id
    after = last_id(api, chat)
    before = message.get("edit_date"), message["text"]
    await api.press(user_id, message, button_text, chat_id=chat_id)
    if new_message:
        return await api.wait_for_message(
            chat, lambda m: contains.lower() in m["text"].lower(), after=after, **wait
        )

    def changed(m: dict) -> bool:
        if m["message_id"] != message["message_id"]:
            return False
        return (m.get("edit_date"), m["text"]) != before and contains.lower() in m["text"].lower()

    return await api.wait_for_message(chat, changed, **wait)


async def invite(api, name: str, *, by: int = STAFF, chat_id: int = CLINIC_CHAT) -> str:
    msg = await say(api, by, f"/invite {name}", chat_id=chat_id, contains="t.me/")
    return LINK_RE.search(msg["text"]).group(2)


async def join(api, user_id: int, name: str, *, time_button: str = "09:00") -> dict:
    """Invite, open the link, agree, choose a time and the clinic's zone; returns the first
    check-in question message."""
    code = await invite(api, name)
    api.add_user(user_id, name.split()[0])
    consent = await say(api, user_id, f"/start {code}", contains="Do you agree")
    asked = await press(api, user_id, consent, "I agree", contains="what time")
    tz = await press(api, user_id, asked, time_button, contains="time zone")
    after = last_id(api, user_id)
    await api.press(
        user_id, tz, next(b["text"] for row in tz["reply_markup"]["inline_keyboard"] for b in row)
    )
    return await api.wait_for_message(user_id, lambda m: "leg" in m["text"], after=after)


async def checkin(
    api,
    user_id: int,
    question: dict,
    *,
    leg=3,
    back=2,
    numb="No",
    weak="No",
    worsening=None,
    red="No",
    exercises="Yes",
    note: str | None = None,
) -> dict:
    """Answer a check-in from its first question; returns the closing message."""
    m = await press(api, user_id, question, str(leg), contains="lower back")
    m = await press(api, user_id, m, str(back), contains="numbness")
    m = await press(api, user_id, m, numb, contains="weak")
    if weak == "Yes":
        m = await press(api, user_id, m, "Yes", contains="worse quickly")
        m = await press(api, user_id, m, worsening or "No", contains="safety")
    else:
        m = await press(api, user_id, m, "No", contains="safety")
    m = await press(api, user_id, m, red, contains="exercises")
    m = await press(api, user_id, m, exercises, contains="anything else")
    if note is None:
        return await press(api, user_id, m, "No note", contains="saved")
    return await say(api, user_id, note, contains="saved")


async def start_checkin(api, user_id: int) -> dict:
    """/checkin; returns the check-in's question message (a questionnaire that was still
    arriving from the last check-in may come first)."""
    return await say(api, user_id, "/checkin", contains="Daily check-in")


def staff_alerts(api) -> list[dict]:
    return [
        m for m in api.messages(CLINIC_CHAT) if "URGENT" in m["text"] or "Worsening" in m["text"]
    ]


async def answer_to(api, query_id: str, timeout: float = 10.0) -> dict:
    """The bot's answer to a button press (answerCallbackQuery): once it has come, the press
    has been handled, whatever it changed."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for answer in api.callback_answers():
            if answer["callback_query_id"] == query_id:
                return answer
        await asyncio.sleep(0.02)
    raise AssertionError(f"no answer to button press {query_id}")


async def eventually(
    check, timeout: float = 15.0, what: str = "condition", equals: object = None
) -> None:
    """Wait for the bot (a separate process) to have done something: ``check()`` (awaited if
    it is a coroutine) true, or equal to ``equals`` when that is given."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if (result == equals) if equals is not None else result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def outbox_settled(db, now: datetime | None = None, timeout: float = 20.0) -> None:
    """Wait until no outbox message due by ``now`` is still pending: each has been sent,
    skipped or given up, with its attempt recorded. Call it once whatever queues them has
    committed. Without ``now`` (a bot on the system clock) "due" means due at each look, so
    a message that a send queues for at once is waited for too."""

    async def pending() -> int:
        due = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.send_at <= (now or datetime.now(UTC)),
            )
        )
        async with db.engine.connect() as conn:
            return await conn.scalar(due)

    await eventually(
        pending, timeout, f"the outbox to handle what is due by {now or 'now'}", equals=0
    )


# A discharged patient nobody sees, whose one reminder is set due at each clock a test moves
# to. A tick takes due reminders oldest first and moves each on in the transaction that
# queues its message (one transaction for the few a test has), so once the sentinel's has
# moved on, the bot's scheduler has run at that clock and every reminder due by then has been
# handled. Being discharged, the sentinel never gets a message.
SENTINEL_USER = 999_000_001


async def _sentinel_reminder(db) -> int:
    async with db.engine.begin() as conn:
        found = await conn.scalar(
            select(Reminder.id)
            .join(Patient, Patient.id == Reminder.patient_id)
            .where(Patient.telegram_user_id == SENTINEL_USER)
        )
        if found is not None:
            return found
        at = datetime(2000, 1, 1, tzinfo=UTC)
        patient_id = await conn.scalar(
            insert(Patient)
            .values(
                telegram_user_id=SENTINEL_USER,
                chat_id=SENTINEL_USER,
                name="Clock Sentinel",
                status="discharged",
                consented_at=at,
                checkin_time="00:00",
                timezone="UTC",
                enrolled_on=date(2000, 1, 1),
                unreachable=False,
                exercise_times="",
                exercise_times_chosen=False,
                weekly_day=None,
                created_at=at,
                discharged_at=at,
            )
            .returning(Patient.id)
        )
        return await conn.scalar(
            insert(Reminder)
            .values(patient_id=patient_id, kind="checkin", local_time="00:00", next_at=at)
            .returning(Reminder.id)
        )


def _bot_clock(bot) -> datetime:
    raw = bot.clock_file.read_text().strip() if bot.clock_file.exists() else ""
    return datetime.fromisoformat(raw) if raw else datetime.now(UTC)


async def move_clock(bot, db, when: datetime) -> None:
    """Set the bot's clock forward to ``when``, with the sentinel reminder due exactly then
    (see :func:`caught_up`). The bot may be stopped (a restart at that clock)."""
    assert _bot_clock(bot) < when, "the clock only moves forward here"
    sentinel = await _sentinel_reminder(db)
    async with db.engine.begin() as conn:
        await conn.execute(update(Reminder).where(Reminder.id == sentinel).values(next_at=when))
    bot.set_clock(when)


async def caught_up(db, when: datetime, timeout: float = 20.0) -> None:
    """Wait until the bot has run its scheduler at the clock ``when`` set by
    :func:`move_clock` (the sentinel reminder has moved on, in the transaction that handled
    every other reminder due by then) and the outbox has handled everything due by then. A
    prompt or alert the bot wrongly decided to send at that clock has been sent by now."""

    async def sentinel_moved() -> bool:
        async with db.engine.connect() as conn:
            next_at = await conn.scalar(
                select(Reminder.next_at)
                .join(Patient, Patient.id == Reminder.patient_id)
                .where(Patient.telegram_user_id == SENTINEL_USER)
            )
        return next_at > when

    await eventually(sentinel_moved, timeout, f"the bot's scheduler to run at {when}")
    await outbox_settled(db, when, timeout)


async def advance_clock(bot, db, when: datetime, timeout: float = 20.0) -> None:
    """Move the running bot's clock to ``when`` and wait until it has done all that was due
    by then."""
    await move_clock(bot, db, when)
    await caught_up(db, when, timeout)

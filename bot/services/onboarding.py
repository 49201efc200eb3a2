"""Joining by invite: consent, check-in time, time zone, then the patient exists.

Nothing about a person is created until they have agreed and finished; a declined consent or a
bad invite leaves no patient behind. The flow's state is a ``Conversation`` row.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.language.places import Place, understand_zone
from bot.language.when import parse_time
from bot.services import invites, reminders
from storage.models import Conversation, Patient
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.services.context import Services

FLOW = "onboarding"


def parse_hhmm(raw: str) -> str | None:
    """'8:30', '0830', '20.15', '9am', '9:30pm', 'noon' -> 'HH:MM'; anything else -> None."""
    return parse_time(raw)


def parse_timezone(raw: str) -> str | None:
    """The IANA zone of a zone name, a city or a country with one time zone; else None."""
    place = understand_zone(raw)
    return place.zone if place is not None else None


@dataclass(frozen=True)
class Step:
    """Where the flow is now, for the handler to render."""

    status: str  # see the handlers for the message each status maps to
    conv: Conversation | None = None
    patient: Patient | None = None
    place: Place | None = None  # timezone_several: the country with several zones


async def start(uow: UnitOfWork, user_id: int, code: str, now: datetime) -> Step:
    existing = await uow.patients.by_user(user_id)
    if existing is not None:
        return Step("already_registered", patient=existing)
    if not code:
        return Step("no_code")
    invite, problem = await invites.open_link(uow, code, user_id, now)
    if problem:
        await uow.audit.record(now, "patient", "invite_rejected", actor_id=user_id, why=problem)
        await uow.commit()
        return Step(f"invite_{problem}")
    conv = Conversation(
        telegram_user_id=user_id,
        flow=FLOW,
        step="consent",
        nonce=secrets.token_hex(3),
        data={"invite_id": invite.id, "name": invite.name},
        updated_at=now,
    )
    await uow.conversations.save(conv)
    await uow.commit()
    return Step("consent", conv=conv)


async def current(uow: UnitOfWork, user_id: int, nonce: str | None = None) -> Conversation | None:
    conv = await uow.conversations.get(user_id)
    if conv is None or conv.flow != FLOW or (nonce is not None and conv.nonce != nonce):
        return None
    return conv


async def remember_message(uow: UnitOfWork, user_id: int, message_id: int) -> None:
    conv = await uow.conversations.get(user_id)
    if conv is not None:
        conv.message_id = message_id
        await uow.commit()


async def consent(uow: UnitOfWork, user_id: int, nonce: str, agree: bool, now: datetime) -> Step:
    conv = await current(uow, user_id, nonce)
    if conv is None or conv.step != "consent":
        return Step("stale")
    if not agree:
        await uow.conversations.drop(user_id)
        await uow.audit.record(now, "patient", "consent_declined", actor_id=user_id)
        await uow.commit()
        return Step("declined")
    conv.step = "time"
    conv.data = {**conv.data, "consented_at": now.isoformat()}
    conv.updated_at = now
    await uow.commit()
    return Step("time", conv=conv)


async def choose_time(
    uow: UnitOfWork, user_id: int, nonce: str | None, raw: str, now: datetime
) -> Step:
    conv = await current(uow, user_id, nonce)
    if conv is None or conv.step != "time":
        return Step("stale")
    hhmm = parse_hhmm(raw)
    if hhmm is None:
        return Step("bad_time", conv=conv)
    conv.step = "timezone"
    conv.data = {**conv.data, "checkin_time": hhmm}
    conv.updated_at = now
    await uow.commit()
    return Step("timezone", conv=conv)


async def choose_timezone(
    uow: UnitOfWork, user_id: int, chat_id: int, nonce: str | None, raw: str, now: datetime
) -> Step:
    conv = await current(uow, user_id, nonce)
    if conv is None or conv.step != "timezone":
        return Step("stale")
    place = understand_zone(raw)
    if place is None:
        return Step("bad_timezone", conv=conv)
    if place.zone is None:  # a country with several time zones: which city?
        return Step("timezone_several", conv=conv, place=place)
    tz = place.zone
    data = conv.data
    if not await uow.invites.consume(data["invite_id"], user_id, now):
        # Used by someone else meanwhile, or expired during the flow.
        await uow.conversations.drop(user_id)
        await uow.commit()
        return Step("invite_used")
    invite = await uow.invites.get(data["invite_id"])
    patient = await uow.patients.add(
        Patient(
            telegram_user_id=user_id,
            chat_id=chat_id,
            name=data["name"],
            status="active",
            consented_at=datetime.fromisoformat(data["consented_at"]),
            checkin_time=data["checkin_time"],
            timezone=tz,
            enrolled_on=now.astimezone(ZoneInfo(tz)).date(),
            invite_id=data["invite_id"],
            phone=invite.phone,
            clinic_ref=invite.clinic_ref,
            created_at=now,
        )
    )
    await reminders.sync(uow, patient, now)
    await uow.conversations.drop(user_id)
    await uow.audit.record(
        now,
        "patient",
        "registered",
        actor_id=user_id,
        patient_id=patient.id,
        checkin_time=patient.checkin_time,
        timezone=tz,
    )
    await uow.commit()
    return Step("registered", conv=conv, patient=patient)


async def cancel(uow: UnitOfWork, user_id: int, now: datetime) -> bool:
    """Drop any open flow of this user; True if there was one."""
    conv = await uow.conversations.get(user_id)
    draft = None
    patient = await uow.patients.by_user(user_id)
    if patient is not None:
        draft = await uow.checkins.draft(patient.id)
    if conv is None and draft is None:
        return False
    await uow.conversations.drop(user_id)
    if patient is not None:
        await uow.checkins.drop_draft(patient.id)
    await uow.audit.record(now, "patient", "flow_cancelled", actor_id=user_id)
    await uow.commit()
    return True


# Shows a step of onboarding (Telegram) and returns the id of the message it sent.
ShowStep = Callable[[Step], Awaitable[int]]


async def start_shown(s: Services, user_id: int, code: str, show: ShowStep) -> Step:
    """/start with an invite code: the step is decided and saved, ``show`` sends it (no
    transaction open meanwhile), and the consent message's id is kept."""
    async with s.uow() as uow:
        step = await start(uow, user_id, code, s.now())
    message_id = await show(step)
    if step.status == "consent":
        async with s.uow() as uow:
            await remember_message(uow, user_id, message_id)
    return step


async def press(
    uow: UnitOfWork,
    user_id: int,
    chat_id: int,
    nonce: str,
    step: str,
    value: str,
    clinic_timezone: str,
    now: datetime,
) -> Step:
    """A button of onboarding: consent (c: y or n), a check-in time (t) or the clinic's time
    zone (z: clinic). Anything else is stale."""
    match step, value:
        case "c", "y" | "n":
            return await consent(uow, user_id, nonce, value == "y", now)
        case "t", _:
            return await choose_time(uow, user_id, nonce, value, now)
        case "z", "clinic":
            return await choose_timezone(uow, user_id, chat_id, nonce, clinic_timezone, now)
        case _:
            return Step("stale")


async def typed(
    uow: UnitOfWork, user_id: int, chat_id: int, raw: str, now: datetime
) -> Step | None:
    """A typed answer during onboarding (a time, a time zone); None when not onboarding.
    Consent needs a button: its step is shown again."""
    conv = await current(uow, user_id)
    if conv is None:
        return None
    if conv.step == "time":
        return await choose_time(uow, user_id, None, raw, now)
    if conv.step == "timezone":
        return await choose_timezone(uow, user_id, chat_id, None, raw, now)
    return Step("consent", conv=conv)

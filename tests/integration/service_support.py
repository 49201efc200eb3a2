"""Helpers for the service tests: a patient row, a settable clock, settings without the
environment, and a stand-in for the Telegram side of the outbox (``bot.delivery.sender.Sender``)
that records every call and can be told to fail for a chat."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from bot.settings import Settings
from storage.models import CheckinEntry, Patient

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday; 09:00 in London (GMT)
CLINIC_CHAT = -1001
STAFF = (11, 12)


class Clock:
    """The bot's clock (``bot.runtime.clock.Clock``), moved by the test."""

    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "clinic_chat_id": CLINIC_CHAT,
        "clinic_staff_ids": ",".join(map(str, STAFF)),
        "clinic_name": "Riverside Physio",
        "send_rate_per_second": 0,
        **overrides,
    }
    return Settings(**values)


async def add_patient(
    db,
    user_id: int = 5001,
    name: str = "Sam Taylor",
    enrolled_on: date = date(2026, 2, 1),
    **extra: Any,
) -> Patient:
    values: dict[str, Any] = {
        "status": "active",
        "consented_at": NOW,
        "checkin_time": "09:00",
        "timezone": "Europe/London",
        "created_at": NOW,
        **extra,
    }
    async with db.uow() as uow:
        p = await uow.patients.add(
            Patient(
                telegram_user_id=user_id,
                chat_id=user_id,
                name=name,
                enrolled_on=enrolled_on,
                **values,
            )
        )
        await uow.commit()
        return p


def checkin_entry(patient_id: int, day: date, at: datetime = NOW, **answers: Any) -> CheckinEntry:
    """A finished check-in (ordinary answers unless given) for ``uow.checkins.add_entry``."""
    values: dict[str, Any] = {
        "leg_pain": 3,
        "back_pain": 2,
        "numbness": False,
        "weakness": False,
        "red_flag": False,
        "exercises": "yes",
        **answers,
    }
    return CheckinEntry(
        patient_id=patient_id, local_day=day, created_at=at, updated_at=at, **values
    )


@dataclass
class Call:
    method: str
    chat_id: int
    text: str | None
    priority: int
    message_id: int | None = None  # the message sent, or the one edited
    markup: Any = None


@dataclass
class FakeSender:
    """Records pushes, photos and edits; ``fail[chat_id]`` is raised (once per entry, in
    order) instead of sending to that chat."""

    calls: list[Call] = field(default_factory=list)
    fail: dict[int, list[BaseException]] = field(default_factory=dict)
    next_id: int = 100

    def _maybe_fail(self, chat_id: int) -> None:
        errors = self.fail.get(chat_id)
        if errors:
            raise errors.pop(0)

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    async def send_push(self, chat_id, text, markup, priority=3) -> int:
        self._maybe_fail(chat_id)
        message_id = self._new_id()
        self.calls.append(Call("push", chat_id, text, int(priority), message_id, markup))
        return message_id

    async def send_photo(self, chat_id, png, caption, priority=3) -> int:
        self._maybe_fail(chat_id)
        self.calls.append(Call("photo", chat_id, caption, int(priority)))
        return self._new_id()

    async def edit_message_text(self, chat_id, message_id, text, priority, **kwargs):
        self._maybe_fail(chat_id)
        self.calls.append(
            Call("edit", chat_id, text, int(priority), message_id, kwargs.get("reply_markup"))
        )
        return True

    def to(self, chat_id: int) -> list[Call]:
        return [c for c in self.calls if c.chat_id == chat_id]

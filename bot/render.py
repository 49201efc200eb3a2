"""Turning results into messages and keyboards: texts come from ``bot/content``.

Callback data is short and self-describing, ``<area>:<nonce>:<step>:<value>``, and is parsed
strictly by :func:`parse_callback` (anything else is treated as stale or forged).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content import Markup, label, text
from bot.rules.places import Place
from bot.settings import Settings
from storage.models import Alert, CheckinDraft, CheckinEntry, Patient

__all__ = ["Markup", "label", "text"]

UNCONFIRMED_RULE = "red_flag_unconfirmed"  # bot.services.safety names its alerts so


def red_flag_question_keyboard(alert_id: int, nonce: str) -> InlineKeyboardMarkup:
    """Yes / No to "Is this happening now?"; the nonce makes an older question's buttons stale."""
    return InlineKeyboardMarkup(
        [
            [
                button(label("btn_yes"), f"rf:{alert_id}:y:{nonce}"),
                button(label("btn_no"), f"rf:{alert_id}:n:{nonce}"),
            ]
        ]
    )


STEP_CODES = {
    "leg_pain": "lp",
    "back_pain": "bp",
    "numbness": "nb",
    "weakness": "wk",
    "weakness_worsening": "ww",
    "red_flag": "rf",
    "exercises": "ex",
    "note": "nt",
}
CODE_STEPS = {v: k for k, v in STEP_CODES.items()}
TIME_CHOICES = ("08:00", "09:00", "12:00", "18:00", "20:00")
CALLBACK_RE = re.compile(
    r"^(ob|ci|al|fq|dm|ex|ck|st|xe|rf):([A-Za-z0-9-]{1,32}):([a-z]{1,4})(?::([A-Za-z0-9_]{1,16}))?$"
)


def several_zones(place: Place) -> str:
    """A country with several time zones: the patient is asked for the nearest city."""
    return text("timezone_several", country=place.country, cities=", ".join(place.cities))


def parse_callback(data: str | None) -> tuple[str, str, str, str] | None:
    m = CALLBACK_RE.match(data or "")
    if not m:
        return None
    return m.group(1), m.group(2), m.group(3), m.group(4) or ""


def chunk_lines(lines: list[str], limit: int = 3800) -> list[str]:
    """Lines joined into messages of at most ``limit`` characters (Telegram allows 4096),
    split only between lines."""
    chunks: list[list[str]] = [[]]
    size = -1  # the joined length of the current chunk (no newline before its first line)
    for line in lines:
        if chunks[-1] and size + 1 + len(line) > limit:
            chunks.append([])
            size = -1
        chunks[-1].append(line)
        size += 1 + len(line)
    return ["\n".join(chunk) for chunk in chunks if chunk]


def split_text(body: str, limit: int = 3500) -> list[str]:
    """A long text in pieces of at most ``limit`` characters, cut at a space where there is
    one (Telegram trims each message, so a word is never cut in two)."""
    pieces = []
    while len(body) > limit:
        cut = body.rfind(" ", 0, limit)
        cut = cut if cut > limit // 2 else limit
        pieces.append(body[:cut])
        body = body[cut:].lstrip(" ")
    return [*pieces, body] if body else pieces


def button(label_text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label_text, callback_data=data)


# --- onboarding ---------------------------------------------------------------------------
def consent_keyboard(nonce: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(label("btn_agree"), f"ob:{nonce}:c:y"),
                button(label("btn_decline"), f"ob:{nonce}:c:n"),
            ]
        ]
    )


def time_keyboard(nonce: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(t, f"ob:{nonce}:t:{t.replace(':', '')}") for t in TIME_CHOICES]]
    )


def timezone_keyboard(nonce: str, clinic_tz: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(label("btn_clinic_tz").format(tz=clinic_tz), f"ob:{nonce}:z:clinic")]]
    )


# --- check-in -----------------------------------------------------------------------------
def _yes_no(nonce: str, code: str) -> list[list[InlineKeyboardButton]]:
    return [
        [
            button(label("btn_yes"), f"ci:{nonce}:{code}:y"),
            button(label("btn_no"), f"ci:{nonce}:{code}:n"),
        ]
    ]


def checkin_keyboard(draft: CheckinDraft) -> InlineKeyboardMarkup:
    step, nonce = draft.step, draft.nonce
    code = STEP_CODES[step]
    if step in ("leg_pain", "back_pain"):
        values = [str(i) for i in range(11)]
        rows = [values[:6], values[6:]]
        return InlineKeyboardMarkup(
            [[button(v, f"ci:{nonce}:{code}:{v}") for v in row] for row in rows]
        )
    if step == "exercises":
        return InlineKeyboardMarkup(
            [
                [
                    button(label("btn_yes"), f"ci:{nonce}:ex:yes"),
                    button(label("btn_partly"), f"ci:{nonce}:ex:partly"),
                    button(label("btn_no"), f"ci:{nonce}:ex:no"),
                ]
            ]
        )
    if step == "note":
        row = [button(label("btn_no_note"), f"ci:{nonce}:nt:skip")]
        if draft.note:
            row.append(button(label("btn_keep_note"), f"ci:{nonce}:nt:keep"))
        return InlineKeyboardMarkup([row])
    return InlineKeyboardMarkup(_yes_no(nonce, code))


def _yn(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def answers_so_far(draft: CheckinDraft) -> str:
    parts = []
    if draft.leg_pain is not None:
        parts.append(f"leg {draft.leg_pain}/10")
    if draft.back_pain is not None:
        parts.append(f"back {draft.back_pain}/10")
    for name, value in (
        ("numbness", draft.numbness),
        ("weakness", draft.weakness),
        ("red flags", draft.red_flag),
    ):
        if value is not None:
            parts.append(f"{name} {_yn(value)}")
    if draft.exercises:
        parts.append(f"exercises {draft.exercises}")
    return ", ".join(parts)


def checkin_question(draft: CheckinDraft) -> str:
    lines = [text("checkin_header", day=draft.local_day.strftime("%A %d %B"))]
    so_far = answers_so_far(draft)
    if so_far:
        lines.append(text("checkin_answers", answers=so_far))
    lines.append("")
    lines.append(text(f"q_{draft.step}"))
    return "\n".join(lines)


def _trend(today: int, avg: float) -> str:
    if today <= avg - 1:
        return text("trend_lower")
    if today >= avg + 1:
        return text("trend_higher")
    return text("trend_same")


def checkin_closing(patient: Patient, entry: CheckinEntry, outcome) -> str:
    parts = [text("checkin_done", name=patient.name, leg=entry.leg_pain, back=entry.back_pain)]
    if outcome.replaced:
        parts.append(text("checkin_replaced"))
    cmp_ = outcome.comparison
    if cmp_ is None or cmp_.days == 0:
        parts.append(text("compare_none"))
    else:
        parts.append(
            text(
                "compare_week",
                days=cmp_.days,
                leg_avg=cmp_.leg_avg,
                back_avg=cmp_.back_avg,
                leg_trend=_trend(entry.leg_pain, cmp_.leg_avg),
                back_trend=_trend(entry.back_pain, cmp_.back_avg),
            )
        )
    if entry.red_flag or entry.weakness_worsening:
        parts.append(text("next_urgent"))
    elif outcome.decisions:
        parts.append(text("next_worsening"))
    else:
        parts.append(text("next_routine", time=patient.checkin_time))
    return "\n\n".join(parts)


# --- alerts -------------------------------------------------------------------------------
def clinic_time(dt: datetime, settings: Settings) -> str:
    return dt.astimezone(ZoneInfo(settings.clinic_timezone)).strftime("%d %b %H:%M")


def alert_text(alert: Alert, patient: Patient, settings: Settings, repeat: bool = False) -> str:
    # An unanswered "Is this happening now?": the patient has not been advised yet.
    key = "alert_urgent_unconfirmed" if alert.rule == UNCONFIRMED_RULE else f"alert_{alert.level}"
    body = text(
        key,
        name=patient.name,
        patient_id=patient.id,
        reason=alert.reason,
        since=clinic_time(alert.updated_at, settings),
    )
    if repeat:
        body = text("alert_repeat", n=alert.sends) + "\n" + body
    if alert.status == "acknowledged" and alert.acknowledged_at:
        body += "\n" + text(
            "alert_acknowledged",
            who=alert.acknowledged_by_name or alert.acknowledged_by,
            at=clinic_time(alert.acknowledged_at, settings),
        )
    return body


def checkin_question_done(draft: CheckinDraft) -> str:
    """The question message once it has been answered and the flow moved below it."""
    lines = [text("checkin_header", day=draft.local_day.strftime("%A %d %B"))]
    so_far = answers_so_far(draft)
    if so_far:
        lines.append(text("checkin_answers", answers=so_far))
    return "\n".join(lines)

"""Turning results into messages and keyboards: texts come from ``bot/content``, button data
from :mod:`bot.content.callbacks`.

The one place where text a person reads is composed: handlers, services and delivery call a
function here (or ``text(key, ...)`` for a single message); joining lines, choosing a variant
and formatting numbers and dates happen here. ``tests/unit/test_render_all.py`` renders every
message and every public function of this module.
"""

from __future__ import annotations

import calendar
import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content import Markup, callbacks, label, text, unwrap
from bot.content.exercises import MESSAGE_MAX, Exercise, Plan, library
from bot.language.faq import FaqEntry
from bot.language.places import Place
from bot.outcomes.progress import mean, weeks
from bot.outcomes.proms import PSFS_IMPORTANT_CHANGE, STARTBACK_ITEMS, content
from bot.outcomes.report import ReportData
from bot.services.checkin import ORDER
from bot.services.proms import current_activity
from bot.services.reminders import parse_times
from bot.settings import Settings
from storage.models import Alert, CheckinDraft, CheckinEntry, Patient, RelayedQuestion

__all__ = ["Markup", "label", "text"]

UNCONFIRMED_RULE = "red_flag_unconfirmed"  # bot.services.safety names its alerts so


def red_flag_question_keyboard(alert_id: int, nonce: str) -> InlineKeyboardMarkup:
    """Yes / No to "Is this happening now?"; the nonce makes an older question's buttons stale."""
    return InlineKeyboardMarkup(
        [
            [
                button(label("btn_yes"), callbacks.RED_FLAG.build(alert_id, "y", nonce)),
                button(label("btn_no"), callbacks.RED_FLAG.build(alert_id, "n", nonce)),
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


def several_zones(place: Place) -> str:
    """A country with several time zones: the patient is asked for the nearest city."""
    return text("timezone_several", country=place.country, cities=", ".join(place.cities))


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
                button(label("btn_agree"), callbacks.ONBOARDING.build(nonce, "c", "y")),
                button(label("btn_decline"), callbacks.ONBOARDING.build(nonce, "c", "n")),
            ]
        ]
    )


def time_keyboard(nonce: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(t, callbacks.ONBOARDING.build(nonce, "t", t.replace(":", "")))
                for t in TIME_CHOICES
            ]
        ]
    )


def timezone_keyboard(nonce: str, clinic_tz: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(
                    label("btn_clinic_tz").format(tz=clinic_tz),
                    callbacks.ONBOARDING.build(nonce, "z", "clinic"),
                )
            ]
        ]
    )


# --- check-in -----------------------------------------------------------------------------
def _yes_no(nonce: str, code: str) -> list[list[InlineKeyboardButton]]:
    return [
        [
            button(label("btn_yes"), callbacks.CHECKIN.build(nonce, code, "y")),
            button(label("btn_no"), callbacks.CHECKIN.build(nonce, code, "n")),
        ]
    ]


def checkin_keyboard(draft: CheckinDraft) -> InlineKeyboardMarkup:
    step, nonce = draft.step, draft.nonce
    code = STEP_CODES[step]
    if step in ("leg_pain", "back_pain"):
        values = [str(i) for i in range(11)]
        rows = [values[:6], values[6:]]
        return InlineKeyboardMarkup(
            [[button(v, callbacks.CHECKIN.build(nonce, code, v)) for v in row] for row in rows]
        )
    if step == "exercises":
        return InlineKeyboardMarkup(
            [
                [
                    button(label("btn_yes"), callbacks.CHECKIN.build(nonce, "ex", "yes")),
                    button(label("btn_partly"), callbacks.CHECKIN.build(nonce, "ex", "partly")),
                    button(label("btn_no"), callbacks.CHECKIN.build(nonce, "ex", "no")),
                ]
            ]
        )
    if step == "note":
        row = [button(label("btn_no_note"), callbacks.CHECKIN.build(nonce, "nt", "skip"))]
        if draft.note:
            row.append(button(label("btn_keep_note"), callbacks.CHECKIN.build(nonce, "nt", "keep")))
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
    if outcome.closed_early:
        # Told to seek emergency care: nothing routine, just what was kept and what happens.
        return text(
            "checkin_closed_urgent", name=patient.name, leg=entry.leg_pain, back=entry.back_pain
        )
    parts = [text("checkin_done", name=patient.name, leg=entry.leg_pain, back=entry.back_pain)]
    if outcome.earlier_today:
        before = outcome.earlier_today[-1]
        parts.append(
            text(
                "checkin_again",
                at=local_time(before.created_at, patient.timezone),
                leg0=before.leg_pain,
                back0=before.back_pain,
                leg=entry.leg_pain,
                back=entry.back_pain,
            )
        )
    cmp_ = outcome.comparison
    if cmp_ is not None and cmp_.days:
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
    elif cmp_ is not None and cmp_.any_before:
        parts.append(text("compare_gap"))
    elif not outcome.earlier_today:
        parts.append(text("compare_none"))
    if outcome.decisions:
        parts.append(text("next_worsening"))
    else:
        parts.append(text("next_routine", time=patient.checkin_time))
    return "\n\n".join(parts)


# --- alerts -------------------------------------------------------------------------------
def local_time(dt: datetime, tz: str) -> str:
    """ "HH:MM" in a patient's time zone."""
    return dt.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def clinic_time(dt: datetime, settings: Settings) -> str:
    return dt.astimezone(ZoneInfo(settings.clinic_timezone)).strftime("%d %b %H:%M")


def contact(phone: str | None, clinic_ref: str | None) -> Markup:
    """How staff reach a patient and find them in their own records: ", phone ..., ref ..."
    (empty when neither is known)."""
    parts = []
    if phone:
        parts.append(text("contact_phone", phone=phone))
    if clinic_ref:
        parts.append(text("contact_ref", ref=clinic_ref))
    return Markup("".join(", " + p for p in parts))


def alert_text(alert: Alert, patient: Patient, settings: Settings, repeat: bool = False) -> str:
    # An unanswered "Is this happening now?": the patient has not been advised yet.
    key = "alert_urgent_unconfirmed" if alert.rule == UNCONFIRMED_RULE else f"alert_{alert.level}"
    body = text(
        key,
        name=patient.name,
        patient_id=patient.id,
        contact=contact(patient.phone, patient.clinic_ref),
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


def oncall_alert(alert: Alert, patient: Patient, settings: Settings, minutes: int) -> str:
    """The private copy of an unacknowledged urgent alert for an on-call clinician."""
    return text("alert_escalated", minutes=minutes) + "\n" + alert_text(alert, patient, settings)


def alert_keyboard(alert: Alert) -> InlineKeyboardMarkup | None:
    """Acknowledge / diary under an open alert; none once it is closed."""
    if alert.status != "open":
        return None
    return InlineKeyboardMarkup(
        [
            [
                button(label("btn_ack"), callbacks.ALERT.build(alert.id, "ack")),
                button(label("btn_diary"), callbacks.ALERT.build(alert.id, "dia")),
            ]
        ]
    )


def urgent_advice(reason: str, clinic: str | None) -> str:
    """The advice to seek urgent care; ``clinic`` None: someone not (yet) a patient."""
    if clinic is None:
        return text("urgent_advice_unregistered", reason=reason)
    return text("urgent_advice", reason=reason, clinic=clinic)


def reminder(kind: str, reminder_id: int, patient: Patient) -> tuple[str, InlineKeyboardMarkup]:
    """An exercise reminder, or a check-in prompt or nudge, with its buttons."""
    if kind == "exercise":
        plan = library().plan(patient.plan_id or "")
        names = ", ".join(e.name for e in plan.exercises) if plan else ""
        body = text(
            "exercise_reminder", name=patient.name, plan=plan.name if plan else "", exercises=names
        )
        return body, InlineKeyboardMarkup(
            [
                [
                    button(
                        label("btn_done"), callbacks.EXERCISE_REMINDER.build(reminder_id, "done")
                    ),
                    button(
                        label("btn_snooze"), callbacks.EXERCISE_REMINDER.build(reminder_id, "snz")
                    ),
                    button(
                        label("btn_skip_today"),
                        callbacks.EXERCISE_REMINDER.build(reminder_id, "skip"),
                    ),
                ]
            ]
        )
    key = "checkin_nudge" if kind == "nudge" else "checkin_prompt"
    go = callbacks.CHECKIN_PROMPT.build(reminder_id, "go")
    return text(key, name=patient.name), InlineKeyboardMarkup(
        [[button(label("btn_start_checkin_now"), go)]]
    )


def checkin_question_done(draft: CheckinDraft) -> str:
    """The question message once it has been answered and the flow moved below it."""
    lines = [text("checkin_header", day=draft.local_day.strftime("%A %d %B"))]
    so_far = answers_so_far(draft)
    if so_far:
        lines.append(text("checkin_answers", answers=so_far))
    return "\n".join(lines)


# --- the diary, for clinicians --------------------------------------------------------------
NOTE_PREVIEW = 300  # characters of a note shown in the diary


def _answer(value: bool | str | None) -> str:
    if value is None:
        return text("diary_not_asked")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def diary_lines(diary, settings: Settings) -> list[str]:
    """A page of a patient's record (``bot.services.staff.DiaryPage``), one line per item."""
    p = diary.patient
    lines = [
        text(
            "patient_header",
            name=p.name,
            id=p.id,
            contact=contact(p.phone, p.clinic_ref),
            enrolled=p.enrolled_on,
            time=p.checkin_time,
            timezone=p.timezone,
            status=p.status,
        )
    ]
    lines += prom_lines(diary.proms, settings)
    if not diary.items:
        lines.append(text("patient_no_entries"))
    for item in diary.items:
        if isinstance(item, CheckinEntry):
            lines.append(_diary_entry(item, p))
        elif isinstance(item, Alert):
            lines.append(_diary_alert(item, settings))
        elif isinstance(item, RelayedQuestion):
            lines.append(_diary_question(item, settings))
    if diary.pages > 1:
        more = diary.page < diary.pages
        lines.append(
            text(
                "diary_page_more" if more else "diary_page_last",
                page=diary.page,
                pages=diary.pages,
                id=p.id,
                next=diary.page + 1,
            )
        )
    return lines


def _diary_entry(e: CheckinEntry, p: Patient) -> str:
    note = ""
    if e.note:
        note = text("diary_note", note=e.note[:NOTE_PREVIEW])
        if len(e.note) > NOTE_PREVIEW:  # say where it is cut, and how to read it all
            note += text("note_cut", more=len(e.note) - NOTE_PREVIEW, id=p.id, day=e.local_day)
    return text(
        "patient_row",
        day=e.local_day.isoformat(),
        at=local_time(e.created_at, p.timezone),
        leg=e.leg_pain,
        back=e.back_pain,
        numb=_answer(e.numbness),
        weak=_answer(e.weakness),
        red=_answer(e.red_flag),
        ex=_answer(e.exercises),
        note=Markup(note),
    )


def _diary_alert(a: Alert, settings: Settings) -> str:
    if a.status == "acknowledged":
        state = text(
            "diary_alert_acknowledged",
            who=a.acknowledged_by_name or text("diary_a_clinician"),
            at=clinic_time(a.acknowledged_at, settings),
        )
    else:
        state = text(f"diary_alert_{a.status}")
    return text(
        "diary_alert",
        at=clinic_time(a.created_at, settings),
        level=a.level,
        reason=a.reason,
        state=Markup(state),
    )


def _diary_question(q: RelayedQuestion, settings: Settings) -> str:
    if q.answered_at is not None:
        answer = text(
            "diary_answer",
            who=q.answered_by_name or text("diary_a_clinician"),
            at=clinic_time(q.answered_at, settings),
            answer=q.answer or "",
        )
    else:
        answer = text("diary_unanswered")
    return text(
        "diary_question",
        at=clinic_time(q.created_at, settings),
        question=q.question,
        answer=Markup(answer),
    )


# --- progress -------------------------------------------------------------------------------
def _figure(value: float) -> str:
    """3.0 -> "3", 2.33 -> "2.3"."""
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def _change_values(change, clinician: bool = False) -> dict[str, str]:
    """A ``bot.outcomes.progress.Change`` as the placeholders its messages use. For clinicians
    the percentage carries its sign ("43%", or "from 0" when the start was 0)."""
    if change.percent is None:
        percent = "from 0" if clinician else ""
    else:
        percent = f"{change.percent:.0f}" + ("%" if clinician else "")
    return {
        "site": label(f"site_{change.site}"),
        "start": _figure(change.start),
        "now": _figure(change.now),
        "points": _figure(abs(change.points)),
        "percent": percent,
    }


def _adherence(progress, key: str, since=None) -> list[str]:
    """The exercises line (none while no check-in asked about them)."""
    adherence = progress.adherence(since=since)
    return [] if adherence is None else [text(key, percent=f"{adherence * 100:.0f}")]


def change_line(change) -> str:
    """One sentence on a ``bot.outcomes.progress.Change``: "Leg pain is down 3 points (43%)
    since you started: a real improvement." """
    key = f"progress_{change.direction}"
    if change.direction == "worse" and change.percent is None:
        key = "progress_worse_from_zero"
    return text(key, **_change_values(change))


def progress_caption(progress, psfs: list | None = None) -> str:
    """The chart's caption: pain since the start, exercises, and the activities score (PSFS,
    once it has been asked twice)."""
    lines = [change_line(progress.change("leg")), change_line(progress.change("back"))]
    lines += _adherence(progress, "progress_adherence")
    if psfs and len(psfs) >= 2:
        first, last = psfs[0].score["mean"], psfs[-1].score["mean"]
        key = "progress_psfs_better" if last - first >= PSFS_IMPORTANT_CHANGE else "progress_psfs"
        lines.append(text(key, first=_figure(first), last=_figure(last)))
    return " ".join(lines)


# --- questionnaires (PROMs) -------------------------------------------------------------------
def _prom(template: str, **values: object) -> str:
    """A questionnaire text from bot/content/proms.yaml (HTML), values escaped."""
    safe = {k: html.escape(str(v), quote=False) for k, v in values.items()}
    return unwrap(template).format(**safe)


def prom_question(response, first: bool = False) -> tuple[str, InlineKeyboardMarkup | None]:
    """The current question of an open questionnaire (``storage.models.PromResponse``), and
    its buttons; ``first``: with the questionnaire's introduction."""
    c = content()

    def tap(label_text: str, value: object) -> InlineKeyboardButton:
        return button(
            label_text,
            callbacks.QUESTIONNAIRE.build(response.nonce, "a", f"{response.step}_{value}"),
        )

    a = response.answers
    if response.instrument == "startback":
        n = len(a["items"])
        parts = [_prom(c.startback.intro)] if first and n == 0 else []
        number = text("prom_question_number", n=n + 1, of=STARTBACK_ITEMS)
        if n < STARTBACK_ITEMS - 1:
            parts.append(f"{number}\n<b>{html.escape(c.startback.items[n])}</b>")
            rows = [[tap(c.startback.agree, 1), tap(c.startback.disagree, 0)]]
        else:
            parts.append(f"{number}\n<b>{html.escape(c.startback.bothersome)}</b>")
            answers = c.startback.bothersome_answers
            rows = [[tap(x, i)] for i, x in enumerate(answers)]
        parts.append(f"<i>{html.escape(c.startback.copyright)}</i>")
        return "\n\n".join(parts), InlineKeyboardMarkup(rows)
    if response.instrument == "groc":
        rows = [[tap(label_text, i)] for i, (label_text, _) in enumerate(c.groc.answers)]
        return _prom(c.groc.question), InlineKeyboardMarkup(rows)
    # psfs
    intro = ""
    if first and a.get("review"):
        key = c.psfs.discharge_intro if response.occasion == "discharge" else c.psfs.review_intro
        intro = _prom(key) + "\n\n"
    if a["phase"] == "name":
        return _prom(c.psfs.intro), None
    if a["phase"] == "more":
        return _prom(c.psfs.ask_more), InlineKeyboardMarkup([[tap(c.psfs.enough, "end")]])
    scale = [tap(str(i), i) for i in range(11)]
    body = intro + _prom(c.psfs.ask_rating, activity=current_activity(response))
    return body, InlineKeyboardMarkup([scale[:6], scale[6:]])


def prom_done(response) -> str:
    return _prom(getattr(content(), response.instrument).done)


def prom_too_long() -> str:
    return _prom(content().psfs.too_long)


def prom_lines(done: dict, settings: Settings) -> list[str]:
    """The questionnaires' scores, for clinicians: the latest STarT Back, the PSFS from first
    to latest, the GROC."""
    lines = []
    if done.get("startback"):
        r = done["startback"][-1]
        lines.append(
            text(
                "prom_startback",
                risk=r.score["risk"],
                total=r.score["total"],
                psychosocial=r.score["psychosocial"],
                at=clinic_time(r.completed_at, settings),
            )
        )
    if done.get("psfs"):
        first, last = done["psfs"][0], done["psfs"][-1]
        key = "prom_psfs_one" if first is last else "prom_psfs_change"
        change = last.score["mean"] - first.score["mean"]
        lines.append(
            text(
                key,
                first=_figure(first.score["mean"]),
                last=_figure(last.score["mean"]),
                first_at=clinic_time(first.completed_at, settings),
                last_at=clinic_time(last.completed_at, settings),
                change=f"{change:+.1f}",
                important=text("prom_important") if abs(change) >= PSFS_IMPORTANT_CHANGE else "",
            )
        )
    if done.get("groc"):
        r = done["groc"][-1]
        answer = next(a for a, v in content().groc.answers if v == r.score["score"])
        lines.append(text("prom_groc", answer=answer, score=f"{r.score['score']:+d}"))
    return lines


def change_week_line(change) -> str:
    """For clinicians: "leg pain 6.3 -> 3.1 a day on average, week on week (-3.2, 51%)"."""
    values = _change_values(change, clinician=True)
    values["site"] = values["site"].lower()
    return text(f"digest_change_{change.direction}", **values)


def digest_lines(d) -> list[str]:
    """The daily clinic digest (``bot.services.digest.Digest``), one line per item."""
    lines = [
        text(
            "digest_header",
            day=d.day.strftime("%A %d %B"),
            active=d.active,
            checked_in=d.checked_in,
            urgent=d.open_urgent,
            worsening=d.open_worsening,
        )
    ]
    if d.reviews:
        lines.append(text("digest_reviews"))
        lines += [
            text("digest_review_row", name=p.name, id=p.id, reason=a.reason) for p, a in d.reviews
        ]
    else:
        lines.append(text("digest_no_reviews"))
    if d.changes:
        lines.append(text("digest_changes"))
        lines += [
            text(
                "digest_change_row",
                name=p.name,
                id=p.id,
                what=change_week_line(c),
            )
            for p, c in d.changes
        ]
    if d.unreachable:
        lines.append(
            text(
                "digest_unreachable",
                names=", ".join(f"{p.name} (ID {p.id})" for p in d.unreachable),
            )
        )
    return lines


def staff_progress_caption(patient: Patient, progress) -> str:
    """The chart's caption for clinicians: each site since the start, in figures."""
    lines = [text("staff_chart_header", name=patient.name, id=patient.id)]
    for site in ("leg", "back"):
        change = progress.change(site)
        lines.append(
            text(f"staff_chart_{change.direction}", **_change_values(change, clinician=True))
        )
    lines += _adherence(progress, "staff_chart_adherence")
    return "\n".join(lines)


def report_data(
    patient: Patient,
    progress,
    done: dict,
    alerts: list,
    checkins: int,
    png,
    settings: Settings,
    now: datetime,
):
    """The discharge report's content (``bot.outcomes.report.ReportData``), in words."""
    status = (
        f"discharged {clinic_time(patient.discharged_at, settings)}"
        if patient.discharged_at
        else patient.status
    )
    facts = [
        text(
            "report_facts",
            id=patient.id,
            contact=contact(patient.phone, patient.clinic_ref),
            enrolled=patient.enrolled_on.isoformat(),
            status=status,
            checkins=checkins,
            days=len(progress.days),
        )
    ]
    summary = staff_progress_caption(patient, progress).split("\n")[1:] if progress.enough else []
    proms = []
    for instrument, responses in done.items():
        for r in responses:
            proms.append((instrument, clinic_time(r.completed_at, settings), _prom_result(r)))
    rows = [
        (
            clinic_time(a.created_at, settings),
            a.level,
            a.reason,
            f"{a.acknowledged_by_name or ''} {clinic_time(a.acknowledged_at, settings)}".strip()
            if a.acknowledged_at
            else a.status,
        )
        for a in alerts
    ]
    return ReportData(
        title=plain(text("report_title", name=patient.name)),
        facts=[plain(f) for f in facts],
        chart_png=png,
        summary=[plain(x) for x in summary],
        proms=proms,
        alerts=rows,
        footer=plain(
            text("report_footer", clinic=settings.clinic_name, at=clinic_time(now, settings))
        ),
    )


def _prom_result(r) -> str:
    s = r.score or {}
    if r.instrument == "startback":
        return f"{s['risk']} risk, total {s['total']}/9, psychosocial {s['psychosocial']}/5"
    if r.instrument == "psfs":
        return f"{_figure(s['mean'])}/10 ({s['activities']} activities)"
    return f"{s['score']:+d}"


def plain(rendered: str) -> str:
    """A rendered message without its HTML (the PDF, the command line)."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


def weekly_caption(patient: Patient, progress, today) -> str:
    """The weekly summary: the week in one paragraph (check-ins, pain against the week before,
    exercises) and how far the patient has come."""
    week, before = weeks(progress, today)
    parts = [text("weekly_header", name=patient.name, days=len(week))]
    if week:
        parts.append(text("weekly_pain", leg=_avg(week, "leg"), back=_avg(week, "back")))
        if before:
            parts.append(text("weekly_before", leg=_avg(before, "leg"), back=_avg(before, "back")))
        parts += _adherence(progress, "weekly_adherence", since=today - timedelta(days=7))
    if progress.enough:
        parts.append(change_line(progress.change("leg")))
    else:
        parts.append(text("weekly_keep_going"))
    return " ".join(parts)


def _avg(days, site: str) -> str:
    return _figure(mean(days, site))


def weekly_setting(patient: Patient) -> str:
    """ "Sundays at 09:00" or "off"."""
    if patient.weekly_day is None:
        return text("weekly_setting_off")
    return text(
        "weekly_setting",
        day=calendar.day_name[patient.weekly_day],
        time=patient.weekly_time or patient.checkin_time,
    )


# --- onboarding screens -------------------------------------------------------------------
def onboarding_screen(step, settings: Settings) -> tuple[str, InlineKeyboardMarkup | None]:
    """What a step of onboarding (``bot.services.onboarding.Step``) shows, and its buttons."""
    conv = step.conv
    clinic = settings.clinic_name
    match step.status:
        case "no_code":
            return text("start_no_code", clinic=clinic), None
        case (
            "invite_unknown" | "invite_used" | "invite_expired" | "invite_revoked" | "invite_taken"
        ):
            return text(
                f"start_{step.status}", clinic=clinic, days=settings.invite_valid_days
            ), None
        case "already_registered":
            return text("start_already", name=step.patient.name), None
        case "consent":
            return (
                text("consent", name=conv.data["name"], clinic=clinic),
                consent_keyboard(conv.nonce),
            )
        case "declined":
            return text("consent_declined"), None
        case "time":
            return text("ask_time"), time_keyboard(conv.nonce)
        case "bad_time":
            return text("bad_time"), time_keyboard(conv.nonce)
        case "timezone":
            return (
                text(
                    "ask_timezone",
                    time=conv.data["checkin_time"],
                    clinic_tz=settings.clinic_timezone,
                ),
                timezone_keyboard(conv.nonce, settings.clinic_timezone),
            )
        case "bad_timezone":
            return text("bad_timezone"), timezone_keyboard(conv.nonce, settings.clinic_timezone)
        case "timezone_several":
            return (
                several_zones(step.place),
                timezone_keyboard(conv.nonce, settings.clinic_timezone),
            )
        case "registered":
            p = step.patient
            return text("registered", name=p.name, time=p.checkin_time, timezone=p.timezone), None
        case _:
            return text("stale_button"), None


# --- the check-in's first message ---------------------------------------------------------
def checkin_opening(draft: CheckinDraft, first: bool = False) -> list[str]:
    """The messages that open (or resume) a check-in, before its current question: "where you
    left off" when a check-in begun earlier is resumed (not on the very first one)."""
    if not first and draft.step != ORDER[0]:
        return [text("checkin_resume")]
    return []


# --- exercises ------------------------------------------------------------------------------
def _e(value: str) -> str:
    return html.escape(value, quote=False)


def _fit(body: str) -> str:
    if len(body) >= MESSAGE_MAX:  # the loader's limits keep real content far below this
        raise ValueError(f"rendered text is {len(body)} characters, Telegram allows {MESSAGE_MAX}")
    return body


def render_exercise(ex: Exercise, *, advice: str | None = None, urgent: str | None = None) -> str:
    """Telegram HTML for one exercise: name, numbered steps, dose, cautions, when to stop.

    ``advice`` and ``urgent`` default to those of the default library.
    """
    if advice is None or urgent is None:
        lib = library()
        advice = lib.advice if advice is None else advice
        urgent = lib.urgent if urgent is None else urgent
    lines = [f"<b>{_e(ex.name)}</b>", ""]
    lines += [f"{n}. {_e(step)}" for n, step in enumerate(ex.steps, start=1)]
    lines += ["", f"<b>How much:</b> {_e(ex.dose.describe())}", "", "<b>Take care</b>"]
    lines += [f"• {_e(c)}" for c in ex.cautions]
    lines += ["", f"<i>{_e(advice)}</i>", "", "<b>When to stop</b>", _e(ex.stop_if)]
    lines += ["", f"<b>{_e(urgent)}</b>"]
    return _fit("\n".join(lines))


def render_plan(plan: Plan, *, advice: str | None = None, urgent: str | None = None) -> str:
    """Telegram HTML for a plan: name, who it is for, and each exercise with its dose."""
    if advice is None or urgent is None:
        lib = library()
        advice = lib.advice if advice is None else advice
        urgent = lib.urgent if urgent is None else urgent
    lines = [f"<b>{_e(plan.name)}</b>", f"<i>{_e(plan.description)}</i>", ""]
    lines += [
        f"{n}. <b>{_e(ex.name)}</b>: {_e(ex.dose.describe())}"
        for n, ex in enumerate(plan.exercises, start=1)
    ]
    lines += ["", _e(advice), "", f"<b>{_e(urgent)}</b>"]
    return _fit("\n".join(lines))


def plan_keyboard(plan: Plan) -> InlineKeyboardMarkup:
    """One button per exercise of the plan: each opens from its button, not as a flood."""
    return InlineKeyboardMarkup(
        [[button(ex.name, callbacks.EXERCISE.build(ex.id, "show"))] for ex in plan.exercises]
    )


def plans_lines(plans) -> list[str]:
    """The library's plans, for staff (/plans)."""
    return [text("plans_header")] + [
        text("plans_row", id=p.id, name=p.name, description=p.description) for p in plans
    ]


def exercise_times(raw: str | None) -> str:
    """A patient's exercise reminder times, "08:00, 18:00" (or "none yet")."""
    return ", ".join(parse_times(raw)) or text("settings_none")


def plan_assigned(patient: Patient, plan: Plan) -> str:
    """For staff: the plan is assigned."""
    times = exercise_times(patient.exercise_times)
    return text("plan_assigned", name=patient.name, id=patient.id, plan=plan.name, times=times)


def plan_told_patient(patient: Patient, plan: Plan) -> str:
    """For the patient: their new plan and when they are reminded."""
    return text("plan_told_patient", plan=plan.name, times=exercise_times(patient.exercise_times))


def exercise_logged(reminder_html: str, status: str) -> str:
    """The reminder message with the patient's answer under it (done, snoozed, skipped)."""
    return reminder_html + "\n\n" + text(f"exercise_{status}")


# --- settings -------------------------------------------------------------------------------
SETTINGS_LABELS = {
    "ct": "btn_set_checkin",
    "et": "btn_set_exercise",
    "tz": "btn_set_timezone",
    "wk": "btn_set_weekly",
    "ps": "btn_set_pause",
    "rs": "btn_set_resume",
}


def settings_menu(result) -> tuple[str, InlineKeyboardMarkup]:
    """The /settings menu (``bot.services.patient_settings.Result``) and its buttons."""
    p, nonce = result.patient, result.conv.nonce
    paused = (
        text("settings_paused", until=p.paused_until.isoformat())
        if p.paused_until
        else text("settings_active")
    )
    body = text(
        "settings_menu",
        checkin_time=p.checkin_time,
        exercise_times=exercise_times(p.exercise_times),
        timezone=p.timezone,
        weekly=weekly_setting(p),
        paused=paused,
    )
    codes = ["ct", "et", "tz", "wk", "ps"] + (["rs"] if p.paused_until else [])
    rows = [[button(label(SETTINGS_LABELS[c]), callbacks.SETTINGS.build(nonce, c))] for c in codes]
    return body, InlineKeyboardMarkup(rows)


def settings_saved(result) -> str:
    """A setting saved (``result.status`` is the message key, "saved_...")."""
    p = result.patient
    return text(
        result.status,
        checkin_time=p.checkin_time,
        timezone=p.timezone,
        exercise_times=", ".join(parse_times(p.exercise_times)),
        until=p.paused_until.isoformat() if p.paused_until else "",
        weekly=weekly_setting(p),
    )


def settings_reply(result) -> str:
    """What a settings button or a typed setting answers (``patient_settings.Result``)."""
    if result.status.startswith("saved_"):
        return settings_saved(result)
    if result.status == "timezone_several":
        return several_zones(result.place)
    if result.status == "ask_timezone":
        return text("ask_timezone_setting")
    return text(result.status)


# --- privacy --------------------------------------------------------------------------------
def erase_keyboard(user_id: int) -> InlineKeyboardMarkup:
    """Erase / keep: the buttons name their owner, nobody can press someone else's."""
    return InlineKeyboardMarkup(
        [
            [
                button(label("btn_erase"), callbacks.ERASE.build(user_id, "yes")),
                button(label("btn_keep"), callbacks.ERASE.build(user_id, "no")),
            ]
        ]
    )


# --- questions ------------------------------------------------------------------------------
def faq_keyboard(entries, extra=()) -> InlineKeyboardMarkup:
    """One button per FAQ topic, then any ``extra`` buttons, one a row."""
    rows = [[button(e.topic, callbacks.FAQ.build(e.id, "show"))] for e in entries]
    rows.extend([[b] for b in extra])
    return InlineKeyboardMarkup(rows)


def faq_answer(entry: FaqEntry) -> str:
    # FAQ answers are our own reviewed content, with <b> allowed.
    return text("faq_answer", topic=entry.topic, answer=Markup(entry.answer.strip()))


def faq_reply(entry: FaqEntry, related: list) -> tuple[str, InlineKeyboardMarkup | None]:
    """An FAQ answer, with its related topics as buttons."""
    return faq_answer(entry), faq_keyboard(related) if related else None


def _ask_clinic(question_id: int) -> InlineKeyboardButton:
    return button(label("btn_ask_clinic"), callbacks.FAQ.build(question_id, "ask"))


def faq_deferral(entry: FaqEntry, question_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """A deferral: a safe answer, and the offer of a human."""
    body = faq_answer(entry) + "\n\n" + text("faq_deferral_offer")
    return body, faq_keyboard([], [_ask_clinic(question_id)])


def faq_unsure(
    alternatives: list, question_id: int, clinic: str
) -> tuple[str, InlineKeyboardMarkup]:
    """No answer for sure: the nearest topics (up to three), and the offer of a human."""
    key = "faq_unsure" if alternatives else "faq_unsure_none"
    return text(key, clinic=clinic), faq_keyboard(alternatives[:3], [_ask_clinic(question_id)])


def relay_to_staff(patient: Patient, q: RelayedQuestion) -> str:
    return text(
        "relay_to_staff", name=patient.name, patient_id=patient.id, question=q.question[:3000]
    )


def relay_reply(clinic: str, answer: str) -> str:
    return text("relay_reply", clinic=clinic, answer=answer[:3800])


# --- staff ----------------------------------------------------------------------------------
NOTE_PIECE = 3500  # characters of a note per message (Telegram allows 4096)


def invite_text(key: str, inv, link: str, settings: Settings, **extra) -> str:
    """A new (or reissued) invite (``bot.services.invites.NewInvite``) and its link."""
    return text(
        key,
        id=inv.id,
        name=inv.name,
        contact=contact(inv.phone, inv.clinic_ref),
        link=link,
        expires=clinic_time(inv.expires_at, settings),
        **extra,
    )


def patients_lines(rows) -> list[str]:
    """/patients: one line a patient (``bot.services.staff.PatientRow``)."""
    lines = [text("patients_header")]
    for r in rows:
        lines.append(
            text(
                "patients_row",
                id=r.patient.id,
                name=r.patient.name,
                contact=contact(r.patient.phone, r.patient.clinic_ref),
                last=r.last.local_day.isoformat() if r.last else "never",
                leg=r.last.leg_pain if r.last else "-",
                back=r.last.back_pain if r.last else "-",
                trend=r.trend or "-",
                alerts=r.open_alerts,
                flags=" | unreachable" if r.patient.unreachable else "",
            )
        )
    return lines


def alerts_lines(rows, settings: Settings) -> list[str]:
    """/alerts: one line an open alert, ``rows`` of (alert, patient)."""
    return [text("alerts_header")] + [
        text(
            "alerts_row",
            id=a.id,
            level=a.level,
            name=p.name,
            patient_id=p.id,
            reason=a.reason,
            since=clinic_time(a.created_at, settings),
        )
        for a, p in rows
    ]


def note_messages(patient: Patient, entries: list[CheckinEntry], day) -> list[str]:
    """/note: each of the day's notes in full, a header then the note in pieces that fit."""
    messages = []
    for e in entries:
        at = local_time(e.created_at, patient.timezone)
        messages.append(text("note_header", name=patient.name, id=patient.id, day=day, at=at))
        messages += [html.escape(piece, quote=False) for piece in split_text(e.note, NOTE_PIECE)]
    return messages

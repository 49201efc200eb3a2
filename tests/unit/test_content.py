"""Every message renders with sample values into HTML that Telegram accepts."""

import pytest

from bot.content import messages, placeholders, text
from fake_telegram.html import parse_html

SAMPLE = {
    "name": "Sam <Taylor> & Co",
    "clinic": "Riverside Physio",
    "days": 14,
    "time": "09:00",
    "clinic_tz": "Europe/London",
    "timezone": "Europe/London",
    "day": "Monday 02 March",
    "answers": "leg 4/10",
    "length": 4000,
    "more": 1234,
    "limit": 2000,
    "leg": 4,
    "back": 3,
    "leg_avg": 3.5,
    "back_avg": 2.0,
    "leg_trend": "higher",
    "back_trend": "lower",
    "reason": "changed bladder or bowel control <b>",
    "excerpt": "I think I <b>wet</b> myself",
    "asked": "02 Mar 09:00",
    "due": "02 Mar 09:10",
    "link": "https://t.me/Bot?start=abc",
    "expires": "16 Mar 09:00",
    "id": 3,
    "last": "2026-03-01",
    "trend": "better",
    "alerts": 1,
    "flags": "",
    "command": "/patient",
    "enrolled": "2026-03-01",
    "status": "active",
    "numb": "no",
    "weak": "no",
    "red": "no",
    "ex": "yes",
    "note": " | note: <hi>",
    "level": "urgent",
    "patient_id": 3,
    "since": "02 Mar 09:00",
    "n": 2,
    "who": "Dana",
    "at": "02 Mar 09:20",
    "topic": "What is sciatica?",
    "answer": "Nerve pain & more",
    "question": "is the <car park> free?",
    "why": "Forbidden",
    "plan": "Early relief",
    "exercises": "Knee-to-chest stretch, Pelvic tilt",
    "description": "Gentle start.",
    "times": "10:00, 18:00",
    "until": "2026-12-31",
    "checkin_time": "09:00",
    "exercise_times": "10:00, 18:00",
    "paused": "Reminders are on.",
    "active": 12,
    "checked_in": 9,
    "urgent": 1,
    "worsening": 2,
    "names": "Sam Taylor (ID 3)",
    "contact": ", phone +44 7700 900123, ref RB-1042",
    "old": 2,
    "phone": "+44 7700 900123",
    "ref": "RB-1042",
    "leg0": 6,
    "page": 1,
    "pages": 3,
    "next": 2,
    "state": "(open)",
    "minutes": 30,
    "site": "Leg",
    "points": 3,
    "percent": 43,
    "start": 7,
    "now": 4,
    "of": 9,
    "weekly": "Sundays at 09:00",
    "what": "leg pain better, 6.3 → 3 on average (down 3.3, 53%)",
    "risk": "medium",
    "total": 5,
    "psychosocial": 3,
    "first": 4,
    "first_at": "03 Dec 09:00",
    "last_at": "17 Dec 09:00",
    "change": "+2.5",
    "important": "",
    "score": "+2",
    "checkins": 12,
    "back0": 4,
    "country": "United States",
    "cities": "New York, Chicago, Denver, Los Angeles",
}
BUTTONS = {k for k in messages() if k.startswith("btn_")}


@pytest.mark.parametrize("key", sorted(set(messages()) - BUTTONS))
def test_every_message_renders_to_valid_telegram_html(key):
    values = {p: SAMPLE[p] for p in placeholders(key)}
    rendered = text(key, **values)
    plain, _entities = parse_html(rendered)
    assert 0 < len(plain) <= 4096
    assert "{" not in rendered, "unfilled placeholder"


@pytest.mark.parametrize("key", sorted(BUTTONS))
def test_button_labels_are_short_plain_text(key):
    label = messages()[key]
    assert 0 < len(label) <= 40 and "<" not in label


def test_patient_input_is_escaped():
    rendered = text("relay_to_staff", name="<b>x</b>", patient_id=1, question="a & b")
    assert "&lt;b&gt;x&lt;/b&gt;" in rendered and "a &amp; b" in rendered


def test_wrapped_yaml_lines_become_flowing_text_but_lists_stay_lists():
    from bot.content import unwrap

    long = "This sentence is long enough to have been wrapped by an editor at"
    block = f"{long}\nthe margin.\n\n<b>Menu</b>\n/a: one\n{long}\nmore\n• item\nshort\n{{x}}\n"
    assert unwrap(block) == (
        f"{long} the margin.\n\n<b>Menu</b>\n/a: one\n{long} more\n• item\nshort\n{{x}}"
    )

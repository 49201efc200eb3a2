"""How hard the patient-facing text is to read: the texts, and a reading grade for each.

Used by tests/unit/test_readability.py and bench/readability.py, never by the running bot
(``textstat``, a dev dependency, is imported only when a grade is asked for).

The grade is the Flesch-Kincaid grade level (US school grade; add 5 for a reading age). A text
is what a patient reads as one message, with its HTML tags removed. Each line of a list counts
as a sentence of its own: a bulleted list is read item by item, not as one long sentence.
"""

from __future__ import annotations

import html
import re
import statistics
from dataclasses import dataclass

from bot.content import messages
from bot.content.exercises import library
from bot.language.faq import FaqIndex

#: Messages only the clinic's staff read (staff chat, staff commands).
STAFF_KEYS = re.compile(
    r"^(?:help_staff|staff_only|invite_|patients?_|alerts?_|discharged|already_discharged|"
    r"ack_|relay_to_staff|relay_delivered|relay_not_delivered|plans_|plan_usage|plan_unknown|"
    r"plan_assigned|digest_|btn_ack|btn_diary)"
)
#: A text needs this many words to have a grade worth counting (not "Yes", "Done").
MIN_WORDS = 5

_TAG = re.compile(r"<[^>]+>")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


@dataclass(frozen=True)
class Text:
    where: str  # e.g. "faq:urgent-help", "message:q_red_flag", "exercise:bird-dog"
    kind: str  # "faq", "message", "exercise", "plan", "label"
    text: str  # as the patient sees it, without markup


def plain(text: str) -> str:
    """Markup removed, placeholders filled with a name, each list line one sentence."""
    text = html.unescape(_TAG.sub("", _PLACEHOLDER.sub("Sam", text)))
    lines = []
    for line in text.splitlines():
        line = line.strip().lstrip("•").strip()
        if line:
            lines.append(line if line[-1] in ".!?:" else line + ".")
    return "\n".join(lines)


def patient_texts() -> list[Text]:
    """Every text a patient reads: messages, FAQ answers, exercises, plans and labels."""
    out: list[Text] = []
    for key, value in messages().items():
        if STAFF_KEYS.match(key):
            continue
        kind = "label" if key.startswith("btn_") else "message"
        out.append(Text(f"message:{key}", kind, plain(value)))
    for entry in FaqIndex.load().entries:
        out.append(Text(f"faq:{entry.id}", "faq", plain(entry.answer)))
        out.append(Text(f"faq-topic:{entry.id}", "label", entry.topic))
    lib = library()
    out.append(Text("exercises:advice", "exercise", lib.advice))
    out.append(Text("exercises:urgent", "exercise", plain(lib.urgent)))
    for ex in lib.exercises.values():
        body = "\n".join([*ex.steps, *ex.cautions, ex.stop_if])
        out.append(Text(f"exercise:{ex.id}", "exercise", body))
        out.append(Text(f"exercise-name:{ex.id}", "label", ex.name))
    for plan in lib.plans.values():
        out.append(Text(f"plan:{plan.id}", "plan", plan.description))
        out.append(Text(f"plan-name:{plan.id}", "label", plan.name))
    return out


def grade(text: str) -> float:
    """Flesch-Kincaid grade of a plain text (see :func:`plain`)."""
    import textstat  # dev dependency: only tests and bench/ grade texts

    return float(textstat.flesch_kincaid_grade(text))


def graded(texts: list[Text] | None = None) -> list[tuple[Text, float]]:
    """Each text long enough to grade (labels are checked for jargon instead), with its grade."""
    texts = patient_texts() if texts is None else texts
    return [
        (t, grade(t.text)) for t in texts if t.kind != "label" and len(t.text.split()) >= MIN_WORDS
    ]


def median(pairs: list[tuple[Text, float]]) -> float:
    return float(statistics.median(g for _, g in pairs))

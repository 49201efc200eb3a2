"""The emergency list has one source, every surface shows that one, and the clinical review's
findings stay fixed (issue 14).

bot/content/safety.yaml defines the cauda equina signs, the other serious causes, their routes
and the exercise stop rule; content files put them in with [[snippets]]. A surface that names
two or more of those symptoms in its own words (outside a snippet) is a second list, and fails.
"""

from __future__ import annotations

import html
import re

import pytest

from bot.content import content_versions, messages, safety, snippets, without_snippets
from bot.content.exercises import library
from bot.language.faq import FaqIndex

FAQ = {e.id: e for e in FaqIndex.load().entries}
LIB = library()
MSG = messages()

# Words that name one sign each, by family. Two signs of a family named in a text's own words
# (not in a shared snippet) make a list that is not the shared one.
EMERGENCY_MARKERS = {
    "bladder or bowel": r"\bbladder|\bbowel|\bpee\b|\bpoo\b|\burine|incontinen|\bwee\b",
    "saddle": r"genital|back passage|saddle|\bgroin",
    "sex": r"erection|ejaculat|\bsex\b|sexual",
    "both legs": r"both legs",
    "weakness getting worse": r"weak\w* (?:that is )?(?:getting worse|quickly)|getting weaker",
}
SERIOUS_MARKERS = {
    "weight loss": r"weight loss|lost weight|losing weight",
    "cancer": r"\bcancer",
    "fever": r"fever|high temperature|shivery",
    "night pain": r"at night|night pain",
    "accident": r"\bbad fall\b|serious fall|accident",
}


def _surfaces() -> list[tuple[str, str]]:
    out = [(f"message:{k}", v) for k, v in MSG.items()]
    out += [(f"faq:{i}", e.answer) for i, e in FAQ.items()]
    out += [("exercises:advice", LIB.advice), ("exercises:urgent", LIB.urgent)]
    for ex in LIB.exercises.values():
        out += [(f"exercise:{ex.id}", "\n".join([*ex.steps, *ex.cautions, ex.stop_if]))]
    out += [(f"plan:{p.id}", p.description) for p in LIB.plans.values()]
    return out


SURFACES = _surfaces()


def _named(text: str, markers: dict[str, str]) -> set[str]:
    text = html.unescape(text).lower()
    return {name for name, pattern in markers.items() if re.search(pattern, text)}


@pytest.mark.parametrize(("where", "text"), SURFACES, ids=[w for w, _ in SURFACES])
def test_no_surface_lists_the_symptoms_in_its_own_words(where, text):
    own = without_snippets(text)
    for markers in (EMERGENCY_MARKERS, SERIOUS_MARKERS):
        named = _named(own, markers)
        assert len(named) < 2, f"{where} lists {sorted(named)} itself: use the safety.yaml snippet"


def test_the_detector_sees_a_list_written_by_hand():
    hand_written = (
        "Call 999 if you have numbness around your genitals or problems with your bladder."
    )
    assert len(_named(without_snippets(hand_written), EMERGENCY_MARKERS)) == 2
    shared = html.escape(snippets()["emergency_signs"], quote=False)
    assert _named(shared, EMERGENCY_MARKERS) == set(EMERGENCY_MARKERS)
    assert not _named(without_snippets(f"Call 999 if:\n{shared}"), EMERGENCY_MARKERS)
    assert _named(snippets()["urgent_signs"] + snippets()["accident"], SERIOUS_MARKERS) == set(
        SERIOUS_MARKERS
    )


def _shows(text: str, name: str) -> bool:
    value = snippets()[name]
    return value in text or html.escape(value, quote=False) in text


@pytest.mark.parametrize(
    "where",
    [
        "message:q_red_flag",
        "message:help_patient",
        "faq:urgent-help",
        "faq:emergency",
        "faq:sciatica-symptoms",
        "faq:lingering-weakness",
        "faq:own-diagnosis",
        "exercises:urgent",
    ],
)
def test_emergency_surfaces_show_the_whole_shared_list(where):
    assert _shows(dict(SURFACES)[where], "emergency_signs")


def test_the_shared_list_has_every_sign_the_review_found_missing():
    signs = " ".join(safety()["emergency_signs"]).lower()
    for needed in (
        "starting to pee",
        "weak flow",
        "bladder or bowel is full",
        "wipe",
        "erection",
        "ejaculation",
        "both legs that is new or getting worse",
        "weaker quickly",
    ):
        assert needed in signs, needed
    serious = " ".join(safety()["urgent_signs"]).lower()
    for needed in ("lost weight", "cancer", "high temperature", "at night", "pain relief"):
        assert needed in serious, needed
    assert "fall" in safety()["accident"] and "999" in safety()["accident"]


def test_urgent_advice_says_now_and_how_to_go():
    for key in ("urgent_advice", "urgent_advice_unregistered", "help_patient"):
        assert _shows(MSG[key], "emergency_advice"), key
    advice = snippets()["emergency_advice"].lower()
    assert "mild or come and go" in advice and "do not drive yourself" in advice
    assert "sciatica" in advice
    for key in ("urgent_advice", "urgent_advice_unregistered", "checkin_closed_urgent"):
        assert " now" in MSG[key] and "today" not in MSG[key].lower(), key


def test_routes_are_consistent():
    routes = safety()["routes"]
    assert "999" in routes["emergency"] and "A&E" in routes["emergency"]
    assert "111" in routes["urgent"] and "GP" in routes["urgent"]
    # Uncontrolled pain goes to 111 or the GP, never to 999 (the FAQ and the check-in agree).
    assert "unbearable" not in MSG["next_worsening"]
    assert _shows(MSG["next_worsening"], "urgent_route")
    assert _shows(FAQ["painkillers"].answer, "urgent_route")
    assert _shows(FAQ["serious-signs"].answer, "urgent_signs")
    assert _shows(FAQ["serious-signs"].answer, "urgent_route")
    # Night pain that rest does not ease is no longer "tell your physio".
    assert "serious-signs" in FAQ["sleep-positions"].related
    assert "Signs to see a GP today" in FAQ["sleep-positions"].answer


def test_medicines_follow_nice():
    pain = FAQ["painkillers"].answer.lower()
    assert "paracetamol on its own" in pain
    assert "not safe for everyone" in pain and "stomach" in pain and "kidney" in pain
    assert "do not stop" in pain
    nerve = FAQ["nerve-pain-medicines"].answer.lower()
    for named in ("pregabalin", "gabapentin", "epilepsy", "steroid tablets", "diazepam", "opioid"):
        assert named in nerve, named
    assert "does not recommend" in nerve and "do not stop it suddenly" in nerve
    overdose = FAQ["medication-doses"].answer.lower()
    assert "even if you feel well" in overdose and "packet" in overdose


def test_no_promises_the_evidence_does_not_support():
    every = " ".join(e.answer.lower() for e in FAQ.values())
    for promise in (
        "will not damage",
        "real progress within",
        "what makes the recovery last",
        "focus is usually on hands-on",
        "bony spur",
    ):
        assert promise not in every, promise
    assert "limited" in FAQ["dry-needling"].answer and "NICE" in FAQ["dry-needling"].answer
    assert "alongside exercise" in FAQ["what-happens-in-sessions"].answer
    surgery = FAQ["surgery"].answer
    assert "stenosis" in surgery and "about a year" in surgery
    assert "6 to 8 weeks" not in FAQ["scans-imaging"].answer
    assert "would change your care" in FAQ["scans-imaging"].answer
    heat = FAQ["heat-or-ice"].answer
    assert "Do not use a hot water bottle" in heat


def test_exercises_share_one_stop_rule():
    assert snippets()["stop_rule"] in LIB.advice
    assert _shows(FAQ["soreness-vs-stop"].answer, "stop_rule")
    own_rule = re.compile(
        r"\bfades? (?:within|straight|as soon)|out of 10|lasts more than|settles? (?:soon|within)|"
        r"within (?:a few|about \d+) (?:seconds|minutes|hours)"
    )
    for ex in LIB.exercises.values():
        for text in (*ex.cautions, ex.stop_if):
            assert not own_rule.search(text), (ex.id, text)
    for entry in FAQ.values():
        assert not own_rule.search(without_snippets(entry.answer)), entry.id


def test_safer_plans_and_exercises():
    glides = {"sciatic-nerve-glide", "seated-nerve-floss"}
    assert not glides & {e.id for e in LIB.plans["early-relief"].exercises}
    for ex_id in glides:
        assert (
            "only do this one if your physio has shown you"
            in " ".join(LIB.exercises[ex_id].cautions).lower()
        )
    for plan in LIB.plans.values():
        ids = {e.id for e in plan.exercises}
        assert not ("hamstring-stretch" in ids and ids & glides), plan.id
    thigh = LIB.exercises["hamstring-stretch"]
    assert "ball of" not in " ".join(thigh.steps) and "never pulling them back" in " ".join(
        thigh.steps
    )
    knee = " ".join(LIB.exercises["knee-to-chest"].cautions).lower()
    assert "hip replacement" in knee and "bending forwards" in knee
    assert "firm bed" in LIB.advice


def test_content_files_carry_a_version_and_review_date_shown_in_help():
    versions = content_versions()
    assert set(versions) == {
        "messages.yaml",
        "faq.yaml",
        "exercises.yaml",
        "red_flags.yaml",
        "safety.yaml",
        "proms.yaml",
    }
    latest = max(d for _, d in versions.values())
    assert all(v >= 1 for v, _ in versions.values())
    assert f"{latest.day} {latest:%B %Y}" in MSG["help_patient"]
    assert "NICE NG59" in MSG["help_patient"]

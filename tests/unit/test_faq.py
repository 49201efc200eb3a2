"""The FAQ content (bot/content/faq.yaml), its matcher (bot/language/faq.py) and its evaluation
set."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import faq_eval as bench  # noqa: E402
from faq_eval import calibrate, evaluate, load_eval  # noqa: E402

from bot.content import without_snippets  # noqa: E402
from bot.language.faq import (  # noqa: E402
    DECLINE,
    DEFAULT_PATH,
    DEFAULT_THRESHOLD,
    MODEL_PATH,
    FaqIndex,
    FaqMatch,
    off_topic,
    training_data,
    training_fingerprint,
)

EVAL_PATH = ROOT / "tests" / "data" / "faq_eval.yaml"
SEED_ARTICLE = Path("/work/shared/seeds/000_1d6085de53844451.txt")

KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DOSE_PATTERNS = [
    re.compile(r"\d\s*(?:mg|mcg|µg|ml|milligrams?|micrograms?|grams?)\b", re.I),
    re.compile(r"\b(?:tablets?|pills?|capsules?|doses?)\s+(?:a|per|each|every)\s+\w+", re.I),
    re.compile(r"\bevery\s+\d+\s*(?:-\s*\d+\s*)?hours?\b", re.I),
    re.compile(r"\btake\b[^.]{0,40}\b(?:once|twice|\w+ times)\s+(?:a|per)\s+day\b", re.I),
]
# A sentence that names a medicine may say what NICE or the NHS advise about it, never how much
# or how often to take it.
DOSING = re.compile(
    r"\d|\b(?:doses?|dosage|mg|maximum|double|how much|how often|times a day|a day|per day|"
    r"every \w+ hours|increase|reduce it by)\b",
    re.I,
)
DRUG_NAMES = re.compile(
    r"\b(?:ibuprofen|nurofen|naproxen|paracetamol|acetaminophen|aspirin|co-?codamol|codeine|"
    r"tramadol|gabapentin|pregabalin|amitriptyline|duloxetine|diazepam|morphine|diclofenac|"
    r"oxycodone|steroids?)\b",
    re.I,
)

# Questions the issue names, and the ids that must answer them.
KEY_QUESTIONS = {
    "can physio make my sciatica worse?": "physio-make-worse",
    "what do I wear to my first session": "what-to-wear",
    "what is sciatica": "what-is-sciatica",
    "do I need an MRI scan?": "scans-imaging",
    "what is a laminectomy and when is surgery needed": "surgery",
    "when should I call 999": "urgent-help",
    "how many ibuprofen can I take": "medication-doses",
    "do I have a slipped disc?": "own-diagnosis",
}

# Topics of the seed article and of what patients also ask: an id must exist for each.
REQUIRED_IDS = {
    "what-is-sciatica",
    "sciatica-symptoms",
    "diagnosis",
    "scans-imaging",
    "how-physio-helps",
    "physio-goals",
    "what-happens-in-sessions",
    "home-programme",
    "physio-make-worse",
    "what-to-wear",
    "cure-for-good",
    "surgery",
    "lingering-weakness",
    "lifestyle-prevention",
    "urgent-help",
    "soreness-vs-stop",
    "sitting",
    "driving",
    "work",
    "sleep-positions",
    "heat-or-ice",
    "recovery-time",
    "contact-clinic",
    "rest-vs-active",
    "walking",
    "how-bot-works",
    "data-privacy",
    "missed-exercises",
    "own-diagnosis",
    "medication-doses",
    "emergency",
    # Added after the clinical review (issue 14).
    "serious-signs",
    "injections",
    "nerve-pain-medicines",
    "mood-coping",
    "pregnancy",
    "walking-leg-pain",
    "after-surgery",
    "sex",
    "belts-tens",
    "message-replies",
}


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.tags: list[str] = []
        self.depth = 0
        self.balanced = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if attrs:
            self.balanced = False
        self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(tag)
        self.depth -= 1
        if self.depth < 0:
            self.balanced = False


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex.load()


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def eval_items() -> tuple[list[tuple[str, str]], list[str]]:
    return load_eval(EVAL_PATH)


# ---- content ----------------------------------------------------------------------------------


def test_content_loads_with_enough_entries(index: FaqIndex) -> None:
    assert len(index.entries) >= 28
    assert index.get("physio-make-worse") is not None
    assert index.get("no-such-entry") is None


def test_ids_unique_kebab_and_cover_required_topics(index: FaqIndex, raw: dict) -> None:
    ids = [e["id"] for e in raw["entries"]]
    assert len(ids) == len(set(ids))
    assert all(KEBAB.match(i) for i in ids), [i for i in ids if not KEBAB.match(i)]
    assert REQUIRED_IDS <= set(ids), REQUIRED_IDS - set(ids)


def test_related_ids_exist(index: FaqIndex) -> None:
    ids = {e.id for e in index.entries}
    for e in index.entries:
        assert 1 <= len(e.related) <= 3, e.id
        assert e.id not in e.related, e.id
        assert set(e.related) <= ids, (e.id, set(e.related) - ids)


def test_topics_questions_and_phrasings(index: FaqIndex) -> None:
    for e in index.entries:
        assert 0 < len(e.topic) <= 32, e.id
        assert e.question.strip(), e.id
        assert 6 <= len(e.phrasings) <= 12, e.id
        assert e.kind in ("answer", "deferral"), e.id
    texts = [_norm(p) for e in index.entries for p in (e.question, *e.phrasings)]
    duplicates = [t for t, n in Counter(texts).items() if n > 1]
    assert not duplicates


def test_deferrals_present(index: FaqIndex) -> None:
    deferrals = {e.id for e in index.entries if e.kind == "deferral"}
    assert {"own-diagnosis", "medication-doses", "emergency"} <= deferrals
    for entry_id in ("emergency", "urgent-help"):
        entry = index.get(entry_id)
        assert entry is not None
        assert "999" in entry.answer and "A&amp;E" in entry.answer


def test_answers_short_and_telegram_html(index: FaqIndex) -> None:
    for e in index.entries:
        # The shared safety snippets (safety.yaml) are not counted: they are never cut short.
        assert 0 < len(without_snippets(e.answer)) < 900, (e.id, len(e.answer))
        assert len(e.answer) < 1500, (e.id, len(e.answer))
        parser = _TagCollector()
        parser.feed(e.answer)
        parser.close()
        assert set(parser.tags) <= {"b"}, (e.id, parser.tags)
        assert parser.balanced and parser.depth == 0, e.id
        without_tags = re.sub(r"</?b>", "", e.answer)
        assert "<" not in without_tags and ">" not in without_tags, e.id
        assert not re.search(r"&(?!amp;|lt;|gt;|quot;)", e.answer), e.id


def test_answers_give_no_doses_and_name_medicines_only_without_one(index: FaqIndex) -> None:
    named = set()
    for e in index.entries:
        for pattern in DOSE_PATTERNS:
            assert not pattern.search(e.answer), (e.id, pattern.pattern)
        text = re.sub(r"</?b>", "", e.answer)
        for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
            if DRUG_NAMES.search(sentence):
                named.add(e.id)
                assert not DOSING.search(sentence), (e.id, sentence)
    # Naming is kept to the answers about medicines.
    assert named <= {"painkillers", "nerve-pain-medicines", "injections"}, named
    for entry_id in ("painkillers", "medication-doses", "cure-for-good"):
        entry = index.get(entry_id)
        assert entry is not None
        assert "pharmacist" in entry.answer


@pytest.mark.skipif(not SEED_ARTICLE.exists(), reason="seed article not available")
def test_no_nine_word_run_copied_from_the_article() -> None:
    def words(text: str) -> list[str]:
        return re.findall(r"[a-z']+", text.lower())

    seed = words(SEED_ARTICLE.read_text(encoding="utf-8"))
    runs = {" ".join(seed[i : i + 9]) for i in range(len(seed) - 8)}
    faq = words(DEFAULT_PATH.read_text(encoding="utf-8"))
    copied = [" ".join(faq[i : i + 9]) for i in range(len(faq) - 8)]
    assert not [r for r in copied if r in runs]


# ---- evaluation set ---------------------------------------------------------------------------


def test_eval_set_shape(index: FaqIndex, eval_items) -> None:
    answerable, unanswerable = eval_items
    assert len(answerable) >= 160
    assert len(unanswerable) >= 45
    ids = {e.id for e in index.entries}
    counts = Counter(i for _, i in answerable)
    assert set(counts) <= ids, set(counts) - ids
    assert all(counts[i] >= 3 for i in ids), {i: counts[i] for i in ids if counts[i] < 3}
    questions = [_norm(q) for q, _ in answerable]
    assert len(questions) == len(set(questions))


def test_eval_questions_not_among_phrasings(index: FaqIndex, eval_items) -> None:
    answerable, unanswerable = eval_items
    known = {_norm(p) for e in index.entries for p in (e.question, *e.phrasings)}
    leaked = [q for q, _ in answerable if _norm(q) in known]
    calibration_negatives = {_norm(q) for q in index.out_of_scope}
    leaked += [q for q in unanswerable if _norm(q) and _norm(q) in calibration_negatives]
    assert not leaked


def test_no_test_half_question_is_learnt_from(index: FaqIndex) -> None:
    """The examples and the questions to decline of faq_examples.yaml are not questions of
    either evaluation set; the model learns from the tuning halves, never from a test half."""
    learnt = {_norm(e) for entry in index.entries for e in entry.examples}
    learnt |= {_norm(q) for q in index.declines}
    learnt.discard("")
    answerable, unanswerable = load_eval(EVAL_PATH)
    questions = [q for q, _ in answerable] + unanswerable
    for split in ("tune", "test"):
        a, d = bench.load_questions(split)
        questions += [q for q, _ in a] + d
    assert not [q for q in questions if _norm(q) in learnt]
    test_a, test_u = bench.load_questions("test")
    (_, _), (held_a, held_u) = bench.split_eval(answerable, unanswerable)
    test_half = {_norm(q) for q in [*(q for q, _ in [*test_a, *held_a]), *test_u, *held_u]}
    assert not [q for q, _ in _tuning_learnt() if _norm(q) in test_half]


def _tuning_learnt() -> list[tuple[str, str]]:
    """The tuning questions the trainer learns from (bench/train_faq_model.py)."""
    import train_faq_model

    answerable, to_decline = bench.tuning_items()
    tuning = [*answerable, *((q, DECLINE) for q in to_decline)]
    held_out = train_faq_model.test_wordings()
    return [(q, c) for q, c in tuning if train_faq_model.words_of(q) not in held_out]


def test_examples_belong_to_entries(index: FaqIndex) -> None:
    raw = yaml.safe_load((DEFAULT_PATH.parent / "faq_examples.yaml").read_text(encoding="utf-8"))
    ids = {e.id for e in index.entries}
    assert set(raw["examples"]) == ids
    for e in index.entries:
        assert len(e.examples) >= 10, e.id
    assert len(index.declines) >= 100


def test_model_is_trained_on_todays_content(index: FaqIndex) -> None:
    model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    data = training_data(index.entries, index.declines) + _tuning_learnt()
    assert model["fingerprint"] == training_fingerprint(data), (
        "the FAQ content or a tuning half changed: run python bench/train_faq_model.py"
    )
    assert model["classes"][:-1] == [e.id for e in index.entries]
    assert 0.1 < model["threshold"] < 0.9
    assert index.threshold == model["threshold"]


# ---- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "expected"), sorted(KEY_QUESTIONS.items()))
def test_key_questions(index: FaqIndex, question: str, expected: str) -> None:
    match = index.match(question)
    assert match.confident, (question, match.score)
    assert match.entry is not None and match.entry.id == expected
    assert match.entry not in match.alternatives


@pytest.mark.parametrize("text", ["", "   ", "asdf qwerty", "?!?", "🙂🙂"])
def test_gibberish_is_declined_without_suggestions(index: FaqIndex, text: str) -> None:
    match = index.match(text)
    assert isinstance(match, FaqMatch)
    assert not match.confident and match.entry is None
    assert match.alternatives == ()


def test_declined_match_offers_plausible_alternatives(index: FaqIndex) -> None:
    match = index.match("is there parking near the physio for my back session")
    assert not match.confident and match.entry is None
    assert 0 < len(match.alternatives) <= 3


def test_faq_questions_are_never_off_topic(index: FaqIndex) -> None:
    for e in index.entries:
        for q in (e.question, *e.phrasings, *e.examples):
            assert not off_topic(q), (e.id, q)


@pytest.mark.parametrize(
    "question",
    [
        "Should I use ice or heat on my sore wrist?",
        "can I drive with a frozen shoulder",
        "is swimming ok with eczema",
        "best sleeping position for neck pain",
        "can i take my statins with naproxen",
    ],
)
def test_other_body_parts_and_conditions_are_declined(index: FaqIndex, question: str) -> None:
    assert off_topic(question)
    assert not index.match(question).confident


@pytest.mark.parametrize(
    "question",
    [
        "my sciatica goes from my bum to my knee",
        "pain from my lower back into my hand and foot",
        "should I put a pillow between my knees",
        "is physio hands-on",
    ],
)
def test_the_back_and_legs_keep_a_question_in_scope(question: str) -> None:
    assert not off_topic(question)


def test_typos_spellings_and_long_messages(index: FaqIndex) -> None:
    cases = {
        "can phisio make my sciatca wrose": "physio-make-worse",
        "what should I wear to my physical therapy appointment": "what-to-wear",
        "what is a diskectomy": "surgery",
        "I've been off work for two weeks and my manager keeps asking. My back is a bit better "
        "but my leg still hurts when I sit for long. When can I go back to work?": "work",
    }
    for question, expected in cases.items():
        match = index.match(question)
        assert match.entry is not None and match.entry.id == expected, (question, match)


def test_accuracy_and_declined_meet_targets(index: FaqIndex, eval_items) -> None:
    answerable, unanswerable = eval_items
    report = evaluate(index, answerable, unanswerable)
    misses = "\n".join(map(str, report.misses))
    assert report.accuracy >= 0.92, f"top-1 accuracy {report.accuracy:.1%}; misses:\n{misses}"
    answered = "\n".join(map(str, report.false_answers))
    assert report.declined_rate >= 0.90, f"declined {report.declined_rate:.1%}:\n{answered}"


def test_default_threshold_matches_a_fresh_calibration() -> None:
    """DEFAULT_THRESHOLD is for the similarity alone (no model file)."""
    result = calibrate(FaqIndex.load(model_path=None))
    assert abs(result.threshold - DEFAULT_THRESHOLD) <= 0.02, (
        f"re-calibrate: set DEFAULT_THRESHOLD to {result.threshold:.3f} (python bench/faq_eval.py)"
    )


# ---- the issue-11 question set (patients' words, tune / test halves) --------------------------


@pytest.fixture(scope="module")
def test_half(index: FaqIndex):
    # Figures only: the misses are the bench's to list (python bench/faq_eval.py), not to fix.
    return evaluate(index, *bench.load_questions("test"))


def test_patients_words_test_half_meets_the_targets(test_half) -> None:
    assert test_half.accuracy >= bench.TARGET_NEW_ACCURACY, f"top-1 {test_half.accuracy:.1%}"
    assert test_half.declined_rate >= bench.TARGET_NEW_DECLINED, (
        f"declined {test_half.declined_rate:.1%}"
    )

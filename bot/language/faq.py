"""Answer patients' free-text questions from the approved FAQ (``bot/content/faq.yaml``).

Pure Python: no Telegram, no database. :meth:`FaqIndex.match` returns the best entry when it is
confident, and otherwise ``entry=None`` with the closest entries as suggestions, so that the chat
layer can decline and offer to pass the question to the clinic instead of guessing.

What it learns from
-------------------
Each entry's question, topic and phrasings (``faq.yaml``) and its example questions
(``faq_examples.yaml``: a thousand more ways patients ask, written from each topic: worries, what
a relative said, slang and typos, long messages), and the example questions to decline in the
same file (other conditions and body parts, clinic admin, small talk). The vocabulary (phrases,
synonyms, medicine groups, groups of near-synonyms, stop-words, what is in and out of scope) is
data too, in ``faq_language.yaml``.

How a text is read
------------------
Lower case, accents and apostrophes folded, contractions expanded, British/American spellings,
texting (``wiv``, ``shud``) and common synonyms mapped to one form (``PT``, ``physical therapy``
and ``physiotherapist`` become ``physio``; ``-ize`` becomes ``-ise``; ``A&E``, ``ER`` and
``emergency room`` become one token; each named medicine becomes its group's token; the
library's exercise names become one token), then split into words and lightly stemmed.
Stop-words are kept at a small weight (``do I have ...`` is not ``what is ...``). A word the FAQ
does not know is corrected when it sounds like a known word (``fisio`` -> ``physio``), is a
compound of one (``overweight`` -> ``weight``) or is one or two edits away from one
(Damerau-Levenshtein, rapidfuzz). Words also add a feature for their group of near-synonyms
(``concepts``: toddler/baby/child, forgot/missed/skipped, ...).

How an entry is scored
----------------------
Two readers, mixed (``MatcherConfig.model_share``):

* similarity (0 to 1): the cosine similarity (TF-IDF, IDF counted over entries) between the
  question and the entry's best document (question, topic, phrasing or example), mixing words
  and adjacent word pairs with character 3- to 5-grams, which catch typos and word forms the
  stemmer misses; the second-best document adds a little; plus how much of the question's
  distinctive vocabulary the entry's questions use together, and its answer uses. Words the FAQ
  has never seen count in the length of the question's vector, so a question about something
  else scores low. A message of several sentences scores as its best sentence or the whole, so
  that a question inside a long story still counts.
* a small model: a multinomial logistic regression over the same word features, with one class
  per entry and one for questions to decline, plus the share of words the FAQ never uses. Its
  weights (``faq_model.json``) are learnt by ``bench/train_faq_model.py``, from the FAQ's own
  questions and examples and from the tuning halves of the evaluation sets (never their test
  halves), and read in pure Python; it learns which words tell topics apart ("clutch" is
  driving, "friend" is nothing).

The score is the mix less a share of the model's probability that the question is one to
decline. Separately, a question that names another part of the body, another condition or a
medicine for one, and nothing the FAQ is about (``scope`` and ``other`` in
``faq_language.yaml``), is never answered: "heat or ice for my tennis elbow" is declined even
though "heat or ice" is an FAQ topic. Everything except the query is precomputed at load time
(inverted indexes, weights), so a match takes one to a few milliseconds.

How the threshold is chosen
---------------------------
``bench/train_faq_model.py`` chooses it with the model and writes it in the model's file: the
threshold that minimises the two error rates (answerable questions not answered right,
questions to decline answered) on out-of-fold scores of the tuning halves of the evaluation
sets, and on the ``out_of_scope`` questions of ``faq.yaml``. ``MatcherConfig``'s weights were
set by hand, on the tuning halves.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from bot.content import content_dir, expand, parse_yaml, read, without_snippets

__all__ = [
    "DEFAULT_PATH",
    "DEFAULT_THRESHOLD",
    "FaqEntry",
    "FaqIndex",
    "FaqMatch",
    "MatcherConfig",
    "MODEL_PATH",
    "load_declines",
    "load_entries",
    "off_topic",
    "training_data",
    "training_fingerprint",
]

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "content" / "faq.yaml"
EXAMPLES_NAME = "faq_examples.yaml"
#: The weights of the small model, learnt by ``bench/train_faq_model.py``.
MODEL_PATH = Path(__file__).resolve().parent.parent / "content" / "faq_model.json"
#: The model's name for "none of the entries": a question to decline.
DECLINE = "-"

#: Minimum score for a confident answer when the model's file gives none (the similarity alone;
#: chosen on the tuning halves). With the model, its file's threshold is used (see below).
DEFAULT_THRESHOLD: float = 0.273

KINDS = ("answer", "deferral")


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaqEntry:
    id: str
    topic: str
    question: str
    phrasings: tuple[str, ...]
    answer: str
    related: tuple[str, ...]
    kind: str
    #: More ways patients ask (``faq_examples.yaml``): learnt from, never shown.
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class FaqMatch:
    #: The best entry if the match is confident, otherwise ``None``.
    entry: FaqEntry | None
    #: Score of the best entry, between 0 and 1.
    score: float
    confident: bool
    #: The closest other entries (when not confident: the closest ones, best first); only those
    #: that are at least remotely plausible, so it may be empty for gibberish.
    alternatives: tuple[FaqEntry, ...]


@dataclass(frozen=True)
class MatcherConfig:
    """Weights of the matcher (set by hand on the calibration half of the evaluation set)."""

    doc_share: float = 0.7  # an entry's score: its best question (and a little the second) ...
    entry_share: float = 0.1  # ... how much of the query all its questions cover ...
    answer_share: float = 0.2  # ... and how much its answer covers
    word_weight: float = 0.7  # share of words in a question's similarity (rest: char n-grams)
    second_doc_weight: float = 0.2  # weight of an entry's second-best question
    stop_weight: float = 0.15  # weight of a stop-word relative to a content word
    concept_weight: float = 0.5  # weight of a word's group of near-synonyms (concepts)
    bigram_weight: float = 0.6  # weight of a pair of adjacent words
    oov_weight: float = 1.0  # weight of an unknown word, relative to the rarest known word
    oov_exponent: float = 0.7  # n unknown words weigh like n ** oov_exponent of them
    char_ngrams: tuple[int, ...] = (3, 4, 5)
    model_share: float = 0.3  # share of the model's probability in an entry's score ...
    decline_weight: float = 0.3  # ... less this much of its probability of "decline"
    alt_floor: float = 0.5  # alternatives must score at least alt_floor * threshold
    max_alternatives: int = 3


# --------------------------------------------------------------------------------------------
# Text normalisation
# --------------------------------------------------------------------------------------------

LANGUAGE_PATH = Path(__file__).resolve().parent.parent / "content" / "faq_language.yaml"


def _load_language(path: Path = LANGUAGE_PATH) -> dict:
    """The matcher's vocabulary (phrases, synonyms, concepts, stop-words): see the YAML file."""
    data = parse_yaml(path.read_text(encoding="utf-8"))
    synonyms = {str(k): str(v) for k, v in (data.get("synonyms") or {}).items()}
    for group, names in (data.get("drugs") or {}).items():
        for drug in str(names).split():
            synonyms[drug] = str(group)
    return {
        "phrases": tuple((str(p), str(r)) for p, r in data.get("phrases") or ()),
        "synonyms": synonyms,
        "concepts": {str(k): str(v) for k, v in (data.get("concepts") or {}).items()},
        "stopwords": frozenset(str(data.get("stopwords") or "").split()),
        "keep_numbers": frozenset(str(n) for n in data.get("keep_numbers") or ()),
        "scope": _alternation(data.get("scope") or ()),
        "other": _alternation(data.get("other") or ()),
    }


def _alternation(patterns: Iterable[str]) -> re.Pattern[str]:
    """One regular expression matching any of ``patterns`` as whole words."""
    parts = [f"(?:{p})" for p in patterns] or ["(?!x)x"]
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b")


_LANGUAGE = _load_language()
_PHRASE_RES = tuple((re.compile(p), r) for p, r in _LANGUAGE["phrases"])
# Any of the phrases: most texts have none, and are then left as they are without trying each
# phrase in turn (the index folds some 9,500 texts at start).
_ANY_PHRASE_RE = re.compile("|".join(f"(?:{p.pattern})" for p, _ in _PHRASE_RES))
_SYNONYMS: dict[str, str] = _LANGUAGE["synonyms"]
# Groups of words patients use for the same idea (see ``concepts`` in the YAML file).
_CONCEPTS: dict[str, str] = _LANGUAGE["concepts"]
_STOPWORDS: frozenset[str] = _LANGUAGE["stopwords"]
_KEEP_NUMBERS: frozenset[str] = _LANGUAGE["keep_numbers"]
_SCOPE_RE: re.Pattern[str] = _LANGUAGE["scope"]
_OTHER_RE: re.Pattern[str] = _LANGUAGE["other"]

_TOKEN_RE = re.compile(r"[a-z0-9]+")
_MAX_CHARS = 1500  # a longer message is matched on its beginning and its end
_SENTENCE_RE = re.compile(r"(?<=[.!?;])\s+|\n+")
_IZE_RE = re.compile(r"iz(e|es|ed|ing|ation|ations)$")


def _fold_chars(text: str) -> str:
    text = text.lower()
    if text.isascii():  # nothing to decompose, no accent to drop, no curly apostrophe
        return text
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).replace("\u2019", "'")


def off_topic(text: str) -> bool:
    """Does ``text`` name another part of the body, condition or medicine, and nothing the FAQ
    is about (``scope`` and ``other`` in ``faq_language.yaml``)?"""
    folded = _fold_chars(text)
    return _OTHER_RE.search(folded) is not None and _SCOPE_RE.search(folded) is None


def _fold(text: str) -> str:
    text = _fold_chars(text)
    if _ANY_PHRASE_RE.search(text) is None:
        return text
    for pattern, repl in _PHRASE_RES:
        text = pattern.sub(repl, text)
    return text


def _canon(token: str) -> str:
    token = _SYNONYMS.get(token, token)
    if len(token) > 4:
        token = _IZE_RE.sub(r"is\1", token)
    return token


_TAG_RE = re.compile(r"<[^>]*>")


def _strip_html(text: str) -> str:
    return _TAG_RE.sub(" ", text).replace("&amp;", "&")


def _raw_tokens(text: str) -> list[str]:
    return [_canon(t) for t in _TOKEN_RE.findall(_fold(text))]


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    """A deliberately light suffix stripper (both sides of the match use the same one)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    w = word
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ly") and len(w) >= 6:
        w = w[:-2]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]
            break
    if w.endswith(("e", "y")) and len(w) > 4:
        w = w[:-1]
    elif w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w


def _concept_map() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for name, words in _CONCEPTS.items():
        for w in words.split():
            stem = _stem(_canon(w))
            if name not in out.setdefault(stem, []):
                out[stem].append(name)
    return {k: tuple(v) for k, v in out.items()}


def _sound_key(word: str) -> str:
    key = word.replace("ph", "f").replace("ck", "k").replace("y", "i").replace("z", "s")
    key = re.sub(r"(.)\1+", r"\1", key)
    return key.rstrip("e")


_CONCEPT_OF = _concept_map()


# --------------------------------------------------------------------------------------------
# Index
# --------------------------------------------------------------------------------------------


@dataclass
class _Space:
    """One sparse TF-IDF space: an inverted index from feature to (document, weight)."""

    postings: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    oov_idf: float = 1.0
    n_docs: int = 0


def _build_space(
    docs: Sequence[dict[str, float]], doc_entry: Sequence[int], n_entries: int
) -> _Space:
    entry_features: list[set[str]] = [set() for _ in range(n_entries)]
    for feats, e in zip(docs, doc_entry, strict=True):
        entry_features[e].update(feats)
    df: dict[str, int] = {}
    for feats in entry_features:
        for f in feats:
            df[f] = df.get(f, 0) + 1
    idf = {f: math.log((n_entries + 1) / (d + 1)) + 1.0 for f, d in df.items()}
    space = _Space(idf=idf, oov_idf=math.log(n_entries + 1) + 1.0, n_docs=len(docs))
    for i, feats in enumerate(docs):
        vec = {f: w * idf[f] for f, w in feats.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        for f, v in vec.items():
            space.postings.setdefault(f, []).append((i, v / norm))
    return space


def _cosines(
    space: _Space,
    feats: dict[str, float],
    oov_scale: float,
    skip: set[str],
    oov_exponent: float = 1.0,
) -> tuple[list[float], float]:
    """Dot products of the query with every document, and the inverse of the query's norm (the
    cosines are their products); unknown features count in the query's norm."""
    acc = [0.0] * space.n_docs
    norm2 = 0.0
    unknown2 = 0.0
    n_unknown = 0
    for f, w in feats.items():
        idf = space.idf.get(f)
        if idf is None:
            if f not in skip:
                v = w * space.oov_idf * oov_scale
                unknown2 += v * v
                n_unknown += 1
            continue
        v = w * idf
        norm2 += v * v
        for doc, dv in space.postings[f]:
            acc[doc] += v * dv
    if n_unknown:
        # Beyond the first few, unknown words are mostly the story around a question.
        norm2 += unknown2 / n_unknown * n_unknown**oov_exponent
    return acc, (1.0 / math.sqrt(norm2) if norm2 > 0.0 else 0.0)


def _coverage(space: _Space, feats: dict[str, float], oov_scale: float) -> list[float]:
    """Share of the query's (IDF-weighted, squared) mass found in each document, each word
    counted by how distinctive it is (0 for a word every document has, 1 for a word of one)."""
    acc = [0.0] * space.n_docs
    norm2 = 0.0
    top = space.oov_idf - 1.0
    for f, w in feats.items():
        idf = space.idf.get(f)
        v = w * (space.oov_idf * oov_scale if idf is None else idf)
        norm2 += v * v
        if idf is not None:
            gain = v * v * (idf - 1.0) / top
            for doc, _ in space.postings[f]:
                acc[doc] += gain
    if norm2 <= 0.0:
        return acc
    return [a / norm2 for a in acc]


_Token = tuple[str, bool, bool]  # (word, is a stop-word?, known to the FAQ?)
_BIAS = "^"  # the model's bias feature
_UNKNOWN = "?"  # the model's feature for words the FAQ never uses


class _Model:
    """A multinomial logistic regression over :meth:`FaqIndex.model_features`: one class per
    entry and one (:data:`DECLINE`) for questions to decline. Pure Python at run time; the
    weights are learnt by ``bench/train_faq_model.py``."""

    def __init__(self, data: dict, entries: Sequence[FaqEntry]) -> None:
        classes = list(data["classes"])
        self.n_classes = len(classes)
        #: feature -> [(class number, weight)], the small weights left out.
        self.weights = {
            f: [(int(c), float(w)) for c, w in row.items()] for f, row in data["weights"].items()
        }
        # Where each entry's probability is found (an entry the model does not know gets 0).
        position = {c: i for i, c in enumerate(classes)}
        self.slots = [position.get(e.id) for e in entries]

    def probabilities(self, feats: dict[str, float]) -> list[float]:
        z = [0.0] * self.n_classes
        for f, v in feats.items():
            for c, w in self.weights.get(f, ()):
                z[c] += v * w
        top = max(z)
        e = [math.exp(x - top) for x in z]
        total = sum(e)
        return [0.0 if i is None else e[i] / total for i in self.slots]


class FaqIndex:
    """The FAQ entries with everything the matcher needs precomputed."""

    def __init__(
        self,
        entries: Iterable[FaqEntry],
        *,
        threshold: float | None = None,
        config: MatcherConfig | None = None,
        out_of_scope: Iterable[str] = (),
        declines: Iterable[str] = (),
        model: dict | None = None,
    ) -> None:
        self.entries: tuple[FaqEntry, ...] = tuple(entries)
        #: Example questions to decline (``faq_examples.yaml``): what the model's "none" learns.
        self.declines: tuple[str, ...] = tuple(declines)
        if threshold is None:
            threshold = float((model or {}).get("threshold", DEFAULT_THRESHOLD))
        self.threshold = threshold
        self.config = config or MatcherConfig()
        #: Questions the bot must decline; used only for calibration.
        self.out_of_scope: tuple[str, ...] = tuple(out_of_scope)
        self._by_id = {e.id: e for e in self.entries}
        if len(self._by_id) != len(self.entries):
            raise ValueError("duplicate FAQ entry ids")
        n = len(self.entries)

        texts: list[str] = []
        self._doc_entry: list[int] = []
        # Each entry's documents, contiguous: [start, end) in ``texts``.
        self._doc_ranges: list[tuple[int, int]] = []
        for ei, entry in enumerate(self.entries):
            self._doc_ranges.append((len(texts), len(texts)))
            seen: set[str] = set()
            for text in (entry.question, entry.topic, *entry.phrasings, *entry.examples):
                key = " ".join(_raw_tokens(text))
                if key and key not in seen:
                    seen.add(key)
                    texts.append(text)
                    self._doc_entry.append(ei)
            self._doc_ranges[ei] = (self._doc_ranges[ei][0], len(texts))

        # Vocabulary for spelling correction: content words of the questions and answers, and
        # of the questions to decline (so that "elbow" is not corrected into an FAQ word).
        vocab: dict[str, int] = {}
        answers = [without_snippets(e.answer) for e in self.entries]
        for text in [*texts, *answers, *self.declines]:
            for tok in _raw_tokens(_strip_html(text)):
                if tok not in _STOPWORDS:
                    vocab[tok] = vocab.get(tok, 0) + 1
        self._vocab = vocab
        # How many of the FAQ's own texts (questions, phrasings, examples, answers) use each word
        # (stem): a word none of them uses is unknown to the FAQ, whatever else knows it.
        self._faq_words: dict[str, int] = {}
        for text in [*texts, *answers]:
            for stem in {_stem(t) for t in _raw_tokens(_strip_html(text)) if t not in _STOPWORDS}:
                self._faq_words[stem] = self._faq_words.get(stem, 0) + 1
        self._vocab_list = sorted(vocab, key=lambda w: (-vocab[w], w))
        self._known_stems = {_stem(w) for w in vocab}
        self._sound: dict[str, str] = {}
        for w in self._vocab_list:
            self._sound.setdefault(_sound_key(w), w)
        self._correct = lru_cache(maxsize=16384)(self._correct_uncached)

        word_docs, char_docs = [], []
        for text in texts:
            words, chars = self._features(self._tokens(text, correct=False))
            word_docs.append(words)
            char_docs.append(chars)
        # Stop-words that half the entries use say nothing about which one is meant, and cost
        # the most (the longest lists): the similarity leaves them out.
        stop_entries: dict[str, set[int]] = {}
        for feats, e in zip(word_docs, self._doc_entry, strict=True):
            for f in feats:
                if f in _STOPWORDS:
                    stop_entries.setdefault(f, set()).add(e)
        self._common = frozenset(f for f, es in stop_entries.items() if len(es) >= n / 2)
        word_docs = [{f: w for f, w in d.items() if f not in self._common} for d in word_docs]
        self._words = _build_space(word_docs, self._doc_entry, n)
        # Character n-grams per entry (all its questions together): they are for typos and word
        # forms, and one document per entry keeps a long message fast.
        entry_chars: list[dict[str, float]] = [{} for _ in range(n)]
        for feats, e in zip(char_docs, self._doc_entry, strict=True):
            entry_chars[e].update(feats)
        self._chars = _build_space(entry_chars, range(n), n)
        # Each entry as one document (all its questions together).
        entry_docs: list[dict[str, float]] = [{} for _ in range(n)]
        for feats, e in zip(word_docs, self._doc_entry, strict=True):
            entry_docs[e].update(feats)
        self._entry_words = _build_space(entry_docs, range(n), n)
        # The answers, as weak evidence for words the phrasings do not use.
        answer_docs = [
            # Shared safety text (the same in many answers) says nothing about the topic.
            self._features(
                self._tokens(_strip_html(without_snippets(e.answer)), correct=False),
                pairs=False,
            )[0]
            for e in self.entries
        ]
        answer_docs = [{f: w for f, w in d.items() if w >= 1.0} for d in answer_docs]
        self._answers = _build_space(answer_docs, range(n), n)
        self._model: _Model | None = None
        self.use_model(model)

    # ---- loading ----------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: Path | None = None,
        *,
        threshold: float | None = None,
        config: MatcherConfig | None = None,
        model_path: Path | None = MODEL_PATH,
    ) -> FaqIndex:
        """Load ``bot/content/faq.yaml`` (or ``path``), its examples and the model's weights
        (``model_path``; ``None``: the word and n-gram similarity alone), and build the index."""
        entries, out_of_scope = load_entries(path)
        model = None
        if model_path is not None and Path(model_path).exists():
            model = json.loads(Path(model_path).read_text(encoding="utf-8"))
        return cls(
            entries,
            threshold=threshold,
            config=config,
            out_of_scope=out_of_scope,
            declines=load_declines(path),
            model=model,
        )

    def use_model(self, model: dict | None) -> None:
        """Read with these weights from now on (``None``: the similarity alone); the threshold
        is left as it is."""
        self._model = _Model(model, self.entries) if model else None

    def get(self, entry_id: str) -> FaqEntry | None:
        return self._by_id.get(entry_id)

    # ---- features ---------------------------------------------------------------------------

    def _correct_uncached(self, tok: str) -> str | None:
        """The known word a misspelt token stands for, or ``None``."""
        if len(tok) < 4 or not tok.isalpha():
            return None
        key = _sound_key(tok)
        sound = self._sound.get(key) if len(key) >= 4 else None
        if sound is not None:
            return sound
        if len(tok) >= 7:
            # A compound of a known word: "overweight" -> "weight", "backache" -> "back".
            for cut in range(3, len(tok) - 4):
                if tok[cut:] in self._vocab:
                    return tok[cut:]
            for cut in range(len(tok) - 3, 3, -1):
                if tok[:cut] in self._vocab:
                    return tok[:cut]
        if len(tok) < 5:
            return None
        max_dist = 1 if len(tok) < 9 else 2
        best = process.extractOne(
            tok,
            self._vocab_list,
            scorer=DamerauLevenshtein.distance,
            score_cutoff=max_dist,
        )
        if best is None:
            return None
        word = best[0]
        # Two edits including the first letter, or any edit of the first letter of a short
        # word, is more often another word than a typo.
        if word[0] != tok[0] and (best[1] > 1 or len(tok) < 6):
            return None
        return word

    def _tokens(self, text: str, *, correct: bool) -> list[_Token]:
        out: list[_Token] = []
        for tok in _raw_tokens(text):
            if tok in _STOPWORDS or (tok.isdigit() and tok not in _KEEP_NUMBERS):
                out.append((tok, True, True))
            elif not correct or tok in self._vocab or _stem(tok) in self._known_stems:
                out.append((tok, False, True))
            else:
                fixed = self._correct(tok)
                out.append((fixed, False, True) if fixed is not None else (tok, False, False))
        return out

    def _features(
        self, tokens: list[_Token], *, pairs: bool = True
    ) -> tuple[dict[str, float], dict[str, float]]:
        cfg = self.config
        words: dict[str, float] = {}
        chars: dict[str, float] = {}
        content = [_stem(t) for t, stop, _ in tokens if not stop]
        for t, stop, _ in tokens:
            if stop and cfg.stop_weight > 0:
                words.setdefault(t, cfg.stop_weight)
        for s in content:
            words[s] = 1.0
        if cfg.concept_weight > 0:
            for s in content:
                for c in _CONCEPT_OF.get(s, ()):
                    key = f"~{c}"
                    words[key] = max(words.get(key, 0.0), cfg.concept_weight)
        if pairs:
            for a, b in zip(content, content[1:], strict=False):
                words[f"{a}_{b}"] = cfg.bigram_weight
        for tok, stop, _ in tokens:
            if stop:
                continue
            padded = f"<{tok}>"
            for n in cfg.char_ngrams:
                for i in range(len(padded) - n + 1):
                    chars[padded[i : i + n]] = 1.0
        return words, chars

    # ---- matching ---------------------------------------------------------------------------

    def scores(self, text: str) -> list[float]:
        """The score of every entry for ``text`` (same order as :attr:`entries`), 0 to 1: the
        similarity (:meth:`similarities`) and, when the model is loaded, its probability for the
        entry (:meth:`probabilities`), mixed by ``MatcherConfig.model_share``, less a share of
        the model's probability that the question is one to decline."""
        mixed, penalty = self._scores(text)
        return [max(0.0, s - penalty) for s in mixed]

    def _scores(self, text: str) -> tuple[list[float], float]:
        """(each entry's mix of similarity and probability, the decline penalty)."""
        sims = self.similarities(text)
        probs = self.probabilities(text)
        if probs is None:
            return sims, 0.0
        m = self.config.model_share
        penalty = self.config.decline_weight * max(0.0, 1.0 - sum(probs))
        return [(1.0 - m) * s + m * p for s, p in zip(sims, probs, strict=True)], penalty

    def probabilities(self, text: str) -> list[float] | None:
        """The model's probability of each entry (``None`` without a model); what is left to 1
        is its probability that the question is one to decline."""
        if self._model is None:
            return None
        return self._model.probabilities(self.model_features(text))

    def model_features(self, text: str, *, own: bool = False) -> dict[str, float]:
        """What the model reads: the word features of the similarity (words, pairs, groups of
        near-synonyms, stop-words at a small weight) of the whole text, the share of its words
        the FAQ's own texts never use, and a bias.

        ``own``: ``text`` is one of the FAQ's own texts (when training), so a word only it uses
        counts as unknown, as it would in a question the model has not seen.
        """
        if len(text) > _MAX_CHARS:
            text = text[: _MAX_CHARS // 2] + " " + text[-_MAX_CHARS // 2 :]
        tokens = self._tokens(text, correct=True)
        words, _ = self._features(tokens)
        content = {_stem(t) for t, stop, _ in tokens if not stop}
        seen_in = 1 if own else 0
        unknown = sum(1 for s in content if self._faq_words.get(s, 0) <= seen_in)
        if unknown:
            words[_UNKNOWN] = unknown / len(content)
        words[_BIAS] = 1.0
        return words

    def similarities(self, text: str) -> list[float]:
        """The word and n-gram similarity of every entry to ``text``.

        A message of several sentences scores as the best of the whole and of each sentence, so
        that the question in a long story is not drowned by the story.
        """
        if len(text) > _MAX_CHARS:
            text = text[: _MAX_CHARS // 2] + " " + text[-_MAX_CHARS // 2 :]
        best = self._scores_of(self._tokens(text, correct=True))
        parts = _SENTENCE_RE.split(text)
        if len(parts) > 1:
            for part in parts:
                tokens = self._tokens(part, correct=True)
                if sum(1 for _, stop, _ in tokens if not stop) < 2:
                    continue  # "Who is right?" on its own says nothing about the topic
                for i, v in enumerate(self._scores_of(tokens)):
                    if v > best[i]:
                        best[i] = v
        return best

    def _scores_of(self, tokens: list[_Token]) -> list[float]:
        n_entries = len(self.entries)
        if not any(not stop for _, stop, _ in tokens):
            return [0.0] * n_entries
        cfg = self.config
        words, _ = self._features(tokens)
        words = {f: w for f, w in words.items() if f not in self._common}
        # Unseen pairs of known words are not evidence against a match, nor is a word unknown to
        # the questions whose group is known (its group feature stands for it): ignore them.
        skip = {f for f in words if "_" in f or f in _CONCEPT_OF}
        # Character n-grams of unknown words are already counted once, in the word space.
        chars: dict[str, float] = {}
        for tok, stop, known in tokens:
            if stop:
                continue
            padded = f"<{tok}>"
            for n in cfg.char_ngrams:
                for i in range(len(padded) - n + 1):
                    g = padded[i : i + n]
                    if known or g in self._chars.idf:
                        chars[g] = 1.0
        wdot, winv = _cosines(self._words, words, cfg.oov_weight, skip, cfg.oov_exponent)
        cdot, cinv = _cosines(self._chars, chars, cfg.oov_weight, set(), cfg.oov_exponent)
        ww, cw = cfg.word_weight * winv, (1.0 - cfg.word_weight) * cinv
        by_entry = [cw * c for c in cdot]
        sims = [ww * a + by_entry[e] for a, e in zip(wdot, self._doc_entry, strict=True)]
        best = [0.0] * n_entries
        second = [0.0] * n_entries
        # An entry's documents are contiguous: its best and second-best question.
        for e, (start, end) in enumerate(self._doc_ranges):
            if end - start == 1:
                best[e] = sims[start]
            elif end > start:
                second[e], best[e] = sorted(sims[start:end])[-2:]
        g = cfg.second_doc_weight
        if g:
            best = [(b + g * s2) / (1.0 + g) for b, s2 in zip(best, second, strict=True)]
        unigrams = {f: w for f, w in words.items() if "_" not in f and w >= 1.0}
        ecos = _coverage(self._entry_words, unigrams, cfg.oov_weight)
        acov = _coverage(self._answers, unigrams, cfg.oov_weight)
        a, b, c = cfg.doc_share, cfg.entry_share, cfg.answer_share
        return [a * best[i] + b * ecos[i] + c * acov[i] for i in range(n_entries)]

    def match(self, text: str) -> FaqMatch:
        """The best entry when confident; otherwise the closest ones as suggestions. A question
        that names another part of the body, condition or medicine and nothing the FAQ is about
        is never answered (:func:`off_topic`)."""
        text = text or ""
        mixed, penalty = self._scores(text)
        order = sorted(range(len(mixed)), key=lambda i: -mixed[i])
        if not order:
            return FaqMatch(None, 0.0, False, ())
        top = order[0]
        top_score = round(max(0.0, mixed[top] - penalty), 4)
        confident = top_score >= self.threshold and top_score > 0.0 and not off_topic(text)
        # Suggestions: the closest topics whatever the model thinks of the question as a whole.
        floor = self.config.alt_floor * self.threshold
        rest = order[1:] if confident else order
        alternatives = tuple(
            self.entries[i] for i in rest[: self.config.max_alternatives] if mixed[i] >= floor
        )
        return FaqMatch(
            entry=self.entries[top] if confident else None,
            score=top_score,
            confident=confident,
            alternatives=alternatives,
        )


# --------------------------------------------------------------------------------------------
# Loading content
# --------------------------------------------------------------------------------------------


def _examples_file(path: Path | None) -> dict:
    examples_path = (Path(path).parent if path else content_dir()) / EXAMPLES_NAME
    if not examples_path.exists():
        return {}
    return parse_yaml(examples_path.read_text(encoding="utf-8")) or {}


def load_declines(path: Path | None = None) -> tuple[str, ...]:
    """The example questions to decline of ``faq_examples.yaml`` (beside the FAQ file)."""
    return tuple(str(q) for q in _examples_file(path).get("decline") or ())


def training_data(entries: Sequence[FaqEntry], declines: Sequence[str]) -> list[tuple[str, str]]:
    """(text, class) pairs of the FAQ's own that the model learns from: each entry's question,
    topic, phrasings and examples, and the questions to decline (class :data:`DECLINE`). The
    trainer adds the tuning halves of the evaluation sets."""
    out = []
    for e in entries:
        out += [(t, e.id) for t in (e.question, e.topic, *e.phrasings, *e.examples)]
    out += [(t, DECLINE) for t in declines]
    return out


def training_fingerprint(data: Sequence[tuple[str, str]]) -> str:
    """A digest of what the model learns from (its examples and the vocabulary that reads
    them): a model whose fingerprint differs was trained on other content."""
    digest = hashlib.sha256(LANGUAGE_PATH.read_bytes())
    digest.update(json.dumps(list(data), ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:16]


def load_entries(path: Path | None = None) -> tuple[tuple[FaqEntry, ...], tuple[str, ...]]:
    """Parse the FAQ file: the entries and the ``out_of_scope`` calibration questions.

    Without ``path``: ``faq.yaml`` of the content directory, checked against its schema. Each
    entry's example questions come from ``faq_examples.yaml`` beside it, if there is one.
    """
    if path is None:
        data = read("faq.yaml")
    else:
        data = parse_yaml(Path(path).read_text(encoding="utf-8"))
    examples = _examples_file(path).get("examples") or {}
    entries = []
    for raw in data["entries"]:
        kind = raw.get("kind", "answer")
        if kind not in KINDS:
            raise ValueError(f"FAQ entry {raw.get('id')!r}: unknown kind {kind!r}")
        entries.append(
            FaqEntry(
                id=str(raw["id"]),
                topic=str(raw["topic"]),
                question=str(raw["question"]),
                phrasings=tuple(str(p) for p in raw.get("phrasings") or ()),
                answer=expand(str(raw["answer"]).strip()),
                related=tuple(str(r) for r in raw.get("related") or ()),
                kind=kind,
                examples=tuple(str(q) for q in examples.get(str(raw["id"])) or ()),
            )
        )
    return tuple(entries), tuple(str(q) for q in data.get("out_of_scope") or ())

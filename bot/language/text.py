"""Text as the bot reads it: normalised once, at the edge, before detection, storage or display.

Unicode NFKC folds look-alike forms (full-width letters, ligatures) into plain ones; invisible
formatting characters (zero-width spaces and joiners, soft hyphens, word joiners, byte-order
marks, and the bidirectional embeddings, overrides and isolates) are removed. They can hide a
red-flag word from detection ("pe\u200be") or make a name or note display differently to staff
than it was typed (a right-to-left override reversing "(patient ID 1)").
"""

from __future__ import annotations

import re
import unicodedata

# Category Cf ("format") characters that change nothing a reader should see, plus the
# bidirectional controls. Emoji sequences need the zero-width joiner (U+200D) between two
# pictographs, so it is kept there and removed everywhere else.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200c\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0e\ufeff\uffa0]"
)
_PICTOGRAPH = "\U0001f000-\U0001faff\u2600-\u27bf"
_JOINER_NOT_IN_EMOJI = re.compile(f"(?<![{_PICTOGRAPH}])\u200d|\u200d(?![{_PICTOGRAPH}])")


def normalise(text: str) -> str:
    """NFKC, then without invisible formatting characters."""
    if not text:
        return text
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    return _JOINER_NOT_IN_EMOJI.sub("", text)

"""Every button's callback data, built and parsed here and nowhere else.

Data is ``area:a:b[:c]``: a two-letter area naming the flow the button belongs to, then its
fields. Each :class:`Area` says what its fields may hold; :func:`build` checks them and
Telegram's limit of 64 bytes once, and :func:`parse` refuses anything else (an old, forged or
garbled button), so a handler only ever sees fields of the right shape.

The application routes presses with ``CallbackQueryHandler(pattern=AREA.pattern)`` per area
(``bot/app.py``); :data:`ANY` catches the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64  # Telegram's limit on callback data

_NONCE = r"[A-Za-z0-9]{1,16}"  # a flow's random token: an older flow's buttons are stale
_ID = r"[0-9]{1,10}"  # a database id (32-bit: up to 2,147,483,647)


@dataclass(frozen=True)
class Area:
    """One kind of button: its prefix and what each field may hold (regular expressions)."""

    prefix: str
    a: str
    b: str
    c: str | None = None  # None: no third field

    @property
    def pattern(self) -> re.Pattern[str]:
        c = "" if self.c is None else f":({self.c})"
        return re.compile(rf"^{self.prefix}:({self.a}):({self.b}){c}$")

    def build(self, a: object, b: object, c: object | None = None) -> str:
        fields = [a, b] if self.c is None else [a, b, c]
        data = ":".join([self.prefix, *(str(f) for f in fields)])
        if not self.pattern.match(data) or len(data.encode()) > MAX_BYTES:
            raise ValueError(f"not valid callback data for {self.prefix}: {data!r}")
        return data

    def parse(self, data: str | None) -> tuple[str, ...] | None:
        m = self.pattern.match(data or "")
        return m.groups() if m else None


# The flows' buttons. Fields: (a, b[, c]).
ONBOARDING = Area("ob", _NONCE, r"c|t|z", r"y|n|[0-9]{4}|clinic")  # consent, time, zone
CHECKIN = Area("ci", _NONCE, r"lp|bp|nb|wk|ww|rf|ex|nt", r"y|n|[0-9]{1,2}|yes|partly|no|skip|keep")
RED_FLAG = Area("rf", _ID, r"y|n", _NONCE)  # "Is this happening now?" (alert, answer, nonce)
ALERT = Area("al", _ID, r"ack|dia")  # acknowledge, open the diary
EXERCISE_REMINDER = Area("ex", _ID, r"done|snz|skip")  # the outbox row of the reminder
CHECKIN_PROMPT = Area("ck", _ID, r"go")
EXERCISE = Area("xe", r"[a-z0-9_-]{1,32}", r"show")
SETTINGS = Area("st", _NONCE, r"ct|et|tz|wk|ps|rs")
ERASE = Area("dm", r"[0-9]{1,16}", r"yes|no")  # the Telegram user id the button belongs to
FAQ = Area("fq", r"[A-Za-z0-9-]{1,32}", r"show|ask")  # an entry id, or a question id
QUESTIONNAIRE = Area("pr", _NONCE, r"a", r"[0-9]{1,3}_(?:[0-9]{1,2}|end)")  # step_value

ANY = re.compile(r".*", re.DOTALL)  # the last route: anything no area accepts is stale

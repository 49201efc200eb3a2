"""Standard outcome measures (PROMs) in the chat: which one is due, and each answer.

At joining (after the first check-in): the Keele STarT Back tool, then the Patient-Specific
Functional Scale (the patient names up to 3 hard activities and rates each). Every 2 weeks: the
PSFS again, on the same activities. At discharge: the Global Rating of Change, then the PSFS.
One tap per answer; a questionnaire left half done is offered again after the next check-in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.language.plain_words import plain_request
from bot.outcomes.proms import (
    MAX_ACTIVITY,
    PSFS_MAX_ACTIVITIES,
    STARTBACK_ITEMS,
    content,
    score_groc,
    score_psfs,
    score_startback,
)
from storage.models import Patient, Priority, PromResponse
from storage.uow import UnitOfWork

PSFS_EVERY = timedelta(days=14)
ACTIVITY_ANSWER_WITHIN = timedelta(hours=2)  # a typed PSFS activity, after the questionnaire began


@dataclass(frozen=True)
class Step:
    # question | done | stale | too_long | none
    status: str
    response: PromResponse | None = None
    next: PromResponse | None = None  # started when ``response`` was completed


def due(responses: list[PromResponse], patient: Patient, now: datetime) -> tuple[str, str] | None:
    """(instrument, occasion) of the questionnaire due now, or None."""
    done = [r for r in responses if r.status == "done"]
    psfs = [r for r in done if r.instrument == "psfs"]
    if patient.status == "discharged":
        if not any(r.instrument == "groc" for r in done):
            return "groc", "discharge"
        if psfs and not any(r.occasion == "discharge" for r in psfs):
            return "psfs", "discharge"
        return None
    if not any(r.instrument == "startback" for r in done):
        return "startback", "joining"
    if not psfs:
        return "psfs", "joining"
    if now - psfs[-1].completed_at >= PSFS_EVERY:
        return "psfs", "review"
    return None


async def offer(uow: UnitOfWork, patient: Patient, now: datetime) -> PromResponse | None:
    """The questionnaire to ask now: the one left half done, else a new one if one is due."""
    current = await uow.proms.open_for(patient.id)
    if current is not None:
        return current
    return await _start_due(uow, patient, now)


async def _start_due(
    uow: UnitOfWork, patient: Patient, now: datetime, commit: bool = True
) -> PromResponse | None:
    responses = await uow.proms.for_patient(patient.id)
    which = due(responses, patient, now)
    if which is None:
        return None
    instrument, occasion = which
    answers: dict = {}
    if instrument == "psfs":
        if occasion == "joining":
            answers = {"activities": [], "phase": "name"}
        else:  # the same activities again
            last = [r for r in responses if r.instrument == "psfs" and r.status == "done"][-1]
            names = [a["name"] for a in last.answers["activities"]]
            answers = {
                "activities": [{"name": n, "rating": None} for n in names],
                "phase": "rate",
                "review": True,
            }
    elif instrument == "startback":
        answers = {"items": []}
    response = await uow.proms.add(
        PromResponse(
            patient_id=patient.id,
            instrument=instrument,
            occasion=occasion,
            status="open",
            nonce=secrets.token_hex(3),
            step=0,
            answers=answers,
            started_at=now,
        )
    )
    await uow.audit.record(
        now, "system", "prom_started", patient_id=patient.id, instrument=instrument
    )
    if commit:
        await uow.commit()
    return response


def current_activity(response: PromResponse) -> str | None:
    """The PSFS activity waiting for its rating."""
    for a in response.answers.get("activities", []):
        if a["rating"] is None:
            return a["name"]
    return None


async def answer(
    uow: UnitOfWork, user_id: int, nonce: str, step: int, value: str, now: datetime
) -> Step:
    """A tap on a questionnaire's button. Anything but the open questionnaire's current step
    is stale."""
    patient = await uow.patients.by_user(user_id)
    response = await uow.proms.open_for(patient.id) if patient is not None else None
    if response is None or response.nonce != nonce or response.step != step:
        return Step("stale")
    answers = dict(response.answers)
    match response.instrument:
        case "startback":
            items = list(answers["items"])
            limit = 2 if len(items) < STARTBACK_ITEMS - 1 else 5
            if not (value.isdigit() and int(value) < limit):
                return Step("stale")
            items.append(int(value))
            answers["items"] = items
            finished = len(items) == STARTBACK_ITEMS
        case "groc":
            if not (value.isdigit() and int(value) < len(content().groc.answers)):
                return Step("stale")
            answers["value"] = content().groc.answers[int(value)][1]
            finished = True
        case _:  # psfs
            finished, ok = _psfs_tap(answers, value)
            if not ok:
                return Step("stale")
    response.answers = answers
    response.step += 1
    if not finished:
        await uow.commit()
        return Step("question", response)
    return await _complete(uow, patient, response, now)


def _psfs_tap(answers: dict, value: str) -> tuple[bool, bool]:
    """Apply a PSFS tap to ``answers``; (finished, valid)."""
    activities = [dict(a) for a in answers["activities"]]
    if answers["phase"] == "more" and value == "end":
        return True, True
    if answers["phase"] != "rate" or not (value.isdigit() and int(value) <= 10):
        return False, False
    waiting = next(a for a in activities if a["rating"] is None)
    waiting["rating"] = int(value)
    answers["activities"] = activities
    if any(a["rating"] is None for a in activities):
        return False, True  # a review: the next activity
    if answers.get("review") or len(activities) >= PSFS_MAX_ACTIVITIES:
        return True, True
    answers["phase"] = "more"
    return False, True


async def typed(uow: UnitOfWork, patient: Patient, text: str, now: datetime) -> Step:
    """A typed PSFS activity, when the open questionnaire waits for one; else status none."""
    response = await uow.proms.open_for(patient.id)
    if (
        response is None
        or response.instrument != "psfs"
        or response.answers.get("phase") not in ("name", "more")
        # Asked long ago: this text is about something else (a question, a note).
        or now - response.started_at > ACTIVITY_ANSWER_WITHIN
        # "ok", "thanks", "hello": not an activity (the small-talk reply answers them); nor a
        # question, which goes on to be answered.
        or plain_request(text) is not None
        or text.strip().endswith("?")
    ):
        return Step("none")
    name = " ".join(text.split())
    if _no_more(name):
        if response.answers["phase"] == "more":  # typed instead of pressing "That's all"
            response.step += 1
            return await _complete(uow, patient, response, now)
        return Step("none")
    if not name or len(name) > MAX_ACTIVITY:
        return Step("too_long", response)
    answers = dict(response.answers)
    answers["activities"] = [*answers["activities"], {"name": name, "rating": None}]
    answers["phase"] = "rate"
    response.answers = answers
    response.step += 1
    await uow.commit()
    return Step("question", response)


_NO_MORE = {"no", "nope", "no thanks", "no thank you", "none", "nothing", "no more", "done"}


def _no_more(typed: str) -> bool:
    """ "No", "that's all", "nothing else": not an activity."""
    words = typed.lower().strip(" .!").replace("’", "'")
    return words in _NO_MORE or words.startswith(("that's all", "thats all", "nothing else"))


async def _complete(
    uow: UnitOfWork, patient: Patient, response: PromResponse, now: datetime
) -> Step:
    a = response.answers
    match response.instrument:
        case "startback":
            response.score = score_startback(a["items"])
        case "groc":
            response.score = score_groc(a["value"])
        case _:
            response.score = score_psfs([x["rating"] for x in a["activities"]])
    response.status = "done"
    response.completed_at = now
    await uow.audit.record(
        now,
        "patient",
        "prom_completed",
        actor_id=patient.telegram_user_id,
        patient_id=patient.id,
        instrument=response.instrument,
        score=response.score,
    )
    await uow.commit()
    return Step("done", response, await _start_due(uow, patient, now))


async def start_at_discharge(uow: UnitOfWork, patient: Patient, now: datetime) -> None:
    """Queue the discharge questionnaires' first question (sent by the outbox)."""
    await uow.proms.drop_open(patient.id)
    response = await _start_due(uow, patient, now, commit=False)  # with its message, below
    if response is None:
        await uow.commit()
        return
    await uow.outbox.add(
        kind="prom",
        priority=Priority.ANSWER,
        chat_id=patient.chat_id,
        dedupe_key=f"prom:{response.id}",
        send_at=now,
        patient_id=patient.id,
        ref_id=response.id,
    )
    await uow.commit()


def latest(responses: list[PromResponse]) -> dict[str, list[PromResponse]]:
    """Completed questionnaires by instrument, oldest first."""
    out: dict[str, list[PromResponse]] = {}
    for r in responses:
        if r.status == "done":
            out.setdefault(r.instrument, []).append(r)
    return out

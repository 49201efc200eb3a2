"""A patient's record as a FHIR R4 Bundle, for the clinic's own systems.

Built and validated with the ``fhir.resources`` models (their R4B package: R4B and R4 agree
for every resource used here): ``Patient``; an ``Observation`` per pain score (LOINC 72514-3,
leg or back told apart with ``bodySite``); ``Observation``s for the questionnaires' scores
(STarT Back total 91351-7, psychosocial/distress subscore 91350-9 and risk group 91352-5, members
of the panel 91349-1; the PSFS mean and the global rating of change, by text); a
``QuestionnaireResponse`` for each completed questionnaire; each alert as a ``Flag``.

Resources are named by ``urn:uuid`` URLs derived from the bot's own ids, so an export made
twice names the same things the same way.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fhir.resources.R4B.bundle import Bundle

NAMESPACE = uuid.UUID("6f1f3c1e-5b0e-4d8a-9a57-2d6c4f1b9e10")  # this bot's resources
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
PAIN = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
BODY_SITE = {
    "leg": {"system": SNOMED, "code": "61685007", "display": "Lower limb structure"},
    "back": {"system": SNOMED, "code": "37822005", "display": "Lumbar region of back structure"},
}
STARTBACK = {
    "panel": ("91349-1", "Keele STarT Back Screening Tool panel"),
    "total": ("91351-7", "Total score [STarT Back]"),
    "psychosocial": ("91350-9", "Distress subscore [STarT Back]"),
    "risk": ("91352-5", "Risk group [STarT Back]"),
}
SURVEY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
        }
    ]
}
QUESTIONNAIRE = "urn:recovery-bot:questionnaire:"
CLINIC_REF = "urn:recovery-bot:clinic-reference"


def urn(kind: str, key: object) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{kind}/{key}')}"


def _when(dt: datetime) -> str:
    return dt.isoformat()


def patient_bundle(patient, entries, responses, alerts, questionnaire_texts: dict) -> str:
    """The Bundle (type collection) as JSON. ``entries``: diary entries; ``responses``:
    completed questionnaires; ``alerts``; ``questionnaire_texts``: instrument -> item texts."""
    subject = urn("patient", patient.id)
    ref = {"reference": subject, "display": patient.name}
    resources: list[tuple[str, dict]] = [(subject, _patient(patient))]
    for e in entries:
        for site in ("leg", "back"):
            resources.append(
                (
                    urn("pain", f"{e.id}/{site}"),
                    {
                        "resourceType": "Observation",
                        "status": "final",
                        "category": [SURVEY],
                        "code": {"coding": [PAIN], "text": f"{site} pain"},
                        "bodySite": {"coding": [BODY_SITE[site]], "text": site},
                        "subject": ref,
                        "effectiveDateTime": _when(e.created_at),
                        "valueInteger": e.leg_pain if site == "leg" else e.back_pain,
                    },
                )
            )
    for r in responses:
        resources += _scores(r, ref)
        resources.append((urn("response", r.id), _response(r, ref, questionnaire_texts)))
    for a in alerts:
        resources.append((urn("alert", a.id), _flag(a, ref)))
    bundle = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "identifier": {"system": "urn:recovery-bot:export", "value": str(patient.id)},
            "entry": [{"fullUrl": url, "resource": res} for url, res in resources],
        }
    )
    return bundle.model_dump_json(exclude_none=True, indent=2)


def _patient(p) -> dict:
    # Patient.active is about the record being in use, not about treatment: a discharged
    # patient's record still is, so it is left out.
    res = {"resourceType": "Patient", "name": [{"text": p.name}]}
    if p.clinic_ref:
        res["identifier"] = [{"system": CLINIC_REF, "value": p.clinic_ref}]
    if p.phone:
        res["telecom"] = [{"system": "phone", "value": p.phone}]
    return res


def _observation(ref: dict, when: datetime, code: dict, value: dict, **extra) -> dict:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [SURVEY],
        "code": code,
        "subject": ref,
        "effectiveDateTime": _when(when),
        **value,
        **extra,
    }


def _loinc(name: str) -> dict:
    code, display = STARTBACK[name]
    return {"coding": [{"system": LOINC, "code": code, "display": display}]}


def _scores(r, ref: dict) -> list[tuple[str, dict]]:
    when = r.completed_at
    derived = {"derivedFrom": [{"reference": urn("response", r.id)}]}
    if r.instrument == "startback":
        members = [
            (urn("score", f"{r.id}/total"), _loinc("total"), {"valueInteger": r.score["total"]}),
            (
                urn("score", f"{r.id}/psychosocial"),
                _loinc("psychosocial"),
                {"valueInteger": r.score["psychosocial"]},
            ),
            (
                urn("score", f"{r.id}/risk"),
                _loinc("risk"),
                {"valueCodeableConcept": {"text": f"{r.score['risk']} risk"}},
            ),
        ]
        out = [
            (url, _observation(ref, when, code, value, **derived)) for url, code, value in members
        ]
        panel = _observation(
            ref,
            when,
            _loinc("panel"),
            {},
            hasMember=[{"reference": url} for url, _, _ in members],
            **derived,
        )
        return [(urn("score", f"{r.id}/panel"), panel), *out]
    if r.instrument == "psfs":
        code = {"text": "Patient-Specific Functional Scale, mean of the activities (0-10)"}
        value = {"valueQuantity": {"value": r.score["mean"], "unit": "score"}}
    else:
        code = {"text": "Global rating of change (-3 very much worse to +3 very much better)"}
        value = {"valueInteger": r.score["score"]}
    return [(urn("score", f"{r.id}/score"), _observation(ref, when, code, value, **derived))]


def _response(r, ref: dict, texts: dict) -> dict:
    a = r.answers
    if r.instrument == "startback":
        items = [
            {"linkId": str(i + 1), "text": t, "answer": [{"valueInteger": v}]}
            for i, (t, v) in enumerate(zip(texts["startback"], a["items"], strict=True))
        ]
    elif r.instrument == "psfs":
        items = [
            {
                "linkId": f"activity-{i + 1}",
                "text": act["name"],
                "answer": [{"valueInteger": act["rating"]}],
            }
            for i, act in enumerate(a["activities"])
        ]
    else:
        items = [{"linkId": "1", "text": texts["groc"], "answer": [{"valueInteger": a["value"]}]}]
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": QUESTIONNAIRE + r.instrument,
        "status": "completed",
        "subject": ref,
        "authored": _when(r.completed_at),
        "item": items,
    }


def _flag(a, ref: dict) -> dict:
    period = {"start": _when(a.created_at)}
    if a.status != "open":
        period["end"] = _when(a.acknowledged_at or a.updated_at)
    return {
        "resourceType": "Flag",
        "status": "active" if a.status == "open" else "inactive",
        "category": [{"text": f"{a.level} alert"}],
        "code": {"text": a.reason},
        "subject": ref,
        "period": period,
    }

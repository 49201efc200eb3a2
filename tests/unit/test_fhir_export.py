"""The FHIR export: every resource parses with the fhir.resources R4B models and says what a
clinical system needs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from types import SimpleNamespace

from fhir.resources.R4B.bundle import Bundle

from bot.outcomes.fhir import patient_bundle
from bot.outcomes.proms import content

T = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def sample() -> str:
    patient = SimpleNamespace(
        id=12, name="Sam Taylor", status="active", clinic_ref="RB-1042", phone="+44 7700 900123"
    )
    entries = [
        SimpleNamespace(id=1, created_at=T, local_day=date(2026, 11, 2), leg_pain=6, back_pain=3)
    ]
    responses = [
        SimpleNamespace(
            id=5,
            instrument="startback",
            completed_at=T,
            answers={"items": [1, 1, 0, 0, 1, 1, 0, 0, 3]},
            score={"total": 5, "psychosocial": 3, "risk": "medium"},
        ),
        SimpleNamespace(
            id=6,
            instrument="psfs",
            completed_at=T,
            answers={"activities": [{"name": "putting on socks", "rating": 3}]},
            score={"mean": 3.0, "activities": 1},
        ),
        SimpleNamespace(
            id=7, instrument="groc", completed_at=T, answers={"value": 2}, score={"score": 2}
        ),
    ]
    alerts = [
        SimpleNamespace(
            id=3,
            level="urgent",
            reason="Red flag",
            status="acknowledged",
            created_at=T,
            acknowledged_at=T,
            updated_at=T,
        )
    ]
    texts = {"startback": [*content().startback.items, content().startback.bothersome], "groc": "?"}
    return patient_bundle(patient, entries, responses, alerts, texts)


def test_the_bundle_parses_with_fhir_resources_and_names_every_resource():
    bundle = Bundle.model_validate_json(sample())
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds.count("Patient") == 1
    assert kinds.count("QuestionnaireResponse") == 3
    assert kinds.count("Flag") == 1
    # 2 pain scores, 4 STarT Back (panel and its 3 members), PSFS, GROC
    assert kinds.count("Observation") == 8
    urls = [e.fullUrl for e in bundle.entry]
    assert len(set(urls)) == len(urls) and all(u.startswith("urn:uuid:") for u in urls)


def test_pain_scores_are_loinc_72514_3_with_the_body_site():
    data = json.loads(sample())
    pain = [
        e["resource"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"].get("coding", [{}])[0].get("code") == "72514-3"
    ]
    sites = {p["bodySite"]["text"]: p["valueInteger"] for p in pain}
    assert sites == {"leg": 6, "back": 3}


def test_startback_scores_are_members_of_the_loinc_panel():
    data = json.loads(sample())
    by_code = {}
    for e in data["entry"]:
        coding = e["resource"].get("code", {}).get("coding")
        if coding:
            by_code[coding[0]["code"]] = e
    panel = by_code["91349-1"]["resource"]
    members = {m["reference"] for m in panel["hasMember"]}
    assert members == {by_code[c]["fullUrl"] for c in ("91351-7", "91350-9", "91352-5")}
    assert by_code["91351-7"]["resource"]["valueInteger"] == 5
    assert by_code["91350-9"]["resource"]["valueInteger"] == 3
    assert by_code["91352-5"]["resource"]["valueCodeableConcept"]["text"] == "medium risk"


def test_the_patient_carries_the_clinic_reference_and_phone():
    data = json.loads(sample())
    patient = next(
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    assert patient["identifier"][0]["value"] == "RB-1042"
    assert patient["telecom"][0]["value"] == "+44 7700 900123"
    flag = next(e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Flag")
    assert flag["status"] == "inactive" and flag["period"]["end"]

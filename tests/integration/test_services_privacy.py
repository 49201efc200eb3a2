"""A patient's data: erasure (bot/services/privacy.py), their own copy (/mydata), and the
clinic's exports (bot/services/export.py: CSV tables and a FHIR Bundle)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from bot.delivery.outbox import Outbox
from bot.rules.escalation import Decision
from bot.services import export, invites, privacy
from bot.services.alerts import acknowledge, raise_alert
from tests.integration.service_support import (
    CLINIC_CHAT,
    NOW,
    Clock,
    FakeSender,
    add_patient,
    checkin_entry,
    settings,
)

RED_FLAG = Decision("urgent", "red_flag", "Red flag: numb saddle area.", {"leg_pain": 4})
PAIN = Decision("worsening", "pain_rise:leg", "Leg pain 7/10 is 4 points above...", {})


async def patient_with_history(db, user_id=5001, name="Sam Taylor", note="Stiff"):
    """A patient who joined by invite, checked in, wrote to the bot and raised an alert."""
    async with db.uow() as uow:
        inv = await invites.create_invite(
            uow, name, created_by=11, now=NOW, valid_days=14, phone="+44 7700 900123"
        )
        await uow.commit()
    p = await add_patient(db, user_id=user_id, name=name, invite_id=inv.id, phone="+44 7700 900123")
    async with db.uow() as uow:
        await uow.checkins.add_entry(
            checkin_entry(
                p.id, NOW.date(), leg_pain=4, numbness=True, exercises="partly", note=note
            )
        )
        await uow.audit.record(NOW, "patient", "checkin_saved", actor_id=user_id, patient_id=p.id)
        await uow.inbox.store(
            [
                {
                    "update_id": user_id * 10,
                    "chat_id": p.chat_id,
                    "payload": {"message": {"text": "my leg hurts"}},
                    "received_at": NOW,
                }
            ]
        )
        await uow.commit()
    return p


async def erase(db, user_id, at=NOW):
    async with db.uow() as uow:
        return await privacy.erase(uow, user_id, at)


async def count(db, table, patient_id) -> int:
    return await db.scalar(f"SELECT count(*) FROM {table} WHERE patient_id = :p", p=patient_id)


async def test_erasure_waits_while_an_urgent_alert_is_open(db):
    p = await patient_with_history(db)
    async with db.uow() as uow:
        alert, _ = await raise_alert(uow, p, RED_FLAG, NOW, advice="numbness")
        await uow.commit()
    assert await erase(db, p.telegram_user_id) == "urgent_open"
    assert await db.scalar("SELECT count(*) FROM patients") == 1
    assert await count(db, "checkin_entries", p.id) == 1
    assert (
        await db.scalar("SELECT count(*) FROM audit_events WHERE action = 'erasure_deferred'") == 1
    )
    # Once the clinic has acknowledged it, the patient may go.
    async with db.uow() as uow:
        await acknowledge(uow, alert.id, 11, "Dr Lee", True, NOW + timedelta(minutes=5))
    assert await erase(db, p.telegram_user_id, NOW + timedelta(minutes=6)) == "erased"


async def test_a_routine_alert_does_not_hold_up_erasure(db):
    p = await patient_with_history(db)
    async with db.uow() as uow:
        await raise_alert(uow, p, PAIN, NOW)
        await uow.commit()
    assert await erase(db, p.telegram_user_id) == "erased"
    assert await db.scalar("SELECT count(*) FROM alerts") == 0


async def test_after_erasure_nothing_about_the_patient_is_left_but_one_anonymous_event(db):
    p = await patient_with_history(db)
    other = await patient_with_history(db, user_id=5002, name="Jo Bloggs", note="Fine")
    async with db.uow() as uow:
        await raise_alert(uow, p, PAIN, NOW)
        await uow.commit()
    assert await erase(db, p.telegram_user_id, NOW + timedelta(hours=1)) == "erased"
    assert await db.scalar("SELECT count(*) FROM patients WHERE id = :p", p=p.id) == 0
    tables = ("checkin_entries", "alerts", "reminders", "checkin_drafts", "audit_events", "outbox")
    for table in tables:
        assert await count(db, table, p.id) == 0, table
    assert await db.scalar("SELECT count(*) FROM inbox WHERE chat_id = :c", c=p.chat_id) == 0
    invites_left = await db.rows("SELECT name FROM invites")
    assert [r["name"] for r in invites_left] == ["Jo Bloggs"]
    assert (
        await db.scalar(
            "SELECT count(*) FROM audit_events WHERE actor_id = :u", u=p.telegram_user_id
        )
        == 0
    )
    [event] = await db.rows(
        "SELECT actor, actor_id, patient_id, details FROM audit_events "
        "WHERE action = 'patient_erased'"
    )
    assert (event["actor"], event["actor_id"], event["patient_id"]) == ("patient", None, None)
    assert event["details"] in ({}, "{}")
    # The other patient is untouched.
    assert await count(db, "checkin_entries", other.id) == 1
    assert await db.scalar("SELECT count(*) FROM inbox WHERE chat_id = :c", c=other.chat_id) == 1
    # A second request: there is nobody left to erase.
    assert await erase(db, p.telegram_user_id) == "not_registered"


async def test_the_clinic_is_told_who_left_and_the_bot_then_forgets_the_notice(db):
    p = await patient_with_history(db)
    await erase(db, p.telegram_user_id)
    [notice] = await db.rows("SELECT kind, chat_id, patient_id, body FROM outbox")
    assert (notice["kind"], notice["chat_id"], notice["patient_id"]) == ("erased", 0, None)
    assert "Sam Taylor" in notice["body"] and "+44 7700 900123" in notice["body"]
    sender = FakeSender()
    await Outbox(db.sessionmaker, sender, settings(), Clock(NOW)).dispatch_once()
    [sent] = sender.calls
    assert sent.chat_id == CLINIC_CHAT and f"patient ID {p.id}" in sent.text
    assert await db.scalar("SELECT body FROM outbox") is None


async def test_the_patients_own_copy_holds_their_data_and_names_staff_by_role(db):
    p = await patient_with_history(db)
    other = await patient_with_history(db, user_id=5002, name="Jo Bloggs", note="Other note")
    async with db.uow() as uow:
        alert, _ = await raise_alert(uow, p, RED_FLAG, NOW, advice="numbness")
        await uow.commit()
        await acknowledge(uow, alert.id, 11, "Dr Lee", True, NOW)
    async with db.uow() as uow:
        data = json.loads(await privacy.export(uow, await uow.patients.get(p.id), NOW))
    assert data["patient"]["name"] == "Sam Taylor"
    assert [(e["leg_pain"], e["note"]) for e in data["diary"]] == [(4, "Stiff")]
    [a] = data["alerts_to_the_clinic"]
    assert (a["rule"], a["acknowledged_by"], a["acknowledged_by_name"]) == (
        "red_flag",
        privacy.CLINICIAN,
        privacy.CLINICIAN,
    )
    # Messages to the patient only; the alert to the clinic chat is not theirs to see.
    assert {m["kind"] for m in data["messages_to_you"]} == {"urgent_advice"}
    assert data["messages_as_you_typed_them"][0]["text"] == "my leg hurts"
    dumped = json.dumps(data)
    assert "Jo Bloggs" not in dumped and "Other note" not in dumped and "Dr Lee" not in dumped
    assert str(other.telegram_user_id) not in dumped
    assert (
        await db.scalar(
            "SELECT count(*) FROM audit_events WHERE action = 'data_exported' AND patient_id = :p",
            p=p.id,
        )
        == 1
    )


async def test_the_csv_export_has_the_patients_rows_and_defuses_formulas(db):
    p = await patient_with_history(db, note='=HYPERLINK("http://x")')
    await patient_with_history(db, user_id=5002, name="Jo Bloggs")
    async with db.uow() as uow:
        alert, _ = await raise_alert(uow, p, PAIN, NOW)
        await uow.commit()
        await acknowledge(uow, alert.id, 11, "Dr Lee", True, NOW + timedelta(minutes=2))
    async with db.uow() as uow:
        files = await export.export(uow, "csv", p.id, NOW)
    assert set(files) == set(export.TABLES)
    tables = {name: list(csv.reader(io.StringIO(body))) for name, body in files.items()}
    assert tables["patients.csv"][0] == list(export.TABLES["patients.csv"])
    prow = tables["patients.csv"][1]
    assert prow[:3] == [str(p.id), "Sam Taylor", ""]
    assert prow[3].lstrip("'") == "+44 7700 900123"  # a leading "+" is written as text
    [header, entry] = tables["entries.csv"]
    row = dict(zip(header, entry, strict=True))
    assert (row["leg_pain"], row["numbness"], row["red_flag"], row["exercises"]) == (
        "4",
        "yes",
        "no",
        "partly",
    )
    assert row["note"] == '\'=HYPERLINK("http://x")'
    [header, a] = tables["alerts.csv"]
    arow = dict(zip(header, a, strict=True))
    assert (arow["rule"], arow["status"], arow["acknowledged_by"]) == (
        "pain_rise:leg",
        "acknowledged",
        "Dr Lee",
    )
    assert tables["proms.csv"] == [list(export.TABLES["proms.csv"])]
    audited = await db.rows("SELECT actor, patient_id FROM audit_events WHERE action = 'exported'")
    assert [tuple(r.values()) for r in audited] == [("operator", p.id)]


async def test_the_fhir_export_is_a_bundle_of_the_patients_observations_and_flags(db):
    p = await patient_with_history(db)
    async with db.uow() as uow:
        await raise_alert(uow, p, RED_FLAG, NOW)
        await uow.commit()
    async with db.uow() as uow:
        files = await export.export(uow, "fhir", p.id, NOW)
    bundle = json.loads(files[f"patient-{p.id}.fhir.json"])
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "Observation", "Observation", "Flag"]
    patient = bundle["entry"][0]["resource"]
    assert patient["name"] == [{"text": "Sam Taylor"}]
    pains = {
        e["resource"]["bodySite"]["text"]: e["resource"]["valueInteger"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
    }
    assert pains == {"leg": 4, "back": 2}
    async with db.uow() as uow:
        try:
            await export.export(uow, "fhir", p.id + 99, NOW)
        except ValueError as exc:
            assert f"no patient with ID {p.id + 99}" in str(exc)
        else:
            raise AssertionError("an unknown patient must be refused")

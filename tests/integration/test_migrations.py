"""This session's migrations carry existing data across, and can be undone."""

from __future__ import annotations

import asyncio
from datetime import date

from alembic import command

from storage.migrate import alembic_config, upgrade
from tests.support import Db, fresh_database_url


async def test_clinic_trust_and_weekly_summary_migrations_keep_existing_patients(backend, tmp_path):
    url = await fresh_database_url(backend, tmp_path)
    await asyncio.to_thread(upgrade, url, "0006")
    db = Db(url)
    try:
        await db.execute(
            "INSERT INTO patients (id, telegram_user_id, chat_id, name, status, consented_at,"
            " checkin_time, timezone, enrolled_on, unreachable, exercise_times,"
            " exercise_times_chosen, created_at) VALUES (1, 501, 501, 'Sam', 'active',"
            " '2026-11-01 09:00:00+00', '08:30', 'Europe/Madrid', '2026-11-01', false, '',"
            " false, '2026-11-01 09:00:00+00')"
        )
        for day in (date(2026, 11, 2), date(2026, 11, 3)):
            await db.execute(
                "INSERT INTO checkin_entries (patient_id, local_day, leg_pain, back_pain,"
                " numbness, weakness, weakness_worsening, red_flag, exercises, created_at,"
                " updated_at) VALUES (1, :d, 4, 2, false, false, false, false, 'yes',"
                " '2026-11-02 09:00:00+00', '2026-11-02 09:00:00+00')",
                d=day,
            )
        await asyncio.to_thread(upgrade, url)
        assert await db.scalar("SELECT weekly_day FROM patients") == 6
        row = (await db.rows("SELECT kind, local_time FROM reminders"))[0]
        assert (row["kind"], row["local_time"]) == ("weekly", "08:30")
        # A day may now hold two check-ins.
        await db.execute(
            "INSERT INTO checkin_entries (patient_id, local_day, leg_pain, back_pain, numbness,"
            " weakness, weakness_worsening, red_flag, exercises, created_at, updated_at) VALUES"
            " (1, '2026-11-03', 7, 2, false, false, false, NULL, NULL,"
            " '2026-11-03 20:00:00+00', '2026-11-03 20:00:00+00')"
        )
        # Undone: the later check-in of the day is the one kept, and nothing is lost besides.
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0006")
        rows = await db.rows("SELECT local_day, leg_pain FROM checkin_entries ORDER BY id")
        assert [r["leg_pain"] for r in rows] == [4, 7]
        assert await db.scalar("SELECT count(*) FROM reminders") == 0
    finally:
        await db.close()

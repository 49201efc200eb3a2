"""weekly summary

When each patient gets their weekly summary: a local weekday (0 Monday .. 6 Sunday, default
Sunday; NULL: off) and a time (NULL: their check-in time).

Revision ID: 0009
Revises: 0008
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("weekly_day", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("weekly_time", sa.String(5), nullable=True))
    op.execute("UPDATE patients SET weekly_day = 6")
    # Active patients get the daily row that queues the summary on their weekday, first due at
    # their next check-in time (later settings changes recompute it with bot.rules.schedule).
    conn = op.get_bind()
    now = datetime.now(UTC)
    rows = conn.execute(
        sa.text("SELECT id, checkin_time, timezone FROM patients WHERE status = 'active'")
    ).all()
    for patient_id, hhmm, tz in rows:
        zone = ZoneInfo(tz)
        local = now.astimezone(zone)
        at = datetime.combine(local.date(), time.fromisoformat(hhmm), zone)
        if at <= local:
            at = datetime.combine(local.date() + timedelta(days=1), time.fromisoformat(hhmm), zone)
        next_at = at.astimezone(UTC)
        if conn.dialect.name == "sqlite":
            next_at = next_at.replace(tzinfo=None)
        conn.execute(
            sa.text(
                "INSERT INTO reminders (patient_id, kind, local_time, next_at)"
                " VALUES (:p, 'weekly', :t, :n)"
            ),
            {"p": patient_id, "t": hhmm, "n": next_at},
        )


def downgrade() -> None:
    op.execute("DELETE FROM reminders WHERE kind = 'weekly'")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("weekly_time")
        batch.drop_column("weekly_day")

"""clinic trust

- Invites belong to the first account that opens them (``claimed_by``), can be revoked when
  staff re-issue them, and carry the patient's phone number and the clinic's own reference,
  which the patient row keeps once they join.
- A day keeps every check-in: the one-entry-per-day constraint becomes an index. The red-flag
  and exercise answers may be missing: a check-in closed on the urgent path does not ask them.
- A relayed question keeps the name of the clinician who answered it, for the diary.
- An outbox row may edit a message already sent (``edit_message_id``): the copies of an alert
  are edited when it is acknowledged anywhere.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("phone", sa.String(32), nullable=True))
        batch.add_column(sa.Column("clinic_ref", sa.String(32), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("phone", sa.String(32), nullable=True))
        batch.add_column(sa.Column("clinic_ref", sa.String(32), nullable=True))
    with op.batch_alter_table("checkin_entries") as batch:
        batch.drop_constraint("uq_entry_patient_day", type_="unique")
        batch.alter_column("red_flag", existing_type=sa.Boolean(), nullable=True)
        batch.alter_column("exercises", existing_type=sa.String(8), nullable=True)
    op.create_index(
        "ix_checkin_entries_patient_day", "checkin_entries", ["patient_id", "local_day"]
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("edit_message_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("relayed_questions") as batch:
        batch.add_column(sa.Column("answered_by_name", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("relayed_questions") as batch:
        batch.drop_column("answered_by_name")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("edit_message_id")
    op.drop_index("ix_checkin_entries_patient_day", table_name="checkin_entries")
    # Keep the latest check-in of each day, as the diary did before.
    op.execute(
        "DELETE FROM checkin_entries WHERE id NOT IN "
        "(SELECT MAX(id) FROM checkin_entries GROUP BY patient_id, local_day)"
    )
    op.execute("UPDATE checkin_entries SET red_flag = false WHERE red_flag IS NULL")
    op.execute("UPDATE checkin_entries SET exercises = 'no' WHERE exercises IS NULL")
    with op.batch_alter_table("checkin_entries") as batch:
        batch.alter_column("exercises", existing_type=sa.String(8), nullable=False)
        batch.alter_column("red_flag", existing_type=sa.Boolean(), nullable=False)
        batch.create_unique_constraint("uq_entry_patient_day", ["patient_id", "local_day"])
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("clinic_ref")
        batch.drop_column("phone")
    with op.batch_alter_table("invites") as batch:
        for column in ("revoked_at", "claimed_at", "claimed_by", "clinic_ref", "phone"):
            batch.drop_column(column)

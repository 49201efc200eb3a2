"""inbox and one outbox

Updates are stored in ``inbox`` before Telegram is told they arrived (replaces
``processed_updates``). Every message the bot starts goes through ``outbox`` (replaces
``pushes`` and the alerts' own delivery columns), every attempt in ``delivery_attempts``
(replaces ``alert_attempts``). Pending pushes keep their ids (reminder buttons name them);
alerts that were due to be sent become outbox rows.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox")),
    )
    op.create_index(
        "ix_inbox_pending",
        "inbox",
        ["chat_id", "update_id"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=80), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("local_day", sa.Date(), nullable=True),
        sa.Column("slot", sa.String(length=5), nullable=True),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_outbox_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["priority", "send_at"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_index("ix_outbox_patient", "outbox", ["patient_id"])
    urgent_pending = sa.text("status = 'pending' AND priority = 0")
    op.create_index(
        "ix_outbox_urgent_pending",
        "outbox",
        ["chat_id"],
        sqlite_where=urgent_pending,
        postgresql_where=urgent_pending,
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_delivery_attempts_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index(op.f("ix_delivery_attempts_outbox_id"), "delivery_attempts", ["outbox_id"])

    # Pushes keep their ids: the buttons of reminders already sent name them.
    op.execute(
        """
        INSERT INTO outbox (id, kind, priority, dedupe_key, chat_id, patient_id, due_at,
                            local_day, slot, send_at, status, attempts, detail, sent_at,
                            message_id)
        SELECT p.id, p.kind, 3, 'push:' || p.id, pa.chat_id, p.patient_id, p.due_at,
               p.local_day, p.slot, p.send_at, p.status, p.attempts, p.detail, p.sent_at,
               p.message_id
        FROM pushes p JOIN patients pa ON pa.id = p.patient_id
        """
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('outbox', 'id'), "
            "COALESCE((SELECT max(id) FROM outbox), 0) + 1, false)"
        )
    # Alerts that were due to go out (first sends, retries, re-notifications) are queued.
    # The clinic chat is not known here: 0 means "the clinic chat" to the sender.
    op.execute(
        """
        INSERT INTO outbox (kind, priority, dedupe_key, chat_id, patient_id, ref_id, send_at,
                            status, attempts)
        SELECT 'alert', CASE WHEN level = 'urgent' THEN 0 ELSE 2 END,
               'alert:' || id || '-migrated', 0, patient_id, id, next_send_at, 'pending', 0
        FROM alerts WHERE next_send_at IS NOT NULL
        """
    )
    op.drop_table("pushes")
    op.drop_table("alert_attempts")
    op.drop_table("processed_updates")
    op.drop_index("ix_alerts_due", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("next_send_at")
        batch.drop_column("claimed_until")
        batch.drop_column("attempts")
        batch.drop_column("last_error")


def downgrade() -> None:
    raise NotImplementedError("0005 moves data into new tables; restore a backup to go back")

"""prom responses

Standard outcome measures answered in the chat: the Keele STarT Back tool, the
Patient-Specific Functional Scale and the Global Rating of Change.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prom_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("instrument", sa.String(16), nullable=False),
        sa.Column("occasion", sa.String(16), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("nonce", sa.String(16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_prom_responses_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prom_responses")),
    )
    op.create_index("ix_prom_responses_patient", "prom_responses", ["patient_id", "instrument"])


def downgrade() -> None:
    op.drop_index("ix_prom_responses_patient", table_name="prom_responses")
    op.drop_table("prom_responses")

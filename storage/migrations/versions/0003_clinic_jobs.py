"""clinic jobs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 11:54:26.157030
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinic_jobs",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_clinic_jobs")),
    )


def downgrade() -> None:
    op.drop_table("clinic_jobs")

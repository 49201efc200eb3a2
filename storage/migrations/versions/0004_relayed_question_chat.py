"""relayed question chat

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 12:10:18.431670
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("relayed_questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_chat_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("relayed_questions", schema=None) as batch_op:
        batch_op.drop_column("staff_chat_id")

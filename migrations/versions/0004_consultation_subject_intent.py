"""consultation subject and intent (conversation context)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("intent", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_consultations_chat_created", ["chat_id", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_index("ix_consultations_chat_created")
        batch_op.drop_column("intent")
        batch_op.drop_column("subject")

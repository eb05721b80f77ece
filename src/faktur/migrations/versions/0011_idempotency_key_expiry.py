"""idempotency keys: an index to purge expired keys oldest first per organisation

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_idempotency_keys_org_created", "idempotency_keys", ["organisation_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_org_created", table_name="idempotency_keys")

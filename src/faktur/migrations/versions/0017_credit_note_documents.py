"""stored documents of issued credit notes (PDF, Factur-X, UBL, CII per profile, with their SHA-256)

Keyed like credit notes, (organisation_id, id), and referring to its credit note by both.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import faktur.models.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_note_documents",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", faktur.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("credit_note_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("profile", sa.String(20), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(50), nullable=False),
        sa.PrimaryKeyConstraint("organisation_id", "id", name="pk_credit_note_documents"),
        sa.ForeignKeyConstraint(
            ["organisation_id", "credit_note_id"],
            ["credit_notes.organisation_id", "credit_notes.id"],
            name="fk_credit_note_documents_organisation_id_credit_notes",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "uq_credit_note_documents_org_credit_note_kind_profile",
        "credit_note_documents",
        ["organisation_id", "credit_note_id", "kind", "profile"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_credit_note_documents_org_credit_note_kind_profile", table_name="credit_note_documents")
    op.drop_table("credit_note_documents")

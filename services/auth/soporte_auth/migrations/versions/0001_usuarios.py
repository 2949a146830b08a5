"""usuarios: accounts and their roles

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE usuarios (
            usuario       text PRIMARY KEY,
            nombre        text NOT NULL,
            rol           text NOT NULL CHECK (rol IN ('admin', 'user')),
            password_hash text NOT NULL,
            creado        timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE usuarios")

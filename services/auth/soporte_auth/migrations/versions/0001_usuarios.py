"""usuarios: accounts and their roles"""

from alembic import op

revision = "0001"
down_revision = None


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

"""sitios and visitantes: the website widget's sites and its visitors

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # A site: the company's origins that may frame the widget, and the secret its backend
    # signs visitors' identities with, sealed (AES-GCM, a key derived from the JWT secret:
    # soporte_auth.secretbox). The previous secret keeps verifying for a day after a
    # rotation (identities live at most 24 h).
    op.execute(
        """
        CREATE TABLE sitios (
            sitio            text PRIMARY KEY,
            nombre           text NOT NULL,
            origenes         text[] NOT NULL,
            secreto          text NOT NULL,
            secreto_anterior text,
            rotado           timestamptz,
            creado           timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    # A visitor is a customer account (`usuarios`, rol user) created by the widget: an
    # anonymous one holds a long-lived credential (only its SHA-256 is kept); a verified
    # one is the site's user `sub`, one account per (site, sub) on every device. Sites
    # may be deleted: their visitors and conversations stay.
    op.execute(
        """
        CREATE TABLE visitantes (
            usuario    text PRIMARY KEY REFERENCES usuarios (usuario) ON DELETE CASCADE,
            sitio      text NOT NULL,
            sub        text,
            email      text,
            credencial bytea UNIQUE,
            creado     timestamptz NOT NULL DEFAULT now(),
            UNIQUE (sitio, sub),
            CHECK ((sub IS NULL) <> (credencial IS NULL))
        )
        """
    )
    op.execute("CREATE INDEX visitantes_sitio ON visitantes (sitio)")


def downgrade() -> None:
    op.execute("DROP TABLE visitantes")
    op.execute("DROP TABLE sitios")

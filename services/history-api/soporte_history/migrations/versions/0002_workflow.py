"""The agents' workflow: every entry type in mensajes, conversation state, support cycles,
canned replies, full-text search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Search ignores case and accents ("envio" finds "envío"): the simple parser's words,
    # unaccented, lower-cased, no stemming (an agent finds exactly the words typed).
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE TEXT SEARCH CONFIGURATION soporte_busqueda (COPY = pg_catalog.simple)")
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION soporte_busqueda "
        "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple"
    )
    # Every entry of a conversation's log is a row: `tipo` says which; a note has no
    # recipient, a status change or assignment no text (its fields are in `datos`), an
    # automatic one no author. `busqueda` is maintained by Postgres in the inserting
    # transaction (a generated column), so search never lags what is stored.
    op.execute(
        """
        ALTER TABLE mensajes
            ADD COLUMN tipo text NOT NULL DEFAULT 'mensaje',
            ADD COLUMN datos jsonb,
            ALTER COLUMN de_usuario DROP NOT NULL,
            ALTER COLUMN para_usuario DROP NOT NULL,
            ALTER COLUMN mensaje DROP NOT NULL,
            ADD COLUMN busqueda tsvector GENERATED ALWAYS AS
                (to_tsvector('soporte_busqueda'::regconfig, coalesce(mensaje, ''))) STORED
        """
    )
    op.execute("CREATE INDEX mensajes_busqueda ON mensajes USING gin (busqueda)")
    # The conversation's state, as its newest status and assignment entries left it (the
    # ids make the projection indifferent to the order batches commit in). A conversation
    # can have state before any message (a note or an assignment first): no summary yet.
    op.execute(
        """
        ALTER TABLE conversaciones
            ALTER COLUMN ultimo_id DROP NOT NULL,
            ALTER COLUMN ultimo_de DROP NOT NULL,
            ALTER COLUMN ultimo_mensaje DROP NOT NULL,
            ALTER COLUMN ultima_fecha DROP NOT NULL,
            ADD COLUMN estado text NOT NULL DEFAULT 'abierta',
            ADD COLUMN estado_id bigint,
            ADD COLUMN estado_por text,
            ADD COLUMN pospuesta_hasta timestamptz,
            ADD COLUMN asignado text,
            ADD COLUMN asignado_id bigint
        """
    )
    # Part one had no statuses: whoever wrote last says what the conversation waits for.
    op.execute(
        "UPDATE conversaciones SET estado = CASE WHEN ultimo_de = usuario "
        "THEN 'abierta' ELSE 'pendiente' END"
    )
    op.execute("CREATE INDEX conversaciones_estado ON conversaciones (estado, ultimo_id DESC)")
    op.execute("CREATE INDEX conversaciones_asignado ON conversaciones (asignado, ultimo_id DESC)")
    # Support cycles (first response and resolution times), keyed by the entry that opened
    # each; the other two ids are the entries that answered and closed it.
    op.execute(
        """
        CREATE TABLE ciclos (
            conversacion   text NOT NULL,
            inicio_id      bigint NOT NULL,
            respuesta_id   bigint,
            respondido_por text,
            resuelto_id    bigint,
            resuelto_por   text,
            PRIMARY KEY (conversacion, inicio_id)
        )
        """
    )
    op.execute("CREATE INDEX ciclos_inicio ON ciclos (inicio_id)")
    op.execute("CREATE INDEX ciclos_respuesta ON ciclos (respuesta_id)")
    op.execute("CREATE INDEX ciclos_resuelto ON ciclos (resuelto_id)")
    # The team's canned replies; a shortcut names one reply, whatever its case.
    op.execute(
        """
        CREATE TABLE respuestas (
            id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            atajo  text NOT NULL,
            texto  text NOT NULL,
            autor  text NOT NULL,
            creado timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX respuestas_atajo ON respuestas (lower(atajo))")


def downgrade() -> None:
    op.execute("DROP TABLE respuestas")
    op.execute("DROP TABLE ciclos")
    op.execute("DELETE FROM mensajes WHERE tipo <> 'mensaje'")
    op.execute("DELETE FROM conversaciones WHERE ultimo_id IS NULL")
    op.execute(
        """
        ALTER TABLE conversaciones
            DROP COLUMN estado, DROP COLUMN estado_id, DROP COLUMN estado_por,
            DROP COLUMN pospuesta_hasta, DROP COLUMN asignado, DROP COLUMN asignado_id,
            ALTER COLUMN ultimo_id SET NOT NULL, ALTER COLUMN ultimo_de SET NOT NULL,
            ALTER COLUMN ultimo_mensaje SET NOT NULL, ALTER COLUMN ultima_fecha SET NOT NULL
        """
    )
    op.execute(
        """
        ALTER TABLE mensajes
            DROP COLUMN busqueda, DROP COLUMN datos, DROP COLUMN tipo,
            ALTER COLUMN de_usuario SET NOT NULL, ALTER COLUMN para_usuario SET NOT NULL,
            ALTER COLUMN mensaje SET NOT NULL
        """
    )
    op.execute("DROP TEXT SEARCH CONFIGURATION soporte_busqueda")

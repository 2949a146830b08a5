"""mensajes, conversaciones, lecturas"""

from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    # id: the Redis stream entry id folded into a bigint (soporte_common.messages), so the
    # consumer can insert idempotently and ORDER BY id is the order messages were accepted.
    op.execute(
        """
        CREATE TABLE mensajes (
            id           bigint PRIMARY KEY,
            conversacion text NOT NULL,
            de_usuario   text NOT NULL,
            para_usuario text NOT NULL,
            mensaje      text NOT NULL,
            fecha        timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    # One conversation's pages (keyset on id) and its unread count (index-only).
    op.execute(
        "CREATE INDEX mensajes_conversacion_id ON mensajes (conversacion, id) INCLUDE (de_usuario)"
    )
    # The agents' list: one row per customer, kept current by the consumer.
    op.execute(
        """
        CREATE TABLE conversaciones (
            usuario        text PRIMARY KEY,
            nombre         text,
            ultimo_id      bigint NOT NULL,
            ultimo_de      text NOT NULL,
            ultimo_mensaje text NOT NULL,
            ultima_fecha   timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX conversaciones_ultimo_id ON conversaciones (ultimo_id DESC)")
    # How far each reader has read each conversation.
    op.execute(
        """
        CREATE TABLE lecturas (
            lector       text NOT NULL,
            conversacion text NOT NULL,
            hasta        bigint NOT NULL,
            PRIMARY KEY (lector, conversacion)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE lecturas")
    op.execute("DROP TABLE conversaciones")
    op.execute("DROP TABLE mensajes")

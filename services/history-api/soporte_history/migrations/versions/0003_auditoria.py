"""The audit trail: an append-only table (a trigger refuses UPDATE, DELETE and TRUNCATE)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per entry of either source (soporte_history.audit_log): the audit stream or
    # the conversation log; (fuente, entrada) stores each once however often it is read.
    # `agente` null: no agent acted (retention, an operator's command). `detalles` never
    # holds what anybody wrote, so an erasure leaves the trail as it is.
    op.execute(
        """
        CREATE TABLE auditoria (
            id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            fuente   text NOT NULL,
            entrada  bigint NOT NULL,
            fecha    timestamptz NOT NULL,
            agente   text,
            accion   text NOT NULL,
            objetivo text NOT NULL,
            detalles jsonb NOT NULL DEFAULT '{}',
            UNIQUE (fuente, entrada)
        )
        """
    )
    # Newest first, whole or by agent or by target (pages: `(fecha, id) <` the last one).
    op.execute("CREATE INDEX auditoria_fecha ON auditoria (fecha DESC, id DESC)")
    op.execute("CREATE INDEX auditoria_agente ON auditoria (agente, fecha DESC, id DESC)")
    op.execute("CREATE INDEX auditoria_objetivo ON auditoria (objetivo, fecha DESC, id DESC)")
    # Append-only, whoever connects: a row is never changed or removed, the table never
    # emptied. (Dropping the trigger takes the table's owner: docs/operations.md, "Audit".)
    op.execute(
        """
        CREATE FUNCTION auditoria_solo_anadir() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'auditoria is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER auditoria_sin_cambios BEFORE UPDATE OR DELETE ON auditoria "
        "FOR EACH ROW EXECUTE FUNCTION auditoria_solo_anadir()"
    )
    op.execute(
        "CREATE TRIGGER auditoria_sin_vaciar BEFORE TRUNCATE ON auditoria "
        "FOR EACH STATEMENT EXECUTE FUNCTION auditoria_solo_anadir()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE auditoria")
    op.execute("DROP FUNCTION auditoria_solo_anadir()")

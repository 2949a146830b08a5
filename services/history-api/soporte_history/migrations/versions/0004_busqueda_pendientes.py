"""The search index takes new messages in small steps: a 256 kB pending list

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A GIN index collects new entries in a pending list and merges it into the index when
    # it passes gin_pending_list_limit (4 MB by default), inside the insert that passed it:
    # at a few thousand messages a second that is ~200 ms of one core every few seconds,
    # which on a shared host stalls the live path (docs/performance.md, "The search
    # index's merges"). At 256 kB the same work comes in steps sixteen times smaller.
    op.execute("ALTER INDEX mensajes_busqueda SET (gin_pending_list_limit = 256)")


def downgrade() -> None:
    op.execute("ALTER INDEX mensajes_busqueda RESET (gin_pending_list_limit)")

from alembic import context

from soporte_common.database import run_migrations_online

run_migrations_online(context.config)

"""Postgres for the services that own tables: the asyncpg pool and alembic migrations.

Each service keeps its own migration history (its own `alembic_version_<service>` table)
for the tables it owns, in one shared database; a service's `migrate` command runs it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config

from soporte_common.settings import DatabaseSettings


def sqlalchemy_url(database_url: str) -> str:
    """alembic talks through SQLAlchemy's asyncpg dialect; the services use asyncpg directly."""
    scheme, sep, rest = database_url.partition("://")
    if not sep or not scheme.startswith("postgres"):
        raise ValueError("SOPORTE_DATABASE_URL must be a postgresql:// URL")
    return f"postgresql+asyncpg://{rest}"


def alembic_config(migrations_dir: Path, database_url: str, version_table: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    config.attributes["version_table"] = version_table
    return config


def upgrade(migrations_dir: Path, database_url: str, version_table: str) -> None:
    command.upgrade(alembic_config(migrations_dir, database_url, version_table), "head")


def run_migrations_online(config: Config) -> None:
    """The body of every service's alembic `env.py`: migrate over one async connection."""
    from alembic import context  # only importable while alembic runs env.py

    def do_run(connection: object) -> None:
        context.configure(
            connection=connection,  # type: ignore[arg-type]
            version_table=config.attributes["version_table"],
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = async_engine_from_config(
            config.get_section(config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run())


# Postgres away or stalled: the request can be retried (the HTTP services answer 503).
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)
# A value Postgres refuses to store or compare (NUL in a string): the request's fault (400).
BAD_INPUT_ERRORS: tuple[type[Exception], ...] = (asyncpg.DataError,)


async def _skip_session_reset(conn: asyncpg.Connection) -> None:
    """A connection going back to the pool needs no session reset: the services keep no
    session state (no SET, LISTEN, session advisory locks or open cursors), and asyncpg
    still rolls back an unfinished transaction first. The default reset is one more
    round trip, four statements, per release: per request and per stored batch."""


async def create_pool(
    database_url: str,
    *,
    size: int,
    command_timeout: float = 30,
    connect_timeout: float = 60,
) -> asyncpg.Pool:
    """`command_timeout` bounds each query, `connect_timeout` each new connection: a
    stalled Postgres becomes a TimeoutError instead of a request that hangs."""
    pool_: asyncpg.Pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=size,
        command_timeout=command_timeout,
        timeout=connect_timeout,
        reset=_skip_session_reset,
    )
    return pool_


@dataclass(frozen=True)
class Migrations:
    """A service's alembic migrations, with their own version table in the shared database."""

    directory: Path
    version_table: str

    def upgrade(self, settings: DatabaseSettings) -> None:
        upgrade(self.directory, settings.database_url.get_secret_value(), self.version_table)

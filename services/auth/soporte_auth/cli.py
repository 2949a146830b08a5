"""`soporte-auth`: serve the API, migrate its tables, add an agent account."""

from __future__ import annotations

import asyncio
import functools
import getpass
import os
import sys
from pathlib import Path

from soporte_auth.app import create_app
from soporte_auth.settings import AuthSettings
from soporte_auth.users import UserStore
from soporte_common import database
from soporte_common.cli import ServiceCli
from soporte_common.database import Migrations
from soporte_common.redis_client import connect_redis
from soporte_common.serving import serve
from soporte_common.text import clean_display_name, is_valid_username

MIGRATIONS = Migrations(Path(__file__).parent / "migrations", "alembic_version_auth")
CLI = ServiceCli(
    "soporte-auth",
    "auth",
    AuthSettings,
    __doc__,
    serve_help="serve the auth API",
    default_port=8082,
    migrations=MIGRATIONS,
)
_create_admin_command = CLI.commands.add_parser(
    "create-admin",
    help="add an agent account (password from SOPORTE_NEW_ADMIN_PASSWORD or a prompt)",
)
_create_admin_command.add_argument("usuario")
_create_admin_command.add_argument(
    "--nombre", default=None, help="display name (default: the username)"
)


async def _create_admin(settings: AuthSettings, usuario: str, nombre: str, password: str) -> int:
    db = await database.create_pool(settings.database_url.get_secret_value(), size=1)
    redis = connect_redis(settings.redis_url)
    try:
        if not await UserStore(db, redis).ensure(usuario, nombre, "admin", password):
            print(f"soporte-auth: the account {usuario!r} already exists", file=sys.stderr)
            return 1
        print(f"agent account {usuario!r} created")
        return 0
    finally:
        await redis.aclose()
        await db.close()


def main(argv: list[str] | None = None) -> int:
    args, settings = CLI.start(argv)
    if args.command == "serve":
        serve(
            functools.partial(create_app, settings),
            host=settings.bind_host,
            port=args.port,
            trusted_proxies=settings.trusted_proxies,
        )
        return 0
    if args.command == "migrate":
        MIGRATIONS.upgrade(settings)
        return 0
    if not is_valid_username(args.usuario):
        CLI.parser.error("usuario: 2-32 characters of a-z 0-9 . _ - (starting with a letter/digit)")
    nombre = clean_display_name(args.nombre or args.usuario)
    password = os.environ.get("SOPORTE_NEW_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    if len(password) < 8:
        CLI.parser.error("the password needs at least 8 characters")
    return asyncio.run(_create_admin(settings, args.usuario, nombre, password))


if __name__ == "__main__":
    sys.exit(main())

"""`soporte-auth`: serve the API, migrate its tables, add an agent account, manage the
website widget's sites (each site command prints JSON, one line per site)."""

from __future__ import annotations

import argparse
import asyncio
import functools
import getpass
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from soporte_auth.app import create_app
from soporte_auth.settings import AuthSettings
from soporte_auth.sites import SiteStore
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
_create_site_command = CLI.commands.add_parser(
    "create-site",
    help='add a website widget site; prints {"site": KEY, "identity_secret": SECRET}',
)
_create_site_command.add_argument(
    "--origin",
    action="append",
    required=True,
    help="an origin whose pages may show the widget, e.g. https://shop.example.com (repeat)",
)
_create_site_command.add_argument(
    "--nombre", default=None, help="the name agents see (default: the first origin's host)"
)
CLI.commands.add_parser("list-sites", help="the sites, one JSON line each (never their secrets)")
_delete_site_command = CLI.commands.add_parser(
    "delete-site", help="remove a site: its widget stops loading (its conversations stay)"
)
_SITE_KEY_HELP = "the site's key (one that begins with '-' goes after '--')"
_delete_site_command.add_argument("site", help=_SITE_KEY_HELP)
_rotate_command = CLI.commands.add_parser(
    "rotate-site-secret",
    help="a new identity secret for a site (the previous one verifies for 24 h more)",
)
_rotate_command.add_argument("site", help=_SITE_KEY_HELP)


@asynccontextmanager
async def _site_store(settings: AuthSettings) -> AsyncIterator[SiteStore]:
    db = await database.create_pool(settings.database_url.get_secret_value(), size=1)
    redis = connect_redis(settings.redis_url)
    try:
        yield SiteStore(db, redis, settings.secret_box())
    finally:
        await redis.aclose()
        await db.close()


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False), flush=True)


async def _create_site(sites: SiteStore, args: argparse.Namespace) -> int:
    try:
        key, secret = await sites.create(args.origin, args.nombre)
    except ValueError as exc:
        print(f"soporte-auth: {exc}", file=sys.stderr)
        return 2
    _print_json({"site": key, "identity_secret": secret})
    return 0


async def _list_sites(sites: SiteStore, _: argparse.Namespace) -> int:
    for site in await sites.all():
        _print_json(
            {
                "site": site.sitio,
                "nombre": site.nombre,
                "origins": site.origenes,
                "created": site.creado.isoformat(),
            }
        )
    return 0


async def _delete_site(sites: SiteStore, args: argparse.Namespace) -> int:
    if not await sites.delete(args.site):
        print(f"soporte-auth: there is no site {args.site!r}", file=sys.stderr)
        return 1
    _print_json({"site": args.site, "deleted": True})
    return 0


async def _rotate_site_secret(sites: SiteStore, args: argparse.Namespace) -> int:
    secret = await sites.rotate(args.site)
    if secret is None:
        print(f"soporte-auth: there is no site {args.site!r}", file=sys.stderr)
        return 1
    _print_json({"site": args.site, "identity_secret": secret})
    return 0


SiteCommand = Callable[[SiteStore, argparse.Namespace], Awaitable[int]]
SITE_COMMANDS: dict[str, SiteCommand] = {
    "create-site": _create_site,
    "list-sites": _list_sites,
    "delete-site": _delete_site,
    "rotate-site-secret": _rotate_site_secret,
}


async def _run_site_command(settings: AuthSettings, args: argparse.Namespace) -> int:
    async with _site_store(settings) as sites:
        return await SITE_COMMANDS[args.command](sites, args)


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
    if args.command in SITE_COMMANDS:
        # stdout carries the command's JSON and nothing else: the log goes to stderr.
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sys.stderr)
        return asyncio.run(_run_site_command(settings, args))
    if not is_valid_username(args.usuario):
        CLI.parser.error("usuario: 2-32 characters of a-z 0-9 . _ - (starting with a letter/digit)")
    nombre = clean_display_name(args.nombre or args.usuario)
    password = os.environ.get("SOPORTE_NEW_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    if len(password) < 8:
        CLI.parser.error("the password needs at least 8 characters")
    return asyncio.run(_create_admin(settings, args.usuario, nombre, password))


if __name__ == "__main__":
    sys.exit(main())

"""`soporte-history`: serve the API (and run the consumer), or migrate its tables."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from soporte_common.cli import ServiceCli
from soporte_common.database import Migrations
from soporte_common.serving import serve
from soporte_history.app import create_app
from soporte_history.settings import HistorySettings

MIGRATIONS = Migrations(Path(__file__).parent / "migrations", "alembic_version_history")
CLI = ServiceCli(
    "soporte-history",
    "history-api",
    HistorySettings,
    __doc__,
    serve_help="serve the history API and consume the stream",
    default_port=8083,
    migrations=MIGRATIONS,
)


def main(argv: list[str] | None = None) -> int:
    args, settings = CLI.start(argv)
    if args.command == "serve":
        app = functools.partial(create_app, settings, port=args.port)
        serve(
            app, host=settings.bind_host, port=args.port, trusted_proxies=settings.trusted_proxies
        )
    else:
        MIGRATIONS.upgrade(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())

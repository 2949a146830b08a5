"""`soporte-history`: serve the API (and run the consumer), or migrate its tables."""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from soporte_common import database
from soporte_common.logging import configure_logging
from soporte_common.serving import serve
from soporte_history.app import create_app
from soporte_history.settings import HistorySettings

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_history"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soporte-history", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve_cmd = sub.add_parser("serve", help="serve the history API and consume the stream")
    serve_cmd.add_argument("--port", type=int, default=8083)
    sub.add_parser("migrate", help="bring the history tables to the latest schema")
    args = parser.parse_args(argv)

    settings = HistorySettings()
    configure_logging("history-api", level=settings.log_level, fmt=settings.log_format)
    if args.command == "serve":
        serve(
            functools.partial(create_app, settings, port=args.port),
            host=settings.bind_host,
            port=args.port,
            trusted_proxies=settings.trusted_proxies,
        )
    else:
        database.upgrade(MIGRATIONS, settings.database_url.get_secret_value(), VERSION_TABLE)
    return 0


if __name__ == "__main__":
    sys.exit(main())

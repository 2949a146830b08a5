"""`soporte-frontend serve --port N`: serve the pages."""

from __future__ import annotations

import argparse
import functools
import sys

from soporte_common.logging import configure_logging
from soporte_common.serving import serve
from soporte_common.settings import HttpSettings
from soporte_frontend.app import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soporte-frontend", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve_cmd = sub.add_parser("serve", help="serve the pages")
    serve_cmd.add_argument("--port", type=int, default=8084)
    args = parser.parse_args(argv)
    settings = HttpSettings()
    configure_logging("frontend", level=settings.log_level, fmt=settings.log_format)
    serve(
        functools.partial(create_app, settings),
        host=settings.bind_host,
        port=args.port,
        trusted_proxies=settings.trusted_proxies,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

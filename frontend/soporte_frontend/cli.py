"""`soporte-frontend serve --port N`: serve the pages."""

from __future__ import annotations

import sys

from soporte_common.cli import ServiceCli
from soporte_common.serving import serve
from soporte_common.settings import SoporteSettings
from soporte_frontend.app import create_app

CLI = ServiceCli(
    "soporte-frontend",
    "frontend",
    SoporteSettings,
    __doc__,
    serve_help="serve the pages",
    default_port=8084,
)


def main(argv: list[str] | None = None) -> int:
    args, settings = CLI.start(argv)
    serve(create_app, host=settings.bind_host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())

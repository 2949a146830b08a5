"""`soporte-frontend serve --port N`: serve the pages."""

from __future__ import annotations

import functools
import sys

from soporte_common.cli import ServiceCli
from soporte_common.serving import serve
from soporte_frontend.app import create_app
from soporte_frontend.settings import FrontendSettings

CLI = ServiceCli(
    "soporte-frontend",
    "frontend",
    FrontendSettings,
    __doc__,
    serve_help="serve the pages",
    default_port=8084,
)


def main(argv: list[str] | None = None) -> int:
    args, settings = CLI.start(argv)
    app = functools.partial(create_app, settings)
    serve(app, host=settings.bind_host, port=args.port, trusted_proxies=settings.trusted_proxies)
    return 0


if __name__ == "__main__":
    sys.exit(main())

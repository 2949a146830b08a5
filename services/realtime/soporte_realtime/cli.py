"""`soporte-realtime serve --port N`: one realtime replica."""

from __future__ import annotations

import socket
import sys

import uvloop
from aiohttp import web

from soporte_common.cli import ServiceCli
from soporte_realtime.app import create_app
from soporte_realtime.settings import RealtimeSettings

CLI = ServiceCli(
    "soporte-realtime",
    "realtime",
    RealtimeSettings,
    __doc__,
    serve_help="serve Socket.IO on /socket.io/",
    default_port=8091,
)


def main(argv: list[str] | None = None) -> int:
    args, settings = CLI.start(argv)
    web.run_app(
        create_app(settings, replica=f"{socket.gethostname()}:{args.port}"),
        host=settings.bind_host,
        port=args.port,
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
        shutdown_timeout=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

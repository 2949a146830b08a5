"""Preparing the local Postgres: its data directory, and an unprivileged user when the
launcher runs as root (Postgres refuses to run as root)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import asyncpg

from soporte_stack.config import StackConfig, postgres_bin_dir

SERVICE_USER = "soporte"


def postgres_user() -> str | None:
    """None when not root (Postgres then runs as the current user)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        nologin = shutil.which("nologin") or "/bin/false"
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", nologin, SERVICE_USER],
            check=True,
        )
    return SERVICE_USER


def _run_as(user: str | None, args: list[str]) -> None:
    """Run a command as `user` completely (uid, gid and groups), or as ourselves."""
    if user is None:
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        return
    entry = pwd.getpwnam(user)
    subprocess.run(
        args,
        check=True,
        stdout=subprocess.DEVNULL,
        user=entry.pw_uid,
        group=entry.pw_gid,
        extra_groups=[],
    )


def _grant_traverse(path: Path) -> None:
    """Let the unprivileged user reach `path` (x on every ancestor, as `ls -ld` shows)."""
    for ancestor in [path, *path.parents]:
        mode = ancestor.stat().st_mode
        if not mode & 0o001:
            os.chmod(ancestor, mode | 0o001)


def prepare(config: StackConfig, user: str | None) -> bool:
    """Create the cluster on first start; returns True if it was created now."""
    data = config.data / "postgres"
    sockets = config.run_dir / "postgres"
    sockets.mkdir(parents=True, exist_ok=True)
    created = False
    if user:
        for path in (postgres_bin_dir(), config.data):
            _grant_traverse(path)
        shutil.chown(sockets, user)
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        data.chmod(0o700)
        if user:
            shutil.chown(data, user)
        _run_as(
            user,
            [
                str(postgres_bin_dir() / "initdb"),
                "-D",
                str(data),
                "-U",
                "soporte",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
        )
        created = True
    return created


async def ensure_database(config: StackConfig, name: str = "soporte") -> None:
    conn = await asyncpg.connect(config.database_url("postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()

"""`soporte-stack`: run the whole stack locally (what `make run` calls).

soporte-stack run                 Valkey, Postgres, every service, Traefik; Ctrl-C stops all
soporte-stack run --infra-only    just Valkey and a migrated Postgres (integration tests)
soporte-stack ctl status          supervisorctl for the running stack (stop/start/restart X)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from soporte_auth.settings import AuthSettings
from soporte_stack import demo_shop, postgres
from soporte_stack.config import StackConfig, StartError, run_script, venv_bin
from soporte_stack.ready import StackInfo, ready_file
from soporte_stack.supervisor import (
    GATEWAY,
    INFRA,
    REALTIME,
    SERVICES,
    log_path,
    programs,
    supervisorctl,
    write_configs,
)


def step(text: str) -> Callable[[], None]:
    start = time.monotonic()
    print(f"▸ {text}…", end="", flush=True)

    def done() -> None:
        print(f" ok ({time.monotonic() - start:.1f} s)", flush=True)

    return done


# How long each service may take to answer /readyz after it is started: a cold start on a
# busy machine (imports, migrations checked, Redis and Postgres reached) can take a minute.
SERVICE_START_SECONDS = 120


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(check: Callable[[], bool], what: str, timeout: float, log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.1)
    hint = f"; its log: {log}" if log else ""
    raise StartError(f"{what} did not come up within {timeout:.0f} s{hint}")


def http_ok(url: str, expect: int = 200) -> Callable[[], bool]:
    return lambda: httpx.get(url, timeout=1).status_code == expect


def ctl(config: StackConfig, *args: str) -> None:
    result = subprocess.run(
        supervisorctl(config.supervisor_conf, *args), capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or "ERROR" in result.stdout:
        raise StartError(
            f"supervisorctl {' '.join(args)} failed: {result.stdout.strip()} "
            f"(logs in {config.log_dir})"
        )


def migrate(config: StackConfig, env: dict[str, str]) -> None:
    for command in ("soporte-auth", "soporte-history"):
        result = run_script(command, "migrate", env=env)
        if result.returncode != 0:
            raise StartError(f"{command} migrate failed:\n{result.stdout}{result.stderr}")


def start(config: StackConfig, env: dict[str, str], *, infra_only: bool) -> None:
    done = step("starting Valkey and Postgres")
    ctl(config, "start", f"{INFRA}:*")
    wait_until(lambda: port_open(config.redis_port), "Valkey", 30, log_path(config, "redis"))
    wait_until(
        lambda: port_open(config.postgres_port), "Postgres", 60, log_path(config, "postgres")
    )
    asyncio.run(postgres.ensure_database(config))
    done()
    done = step("migrating the database")
    migrate(config, env)
    done()
    if infra_only:
        return
    replicas = len(config.realtime_ports)
    done = step(f"starting auth, history-api, frontend and {replicas} realtime replicas")
    ctl(config, "start", f"{SERVICES}:*", f"{REALTIME}:*")
    checks = {
        "auth": config.auth_port,
        "history-api": config.history_port,
        "frontend": config.frontend_port,
    } | {f"realtime-{i}": port for i, port in enumerate(config.realtime_ports, start=1)}
    for name, port in checks.items():
        readiness = f"http://127.0.0.1:{port}/readyz"
        wait_until(http_ok(readiness), name, SERVICE_START_SECONDS, log_path(config, name))
    done()
    done = step("starting the Traefik gateway")
    ctl(config, "start", f"{GATEWAY}:*")
    base = f"http://127.0.0.1:{config.port}"
    wait_until(
        http_ok(f"{base}/api/auth/me", expect=401),
        "the gateway's route to auth",
        30,
        log_path(config, "traefik-1"),
    )
    wait_until(
        http_ok(f"{base}/socket.io/?EIO=4&transport=polling"),
        "the gateway's route to realtime",
        30,
        log_path(config, "traefik-1"),
    )
    done()


def open_demo_shop(config: StackConfig, env: dict[str, str]) -> None:
    """After the stack is ready (tests do not wait for it): the demo is a convenience, so
    a failure is said and the stack runs on."""
    done = step("opening the demo shop")
    try:
        demo_shop.serve(config, demo_shop.ensure_site(config, env))
    except (StartError, OSError) as exc:
        print(f"\nsoporte-stack: no demo shop: {exc}", file=sys.stderr, flush=True)
        return
    done()


def banner(config: StackConfig) -> str:
    # The accounts auth creates on its first start, read the way auth reads them.
    auth = AuthSettings()
    admin, admin_password = auth.admin_user, auth.admin_password.get_secret_value()
    demo, demo_password = auth.demo_user, auth.demo_password.get_secret_value()
    return f"""
Soporte is running at {config.public_url}
  demo shop {config.demo_shop_url}   (a company's page on another site, with the widget)
  agent     {admin} / {admin_password}
  customer  {demo} / {demo_password}   (or register a new one on the login page)
  data      {config.data}   logs  {config.log_dir}
  Ctrl-C stops everything; `make run` again finds the data again.
"""


def run(config: StackConfig, *, infra_only: bool) -> int:
    if config.env != "local":
        print(
            "soporte-stack runs the local stack only; for production use "
            "deploy/docker-compose.yml (docs/operations.md)",
            file=sys.stderr,
        )
        return 2
    if port_open(config.port if not infra_only else config.redis_port):
        print(
            f"port {config.port} is taken: is a stack already running? (or set SOPORTE_PORT)",
            file=sys.stderr,
        )
        return 2
    for sub in ("redis", "log", "run"):
        (config.data / sub).mkdir(parents=True, exist_ok=True)
    ready = ready_file(config.data)
    ready.unlink(missing_ok=True)
    user = postgres.postgres_user()
    if postgres.prepare(config, user):
        print(f"▸ created a new Postgres cluster in {config.data / 'postgres'}")
    groups = programs(config, postgres_user=user)
    if infra_only:
        groups = {INFRA: groups[INFRA]}
    write_configs(config, groups)
    env = os.environ | config.service_env()
    supervisord = subprocess.Popen(
        [str(venv_bin("supervisord")), "-c", str(config.supervisor_conf)],
        env=env,
        start_new_session=True,  # Ctrl-C reaches us; we stop supervisord in order
    )

    def stop(*_: object) -> None:
        if supervisord.poll() is None:
            print("\n▸ stopping every process…", flush=True)
            supervisord.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        wait_until(
            lambda: (config.run_dir / "supervisor.sock").exists(),
            "supervisord",
            15,
            config.log_dir / "supervisord.log",
        )
        start(config, env, infra_only=infra_only)
    except StartError as exc:
        print(f"\nsoporte-stack: {exc}", file=sys.stderr)
        stop()
        supervisord.wait(timeout=60)
        return 1
    StackInfo.of(config).write(config.data)
    if not infra_only:
        open_demo_shop(config, env)
    print(banner(config) if not infra_only else "▸ Valkey and Postgres are ready", flush=True)
    code = supervisord.wait()
    ready.unlink(missing_ok=True)
    print("▸ stopped", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="soporte-stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_cmd = sub.add_parser("run", help="run the stack in the foreground")
    run_cmd.add_argument(
        "--infra-only", action="store_true", help="only Valkey and a migrated Postgres"
    )
    ctl_cmd = sub.add_parser("ctl", help="supervisorctl for the running stack")
    ctl_cmd.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    config = StackConfig()
    if args.command == "ctl":
        return subprocess.call(supervisorctl(config.supervisor_conf, *args.args))
    return run(config, infra_only=args.infra_only)


if __name__ == "__main__":
    sys.exit(main())

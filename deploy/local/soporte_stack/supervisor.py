"""The supervisord configuration for one stack: a program per process, all started by the
launcher in dependency order (supervisord restarts any that dies)."""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from soporte_stack.config import (
    REPO_ROOT,
    StackConfig,
    postgres_bin_dir,
    valkey_server_bin,
    venv_bin,
)

INFRA = "infra"
SERVICES = "services"
REALTIME = "realtime"
GATEWAY = "gateway"


@dataclass
class Program:
    name: str
    command: list[str]
    user: str | None = None
    stopsignal: str = "TERM"
    # supervisord stops the highest priority first: gateway, realtime, services, infra.
    priority: int = 200
    environment: dict[str, str] = field(default_factory=dict)

    def render(self, config: StackConfig) -> str:
        lines = [
            f"[program:{self.name}]",
            "command=" + " ".join(shlex.quote(part) for part in self.command),
            f"directory={REPO_ROOT}",
            "autostart=false",
            f"priority={self.priority}",
            "autorestart=true",
            "startsecs=1",
            "startretries=20",
            f"stopsignal={self.stopsignal}",
            "stopwaitsecs=15",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={config.log_dir / (self.name + '.log')}",
            "stdout_logfile_maxbytes=50MB",
            "stdout_logfile_backups=2",
        ]
        if self.user:
            lines.append(f"user={self.user}")
        if self.environment:
            env = ",".join(f'{k}="{v}"' for k, v in self.environment.items())
            lines.append(f"environment={env}")
        return "\n".join(lines) + "\n"


def programs(config: StackConfig, *, postgres_user: str | None) -> dict[str, list[Program]]:
    pg_bin = postgres_bin_dir()
    infra = [
        # Valkey, the Redis-protocol store; the program keeps the role's name (the services
        # know it as SOPORTE_REDIS_URL), so its log is var/log/redis.log and its data var/redis.
        Program(
            "redis",
            [
                str(valkey_server_bin()),
                "--port",
                str(config.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(config.data / "redis"),
                # The stream is the only copy of a message until history-api stores it: log
                # every write (appendonly), fsync once a second (see docs/operations.md).
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
                "--daemonize",
                "no",
                "--logfile",
                "",
            ],
            priority=100,
        ),
        Program(
            "postgres",
            [
                str(pg_bin / "postgres"),
                "-D",
                str(config.data / "postgres"),
                "-p",
                str(config.postgres_port),
                "-k",
                str(config.run_dir / "postgres"),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=256MB",
                "-c",
                "log_min_messages=warning",
            ],
            user=postgres_user,
            stopsignal="INT",
            priority=100,
        ),
    ]
    services = [
        Program("auth", [str(venv_bin("soporte-auth")), "serve", "--port", str(config.auth_port)]),
        Program(
            "history-api",
            [str(venv_bin("soporte-history")), "serve", "--port", str(config.history_port)],
        ),
        Program(
            "frontend",
            [str(venv_bin("soporte-frontend")), "serve", "--port", str(config.frontend_port)],
        ),
    ]
    realtime = [
        Program(
            f"realtime-{i}",
            [str(venv_bin("soporte-realtime")), "serve", "--port", str(port)],
            priority=300,
        )
        for i, port in enumerate(config.realtime_ports, start=1)
    ]
    upstreams = {
        "SOPORTE_AUTH_URL": f"http://127.0.0.1:{config.auth_port}",
        "SOPORTE_HISTORY_URL": f"http://127.0.0.1:{config.history_port}",
        "SOPORTE_FRONTEND_URL": f"http://127.0.0.1:{config.frontend_port}",
        "SOPORTE_REALTIME_URLS": ",".join(f"http://127.0.0.1:{p}" for p in config.realtime_ports),
        "SOPORTE_REALTIME_AGENT_URLS": ",".join(
            f"http://127.0.0.1:{p}" for p in config.realtime_agent_ports
        ),
    }
    gateway = [
        Program(
            f"traefik-{i}",
            [str(venv_bin("traefik")), f"--configFile={traefik_config_path(config, i)}"],
            environment=upstreams | config.gateway_env(),
            priority=400,
        )
        for i in range(1, config.gateway_replicas + 1)
    ]
    return {INFRA: infra, SERVICES: services, REALTIME: realtime, GATEWAY: gateway}


def render(config: StackConfig, groups: dict[str, list[Program]]) -> str:
    run, log = config.run_dir, config.log_dir
    parts = [
        f"""; Generated by soporte-stack for {config.public_url}; edit deploy/local instead.
[unix_http_server]
file={run / "supervisor.sock"}
chmod=0700

[supervisord]
nodaemon=true
logfile={log / "supervisord.log"}
pidfile={run / "supervisord.pid"}
childlogdir={log}
silent=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{run / "supervisor.sock"}
"""
    ]
    for group, members in groups.items():
        parts += [program.render(config) for program in members]
        parts.append(f"[group:{group}]\nprograms={','.join(p.name for p in members)}\n")
    return "\n".join(parts)


def traefik_config_path(config: StackConfig, replica: int) -> Path:
    return config.run_dir / f"traefik-{replica}.yml"


def render_traefik_static(config: StackConfig, internal_port: int) -> str:
    template = (REPO_ROOT / "gateway" / "traefik.yml").read_text()
    return (
        template.replace("${SOPORTE_PORT}", str(config.port))
        .replace(
            "${SOPORTE_GATEWAY_TRUSTED_PROXIES}", json.dumps(config.gateway_trusted_proxy_list)
        )
        .replace("${SOPORTE_GATEWAY_READ_TIMEOUT}", f"{config.gateway_read_timeout_seconds}s")
        .replace("${SOPORTE_GATEWAY_INTERNAL_PORT}", str(internal_port))
        .replace("${SOPORTE_GATEWAY_DYNAMIC}", str(REPO_ROOT / "gateway" / "dynamic.yml"))
        .replace("${SOPORTE_LOG_DIR}", str(config.log_dir))
    )


def write_configs(config: StackConfig, groups: dict[str, list[Program]]) -> None:
    config.run_dir.mkdir(parents=True, exist_ok=True)
    config.supervisor_conf.write_text(render(config, groups))
    os.chmod(config.supervisor_conf, 0o600)
    for replica, port in enumerate(config.gateway_internal_ports, start=1):
        traefik_config_path(config, replica).write_text(render_traefik_static(config, port))


def supervisorctl(conf: Path, *args: str) -> list[str]:
    """The supervisorctl command line for the stack whose configuration is `conf`."""
    return [str(venv_bin("supervisorctl")), "-c", str(conf), *args]


def log_path(config: StackConfig, program: str) -> Path:
    return config.log_dir / f"{program}.log"

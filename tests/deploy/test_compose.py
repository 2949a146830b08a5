"""deploy/docker-compose.yml: valid Compose, the whole stack, and the same gateway as `make run`.

No Docker engine is needed: the file is validated against the Compose specification's JSON
schema (vendored and kept current by check-jsonschema, pinned in uv.lock) and read as data.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
import yaml

from soporte_stack import cli as stack_cli
from soporte_stack.config import StackConfig
from soporte_stack.supervisor import render_traefik_static

from .conftest import BIN, COMPOSE_FILE, ROOT, labels, one_shot

GATEWAY = "gateway"
STICKY = "traefik.http.services.realtime.loadbalancer.sticky.cookie"
HEALTH = "traefik.http.services.realtime.loadbalancer.healthcheck"


def test_the_compose_file_is_valid_under_the_compose_specification() -> None:
    result = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_does_reject_an_invalid_compose_file(tmp_path: Any) -> None:
    """The check above would be worthless if the schema accepted anything."""
    broken = tmp_path / "docker-compose.yml"
    # A service's key misspelt (x- keys are free-form: the first service's, not the anchor).
    text = COMPOSE_FILE.read_text()
    broken.write_text(text.replace("\n    healthcheck:", "\n    healthchek:", 1))
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "healthchek" in result.stdout


def test_the_whole_stack_is_there(services: dict[str, dict[str, Any]]) -> None:
    assert {
        "gateway",
        "redis",
        "postgres",
        "auth",
        "realtime",
        "realtime-agents",
        "history-api",
        "frontend",
        "migrate-auth",
        "migrate-history",
    } <= set(services)


def test_every_long_running_service_has_a_health_check(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        if one_shot(service):
            continue  # a migration runs to completion; the others wait for its exit code
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_only_the_gateway_publishes_a_port(services: dict[str, dict[str, Any]]) -> None:
    publishing = {name for name, service in services.items() if service.get("ports")}
    assert publishing == {GATEWAY}
    for name, service in services.items():
        assert service.get("network_mode") != "host", name
    assert len(services[GATEWAY]["ports"]) == 1


def test_the_data_stores_are_on_an_internal_network_only(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    assert compose["networks"]["data"]["internal"] is True
    for name in ("redis", "postgres"):
        assert services[name]["networks"] == ["data"], name
    assert "data" not in services[GATEWAY]["networks"]


def test_realtime_has_the_sticky_cookie_and_a_health_check_at_the_gateway(
    services: dict[str, dict[str, Any]],
) -> None:
    realtime = labels(services["realtime"])
    assert realtime[f"{STICKY}.name"] == "soporte_replica"
    assert realtime[f"{STICKY}.httponly"] == "true"
    assert realtime[f"{STICKY}.samesite"] == "lax"
    assert realtime[f"{HEALTH}.path"] == "/healthz"
    assert "container_name" not in services["realtime"], "a fixed name prevents --scale"


def dynamic_yml() -> dict[str, Any]:
    """gateway/dynamic.yml without its Go-template loop (the local upstream addresses)."""
    text = (ROOT / "gateway" / "dynamic.yml").read_text()
    lines = (line for line in text.splitlines() if "{{-" not in line)
    plain = "\n".join(re.sub(r'"\{\{.*\}\}"', '"upstream"', line) for line in lines)
    loaded: dict[str, Any] = yaml.safe_load(plain)
    return loaded


def all_labels(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for service in services.values():
        merged |= labels(service)
    return merged


def test_the_routing_is_the_local_gateways(services: dict[str, dict[str, Any]]) -> None:
    """Every router of gateway/dynamic.yml, with the same rule, priority, entry point and
    service, is declared by the labels; and no other router is."""
    local = dynamic_yml()["http"]
    declared = all_labels(services)
    routers = {key.split(".")[3] for key in declared if key.startswith("traefik.http.routers.")}
    assert routers == set(local["routers"])
    for name, router in local["routers"].items():
        prefix = f"traefik.http.routers.{name}"
        assert declared[f"{prefix}.rule"] == router["rule"], name
        assert declared[f"{prefix}.service"] == router["service"], name
        assert declared[f"{prefix}.entrypoints"] == ",".join(router["entryPoints"]), name
        if "priority" in router:
            assert declared[f"{prefix}.priority"] == str(router["priority"]), name
        else:
            assert f"{prefix}.priority" not in declared, name
        middlewares = ",".join(router.get("middlewares", []))
        assert declared.get(f"{prefix}.middlewares", "") == middlewares, name


@pytest.mark.parametrize(
    ("service", "local_balancer"),
    [("realtime", "realtime"), ("realtime-agents", "realtime-agent-replicas")],
)
def test_the_realtime_balancers_are_the_local_gateways(
    services: dict[str, dict[str, Any]], service: str, local_balancer: str
) -> None:
    """The customers' replicas and the agents', each with its cookie and health check."""
    balancer = dynamic_yml()["http"]["services"][local_balancer]["loadBalancer"]
    declared = labels(services[service])
    prefix = f"traefik.http.services.{service}.loadbalancer"
    for key, value in balancer["sticky"]["cookie"].items():
        assert declared[f"{prefix}.sticky.cookie.{key.lower()}"] == str(value).lower(), key
    for key, value in balancer["healthCheck"].items():
        assert declared[f"{prefix}.healthcheck.{key.lower()}"] == str(value), key


def flags(command: list[str]) -> dict[str, str]:
    return dict(arg.removeprefix("--").split("=", 1) for arg in command if arg.startswith("--"))


def with_defaults(value: str) -> str:
    """A compose value as it is when no variable is set: `${X:-d}` becomes `d`."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)


def local_static() -> dict[str, Any]:
    """gateway/traefik.yml as the launcher renders it with the default settings."""
    config = StackConfig()
    rendered = render_traefik_static(config, config.gateway_internal_ports[0])
    loaded: dict[str, Any] = yaml.safe_load(rendered)
    return loaded


def test_the_entry_point_has_the_local_gateways_timeouts_and_trust(
    services: dict[str, dict[str, Any]],
) -> None:
    """A request must arrive within the read timeout (10 s by default); no deadline on
    writing (answers, long-polls, WebSockets); no proxy in front is trusted by default."""
    web = local_static()["entryPoints"]["web"]
    gateway = {k: with_defaults(v) for k, v in flags(services[GATEWAY]["command"]).items()}
    for key, value in web["transport"]["respondingTimeouts"].items():
        assert gateway[f"entryPoints.web.transport.respondingTimeouts.{key}"] == value, key
    assert gateway["entryPoints.web.transport.respondingTimeouts.readTimeout"] == "10s"
    assert gateway["entryPoints.web.transport.respondingTimeouts.writeTimeout"] == "0s"
    assert web["forwardedHeaders"]["trustedIPs"] == []
    assert gateway["entryPoints.web.forwardedHeaders.trustedIPs"] == ""


def test_the_gateways_middlewares_are_the_local_gateways(
    services: dict[str, dict[str, Any]],
) -> None:
    """The per-address cap, the body limit, the JSON error pages and the internal pages'
    404: declared by the labels as in gateway/dynamic.yml, with the local stack's defaults
    (the body limit's is the services' own)."""
    local = dynamic_yml()["http"]["middlewares"]
    declared = {k: with_defaults(v) for k, v in all_labels(services).items()}
    names = {k.split(".")[3] for k in declared if k.startswith("traefik.http.middlewares.")}
    assert names == set(local)
    for name, middleware in local.items():
        prefix = f"traefik.http.middlewares.{name}"
        if "errors" in middleware:
            errors = middleware["errors"]
            assert declared[f"{prefix}.errors.status"] == ",".join(errors["status"]), name
            assert declared[f"{prefix}.errors.service"] == errors["service"], name
            assert declared[f"{prefix}.errors.query"] == errors["query"], name
        elif "replacePath" in middleware:
            assert declared[f"{prefix}.replacepath.path"] == middleware["replacePath"]["path"]
        elif "buffering" in middleware:
            limit = declared[f"{prefix}.buffering.maxrequestbodybytes"]
            assert limit == str(StackConfig().max_body_bytes), name
        else:
            assert "inFlightReq" in middleware, name
            amount = declared[f"{prefix}.inflightreq.amount"]
            assert amount == str(StackConfig().gateway_max_connections_per_address)
            excluded = declared[f"{prefix}.inflightreq.sourcecriterion.ipstrategy.excludedips"]
            assert excluded == StackConfig().gateway_trusted_proxies == ""


def test_the_gateway_finds_services_by_their_labels_over_the_shared_network(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    gateway = flags(services[GATEWAY]["command"])
    assert gateway["providers.docker"] == "true"
    assert gateway["providers.docker.exposedByDefault"] == "false"
    assert gateway["providers.docker.network"] == compose["networks"]["web"]["name"]
    # The health check asks the ping endpoint of the same (unpublished) internal entry point.
    check = flags(services[GATEWAY]["healthcheck"]["test"])
    assert check["entryPoints.internal.address"] == gateway["entryPoints.internal.address"]
    assert check["ping.entryPoint"] == gateway["ping.entryPoint"] == "internal"
    published = services[GATEWAY]["ports"][0]
    assert published.endswith(":" + gateway["entryPoints.web.address"].lstrip(":"))


def test_redis_logs_every_write_to_its_append_only_file(
    services: dict[str, dict[str, Any]],
) -> None:
    command = services["redis"]["command"]
    options = dict(zip(command[1::2], command[2::2], strict=False))
    assert options["--appendonly"] == "yes"
    # An explicit policy (the trade-off is written next to it), the local stack's.
    assert options["--appendfsync"] == "everysec"
    local = local_redis_options()
    assert options["--appendfsync"] == local["--appendfsync"]
    assert options["--maxmemory-policy"] == local["--maxmemory-policy"] == "noeviction"
    assert "trade-off" in COMPOSE_FILE.read_text() or "power loss" in COMPOSE_FILE.read_text()
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])


def local_redis_options() -> dict[str, str]:
    from soporte_stack.config import StackConfig
    from soporte_stack.supervisor import INFRA, programs

    redis = next(p for p in programs(StackConfig(), postgres_user=None)[INFRA] if p.name == "redis")
    return dict(zip(redis.command[1::2], redis.command[2::2], strict=False))


def test_the_data_lives_in_named_volumes(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    for name in ("postgres", "redis"):
        volume = services[name]["volumes"][0].split(":")[0]
        assert volume in compose["volumes"], name


def test_migrations_run_once_before_the_services_that_own_tables(
    services: dict[str, dict[str, Any]],
) -> None:
    for service, migration in (("auth", "migrate-auth"), ("history-api", "migrate-history")):
        condition = services[service]["depends_on"][migration]["condition"]
        assert condition == "service_completed_successfully", service
        assert one_shot(services[migration])
        assert services[migration]["image"] == services[service]["image"]
        assert services[migration]["build"] == services[service]["build"]
        assert services[migration]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_migrations_are_the_ones_the_local_stack_runs(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []

    def record(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        ran.append([command[0].rsplit("/", 1)[-1], *command[1:]])
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(stack_cli.subprocess, "run", record)
    stack_cli.migrate(stack_cli.StackConfig(), {})
    composed = [services[name]["command"] for name in services if name.startswith("migrate-")]
    assert sorted(composed) == sorted(ran)


def test_services_are_production_mode_with_secrets_from_files(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    for name in ("auth", "realtime", "history-api", "migrate-auth", "migrate-history"):
        environment = services[name]["environment"]
        assert environment["SOPORTE_ENV"] == "production", name
        assert "soporte_jwt_secret" in services[name]["secrets"], name
        # No secret value in the environment: they come from /run/secrets.
        for secret in ("SOPORTE_JWT_SECRET", "SOPORTE_ADMIN_PASSWORD", "SOPORTE_DATABASE_PASSWORD"):
            assert secret not in environment, (name, secret)
        url = environment.get("SOPORTE_DATABASE_URL", "postgresql://u@h/d")
        assert ":" not in url.split("://", 1)[1].split("@", 1)[0], "a password in the URL"
    assert "soporte_admin_password" in services["auth"]["secrets"]
    postgres = services["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD_FILE"] == "/run/secrets/soporte_database_password"
    for secret in compose["secrets"].values():
        assert set(secret) == {"file"}


def test_services_listen_on_every_interface_inside_their_container(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("auth", "realtime", "history-api", "frontend"):
        assert services[name]["environment"]["SOPORTE_BIND_HOST"] == "0.0.0.0", name  # noqa: S104


def interpolated(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z0-9_]+)", text))


def test_every_interpolated_variable_is_documented_in_env_example() -> None:
    documented = (ROOT / ".env.example").read_text()
    for variable in interpolated(COMPOSE_FILE.read_text()):
        assert re.search(rf"^#?{variable}=", documented, re.MULTILINE), variable

"""deploy/k8s, wired: every reference resolves (ConfigMap and Secret keys, Service selectors
and ports, the autoscaler's target), each service gets the settings and secret files its
settings class reads (the same secrets compose gives it), the probes ask paths the services
serve on the ports their images listen on, the IngressRoute carries gateway/dynamic.yml's
routes and sticky cookie, and every pod is locked down."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic_settings import BaseSettings

from soporte_auth.settings import AuthSettings
from soporte_history.settings import HistorySettings
from soporte_realtime.settings import RealtimeSettings
from soporte_stack.config import StackConfig

from .conftest import COMPOSE_FILE, DOCKERFILES, OVERLAYS, SECRET_FILES, Dockerfile
from .test_compose import dynamic_yml
from .test_env_example import NOT_PASSED, documented, variables

Objects = list[dict[str, Any]]
SETTINGS: dict[str, type[BaseSettings]] = {
    "auth": AuthSettings,
    "realtime": RealtimeSettings,
    "realtime-agents": RealtimeSettings,
    "history-api": HistorySettings,
    "migrate-auth": AuthSettings,
    "migrate-history": HistorySettings,
}
# The Deployments (each with its Service and image) and Jobs, named as in compose.
SERVICES = ("auth", "realtime", "realtime-agents", "history-api", "frontend")
WORKLOADS = (*SERVICES, "migrate-auth", "migrate-history")
# The service whose image (and app) a Deployment runs, where its name is not that.
IMAGE_OF = {"realtime-agents": "realtime"}
# Each router of gateway/dynamic.yml, by the Kubernetes Service it reaches.
ROUTED = {
    "auth": "auth",
    "realtime": "realtime",
    "realtime-agents": "realtime-agents",
    "history": "history-api",
    "frontend": "frontend",
}


def find(objects: Objects, kind: str, name: str | None = None) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    return found


def workload(objects: Objects, name: str) -> dict[str, Any]:
    return find(objects, "Job" if name.startswith("migrate-") else "Deployment", name)


def pod(objects: Objects, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = workload(objects, name)["spec"]["template"]["spec"]
    return spec


def container(objects: Objects, name: str) -> dict[str, Any]:
    (only,) = pod(objects, name)["containers"]
    assert isinstance(only, dict)
    return only


def config(objects: Objects) -> dict[str, str]:
    data: dict[str, str] = find(objects, "ConfigMap")["data"]
    return data


def environment(objects: Objects, name: str) -> set[str]:
    """The variables the container gets: the whole ConfigMap and its own `env`."""
    spec = container(objects, name)
    names = {variable["name"] for variable in spec.get("env", [])}
    if spec.get("envFrom"):
        names |= set(config(objects))
    return names


def secret_files(objects: Objects, name: str) -> set[str]:
    """The files mounted at /run/secrets."""
    mounts = {m["name"]: m["mountPath"] for m in container(objects, name).get("volumeMounts", [])}
    files: set[str] = set()
    for volume in pod(objects, name).get("volumes", []):
        if "secret" in volume:
            assert mounts[volume["name"]] == "/run/secrets", name
            files |= {item["path"] for item in volume["secret"]["items"]}
            assert all(i["key"] == i["path"] for i in volume["secret"]["items"]), name
    return files


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_configmap_reference_names_the_configmap_and_a_key_it_has(
    rendered: dict[str, Objects], overlay: str
) -> None:
    objects = rendered[overlay]
    configmap = find(objects, "ConfigMap")
    for name in WORKLOADS:
        spec = container(objects, name)
        for source in spec.get("envFrom", []):
            assert source["configMapRef"]["name"] == configmap["metadata"]["name"], name
        for variable in spec.get("env", []):
            reference = variable.get("valueFrom", {}).get("configMapKeyRef")
            if reference:
                assert reference["name"] == configmap["metadata"]["name"], name
                assert reference["key"] in configmap["data"], (name, reference["key"])


def test_every_secret_file_is_a_key_of_the_generated_secret(
    rendered: dict[str, Objects],
) -> None:
    objects = rendered["production"]
    secret = find(objects, "Secret")
    assert set(secret["data"]) == set(SECRET_FILES)
    for name in WORKLOADS:
        for volume in pod(objects, name).get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] == secret["metadata"]["name"], name
                for item in volume["secret"]["items"]:
                    assert item["key"] in secret["data"], (name, item["key"])


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_each_service_gets_the_secret_files_compose_gives_it(
    rendered: dict[str, Objects], services: dict[str, dict[str, Any]], name: str
) -> None:
    assert secret_files(rendered["production"], name) == set(services[name]["secrets"])


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_each_service_gets_every_setting_it_reads(rendered: dict[str, Objects], name: str) -> None:
    objects = rendered["production"]
    given = environment(objects, name) | {f.upper() for f in secret_files(objects, name)}
    wanted = variables(SETTINGS[name]) - {
        variable for variable, why in NOT_PASSED.items() if why != "a secret file"
    }
    # Pods have no fixed host name: history-api is told its consumer's name instead.
    if name == "history-api":
        wanted.add("SOPORTE_CONSUMER_NAME")
    # A migration verifies no token: it needs the signing key (the settings demand it in
    # production) but not the previous ones, as in compose.
    if name.startswith("migrate-"):
        wanted.discard("SOPORTE_JWT_PREVIOUS_SECRETS")
    assert wanted - given == set(), name


def test_the_pages_server_gets_no_secret_and_stays_out_of_production_mode(
    rendered: dict[str, Objects],
) -> None:
    objects = rendered["production"]
    assert secret_files(objects, "frontend") == set()
    assert "SOPORTE_ENV" not in environment(objects, "frontend")
    assert "SOPORTE_IDLE_AWAY_SECONDS" in environment(objects, "frontend")  # its one setting
    assert config(objects)["SOPORTE_ENV"] == "production"


def test_the_settings_are_documented_and_keep_composes_defaults(
    rendered: dict[str, Objects],
) -> None:
    defaults = dict(re.findall(r"\$\{(SOPORTE_[A-Z0-9_]+):-([^}]*)\}", COMPOSE_FILE.read_text()))
    base = config(rendered["base"])
    assert set(base) <= documented()
    for variable, value in base.items():
        if variable in defaults:
            assert value == defaults[variable], variable
        assert not variable.endswith(("_SECRET", "_SECRETS", "_PASSWORD")), variable


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_store_urls_name_the_external_store_services(
    rendered: dict[str, Objects], overlay: str
) -> None:
    objects = rendered[overlay]
    for variable, service in (
        ("SOPORTE_REDIS_URL", "valkey"),
        ("SOPORTE_DATABASE_URL", "postgres"),
    ):
        url = urlsplit(config(objects)[variable])
        assert url.password is None, f"{variable} carries a password: use the secret file"
        store = find(objects, "Service", service)
        assert store["spec"]["type"] == "ExternalName" and "selector" not in store["spec"]
        assert url.hostname == service
        assert url.port in {p["port"] for p in store["spec"]["ports"]}, variable
    if overlay == "production":
        for service in ("valkey", "postgres"):
            target = find(objects, "Service", service)["spec"]["externalName"]
            assert not target.endswith(".invalid"), service


def image_port(name: str) -> int:
    command = Dockerfile(DOCKERFILES[name], DOCKERFILES[name].read_text()).cmd
    return int(command[command.index("--port") + 1])


def served_paths(name: str, *paths: str) -> set[str]:
    """Which of `paths` the service's app routes (tests/deploy/served_paths.py)."""
    result = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("served_paths.py")), name, *paths],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    served: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return set(served)


@pytest.mark.parametrize("name", SERVICES)
def test_the_probes_ask_what_the_service_serves_on_the_port_its_image_listens_on(
    rendered: dict[str, Objects], name: str
) -> None:
    objects = rendered["production"]
    spec = container(objects, name)
    name = IMAGE_OF.get(name, name)
    ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
    assert list(ports.values()) == [image_port(name)]
    assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert ports[spec[probe]["httpGet"]["port"]] == image_port(name), (name, probe)
    probed = {spec[probe]["httpGet"]["path"] for probe in ("livenessProbe", "readinessProbe")}
    assert served_paths(name, *probed) == probed
    assert "command" not in spec, "the image's CMD is the command (one source of truth)"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_selects_its_pods_and_reaches_the_container_port(
    rendered: dict[str, Objects], name: str
) -> None:
    objects = rendered["production"]
    deployment = workload(objects, name)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = find(objects, "Service", name)
    assert service["spec"]["selector"].items() <= labels.items()
    names = {p["name"] for p in container(objects, name)["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= names


@pytest.mark.parametrize("name", SERVICES)
def test_the_images_are_the_ones_compose_builds(
    rendered: dict[str, Objects], services: dict[str, dict[str, Any]], name: str
) -> None:
    composed = services[name]["image"].split(":")[0]
    assert container(rendered["base"], name)["image"].split(":")[0] == composed
    production = container(rendered["production"], name)["image"]
    assert production.rsplit(":", 1)[0].endswith("/" + composed), production


def test_the_migrations_are_composes_and_use_the_services_images(
    rendered: dict[str, Objects], services: dict[str, dict[str, Any]]
) -> None:
    objects = rendered["production"]
    for job, service in (("migrate-auth", "auth"), ("migrate-history", "history-api")):
        spec = container(objects, job)
        assert spec["command"] == services[job]["command"]
        assert spec["image"] == container(objects, service)["image"]
        assert pod(objects, job)["restartPolicy"] in {"OnFailure", "Never"}


def test_the_autoscaler_and_the_disruption_budget_govern_realtime(
    rendered: dict[str, Objects],
) -> None:
    objects = rendered["production"]
    realtime = workload(objects, "realtime")
    autoscaler = find(objects, "HorizontalPodAutoscaler", "realtime")["spec"]
    assert autoscaler["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "realtime",
    }
    assert 2 <= autoscaler["minReplicas"] < autoscaler["maxReplicas"]
    assert "replicas" not in realtime["spec"], "the autoscaler owns the replica count"
    budget = find(objects, "PodDisruptionBudget", "realtime")["spec"]
    labels = realtime["spec"]["template"]["metadata"]["labels"]
    assert budget["selector"]["matchLabels"].items() <= labels.items()
    assert budget.get("maxUnavailable") == 1 or budget.get("minAvailable", 0) >= 1
    # Requests are what the autoscaler's utilisation is a percentage of.
    assert container(objects, "realtime")["resources"]["requests"]["cpu"]


def public_host(objects: Objects) -> str:
    host = urlsplit(config(objects)["SOPORTE_PUBLIC_ORIGIN"]).hostname
    assert host
    return host


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingressroute_has_the_local_gateways_routes(
    rendered: dict[str, Objects], overlay: str
) -> None:
    objects = rendered[overlay]
    routes = find(objects, "IngressRoute")["spec"]["routes"]
    routers = dynamic_yml()["http"]["routers"]
    assert len(routes) == len(routers)
    for router, route in zip(routers.values(), routes, strict=True):
        rule = router["rule"]
        if overlay == "production":
            rule = f"Host(`{public_host(objects)}`) && ({rule})"
        assert route["match"] == rule
        assert route.get("priority") == router.get("priority"), rule
        middlewares = [m["name"] for m in route.get("middlewares", [])]
        assert middlewares == router.get("middlewares", []), rule
        (target,) = route["services"]
        assert target["name"] == ROUTED[router["service"]], rule
        service = find(objects, "Service", target["name"])
        assert target["port"] in {p["name"] for p in service["spec"]["ports"]}, rule


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_middlewares_are_the_local_gateways(rendered: dict[str, Objects], overlay: str) -> None:
    """The per-address cap (at its default), the body limit (the services' own, from the
    ConfigMap), the JSON error pages, the internal pages' 404."""
    objects = rendered[overlay]
    declared = {m["metadata"]["name"]: m["spec"] for m in objects if m["kind"] == "Middleware"}
    local = dynamic_yml()["http"]["middlewares"]
    assert set(declared) == set(local)
    for name, middleware in local.items():
        spec = declared[name]
        if "errors" in middleware:
            errors = middleware["errors"]
            assert spec["errors"]["status"] == errors["status"], name
            assert spec["errors"]["query"] == errors["query"], name
            assert spec["errors"]["service"]["name"] == ROUTED[errors["service"]], name
        elif "replacePath" in middleware:
            assert spec["replacePath"] == middleware["replacePath"], name
        elif "buffering" in middleware:
            limit = spec["buffering"]["maxRequestBodyBytes"]
            assert str(limit) == config(objects)["SOPORTE_MAX_BODY_BYTES"], name
            assert limit == StackConfig().max_body_bytes, name
        else:
            amount = spec["inFlightReq"]["amount"]
            assert amount == StackConfig().gateway_max_connections_per_address, name
            assert spec["inFlightReq"]["sourceCriterion"] == {"ipStrategy": {"depth": 0}}


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize(
    ("service", "balancer"),
    [("realtime", "realtime"), ("realtime-agents", "realtime-agent-replicas")],
)
def test_realtime_has_the_sticky_cookie(
    rendered: dict[str, Objects], overlay: str, service: str, balancer: str
) -> None:
    """The customers' replicas and the agents', each with the local gateway's cookie."""
    objects = rendered[overlay]
    routes = find(objects, "IngressRoute")["spec"]["routes"]
    (realtime,) = [s for r in routes for s in r["services"] if s["name"] == service]
    cookie = realtime["sticky"]["cookie"]
    local = dynamic_yml()["http"]["services"][balancer]["loadBalancer"]["sticky"]["cookie"]
    assert {k: cookie[k] for k in local} == local
    https = config(objects)["SOPORTE_PUBLIC_ORIGIN"].startswith("https://")
    assert cookie["secure"] is https
    if overlay == "production":
        assert https and find(objects, "IngressRoute")["spec"]["tls"]["secretName"]


@pytest.mark.parametrize("name", WORKLOADS)
def test_every_pod_is_non_root_read_only_and_bounded(
    rendered: dict[str, Objects], name: str
) -> None:
    spec = pod(rendered["production"], name)
    security = spec["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] != 0
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    (only,) = spec["containers"]
    hardened = only["securityContext"]
    assert hardened["allowPrivilegeEscalation"] is False
    assert hardened["readOnlyRootFilesystem"] is True
    assert hardened["capabilities"] == {"drop": ["ALL"]}
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(only["resources"][bound]), (name, bound)
    # The one writable place, as compose's tmpfs.
    tmp = next(m for m in only["volumeMounts"] if m["mountPath"] == "/tmp")
    volume = next(v for v in spec["volumes"] if v["name"] == tmp["name"])
    assert "emptyDir" in volume


def test_production_enforces_the_restricted_pod_security_profile(
    rendered: dict[str, Objects],
) -> None:
    labels = find(rendered["production"], "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"

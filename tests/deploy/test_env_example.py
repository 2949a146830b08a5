""".env.example documents every setting, and the secrets compose mounts are the files the
settings read (pydantic-settings' secrets_dir: /run/secrets/<lowercase variable name>)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from soporte_auth.settings import AuthSettings
from soporte_common.settings import DatabaseSettings, SoporteSettings
from soporte_frontend.settings import FrontendSettings
from soporte_history.settings import HistorySettings
from soporte_realtime.settings import RealtimeSettings
from soporte_stack.config import StackConfig

from .conftest import ROOT

SETTINGS: list[type[BaseSettings]] = [
    SoporteSettings,
    DatabaseSettings,
    AuthSettings,
    HistorySettings,
    RealtimeSettings,
    FrontendSettings,
    StackConfig,
]
# Read straight from the environment, not through a settings class.
OTHER_VARIABLES = {"SOPORTE_NEW_ADMIN_PASSWORD"}


def variables(settings: type[BaseSettings]) -> set[str]:
    prefix = str(settings.model_config.get("env_prefix", ""))
    return {(prefix + field).upper() for field in settings.model_fields}


def documented() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?(SOPORTE_[A-Z0-9_]+)=", text, re.MULTILINE))


def test_every_setting_is_in_env_example() -> None:
    missing = set().union(*map(variables, SETTINGS), OTHER_VARIABLES) - documented()
    assert not missing


def test_env_example_documents_nothing_that_does_not_exist() -> None:
    compose = set(
        re.findall(
            r"\$\{(SOPORTE_[A-Z0-9_]+)", (ROOT / "deploy" / "docker-compose.yml").read_text()
        )
    )
    known = set().union(*map(variables, SETTINGS), OTHER_VARIABLES, compose)
    assert documented() - known == set()


def test_compose_secrets_are_files_the_settings_read(compose: dict[str, Any]) -> None:
    fields = set().union(*(variables(s) for s in (AuthSettings, HistorySettings, RealtimeSettings)))
    for name in compose["secrets"]:
        assert name == name.lower() and name.upper() in fields, name


@pytest.fixture
def secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The files of deploy/secrets/ as an operator writes them (with trailing newlines)."""
    for variable in list(os.environ):
        if variable.startswith("SOPORTE_"):
            monkeypatch.delenv(variable)
    (tmp_path / "soporte_jwt_secret").write_text("k" * 64 + "\n")
    (tmp_path / "soporte_jwt_previous_secrets").write_text('["' + "o" * 64 + '"]\n')
    (tmp_path / "soporte_database_password").write_text("p@ss:w/rd%\n")
    (tmp_path / "soporte_admin_password").write_text("an admin password\n")
    monkeypatch.setenv("SOPORTE_ENV", "production")
    monkeypatch.setenv("SOPORTE_DATABASE_URL", "postgresql://soporte@postgres:5432/soporte")
    return tmp_path


def test_a_production_start_takes_its_secrets_from_the_files(secrets_dir: Path) -> None:
    settings = AuthSettings(_secrets_dir=secrets_dir)  # type: ignore[call-arg]
    assert settings.jwt_secret.get_secret_value() == "k" * 64
    assert [s.get_secret_value() for s in settings.jwt_previous_secrets] == ["o" * 64]
    assert settings.admin_password.get_secret_value() == "an admin password"
    # The password, URL-quoted, joins the URL that carries none.
    assert settings.database_url.get_secret_value() == (
        "postgresql://soporte:p%40ss%3Aw%2Frd%25@postgres:5432/soporte"
    )


def test_a_password_in_the_url_wins(secrets_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPORTE_DATABASE_URL", "postgresql://soporte:mine@db/soporte")
    settings = HistorySettings(_secrets_dir=secrets_dir)  # type: ignore[call-arg]
    assert settings.database_url.get_secret_value() == "postgresql://soporte:mine@db/soporte"


def test_a_production_start_without_the_secret_files_refuses(
    secrets_dir: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "none"
    empty.mkdir()
    with pytest.raises(ValueError, match="SOPORTE_JWT_SECRET"):
        AuthSettings(_secrets_dir=empty)  # type: ignore[call-arg]


def test_the_local_database_with_a_password_is_still_refused_in_production(
    secrets_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPORTE_DATABASE_URL", "postgresql://soporte@127.0.0.1:8086/soporte")
    with pytest.raises(ValueError, match="SOPORTE_DATABASE_URL"):
        HistorySettings(_secrets_dir=secrets_dir)  # type: ignore[call-arg]


# Settings compose does not pass as variables, and why.
NOT_PASSED = {
    "SOPORTE_JWT_SECRET": "a secret file",
    "SOPORTE_JWT_PREVIOUS_SECRETS": "a secret file",
    "SOPORTE_DATABASE_PASSWORD": "a secret file",
    "SOPORTE_ADMIN_PASSWORD": "a secret file",
    "SOPORTE_DEMO_USER": "local mode only",
    "SOPORTE_DEMO_PASSWORD": "local mode only",
    "SOPORTE_CONSUMER_NAME": "derived from the container's fixed host name",
}


@pytest.mark.parametrize(
    ("service", "settings"),
    [("auth", AuthSettings), ("realtime", RealtimeSettings), ("history-api", HistorySettings)],
)
def test_compose_passes_every_setting_to_the_service_that_reads_it(
    services: dict[str, dict[str, Any]], service: str, settings: type[BaseSettings]
) -> None:
    environment = services[service]["environment"]
    secrets = {name.upper() for name in services[service]["secrets"]}
    for variable in variables(settings):
        if NOT_PASSED.get(variable) == "a secret file":
            assert variable in secrets, (service, variable)
        elif variable in NOT_PASSED:
            continue
        else:
            assert variable in environment, (service, variable)

"""Pure logic of the auth service (no servers)."""

import pytest
from pydantic import ValidationError

from soporte_auth.passwords import hash_password, verify_password
from soporte_auth.settings import AuthSettings


def test_a_password_verifies_against_its_hash_and_nothing_else() -> None:
    stored = hash_password("correcto-123")
    assert stored.startswith("$argon2id$")
    assert verify_password("correcto-123", stored)[0] is True
    assert verify_password("incorrecto", stored)[0] is False


def test_an_unknown_user_is_checked_against_a_dummy_hash() -> None:
    assert verify_password("cualquiera", None) == (False, None)


def test_production_refuses_the_local_admin_password() -> None:
    with pytest.raises(ValidationError, match="SOPORTE_ADMIN_PASSWORD"):
        AuthSettings(
            env="production", jwt_secret="k" * 64, database_url="postgresql://u:p@db/soporte"
        )


def test_production_starts_with_real_secrets() -> None:
    settings = AuthSettings(
        env="production",
        jwt_secret="k" * 64,
        database_url="postgresql://u:p@db/soporte",
        admin_password="una-clave-de-verdad",
    )
    assert settings.env == "production"

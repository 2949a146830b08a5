"""Pure logic of the auth service (no servers)."""

import re

import pytest
from pydantic import ValidationError

from soporte_auth.cli import CLI
from soporte_auth.passwords import hash_password, verify_password
from soporte_auth.settings import AuthSettings
from soporte_auth.sites import new_site_key
from soporte_common.sites import SITE_KEY_PATTERN


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


def test_new_site_keys_can_be_typed_as_a_site_commands_argument() -> None:
    # One in 32 URL-safe keys began with "-", which the CLI read as an option.
    site_keys = {new_site_key() for _ in range(2000)}
    assert len(site_keys) == 2000
    for key in site_keys:
        assert re.fullmatch(SITE_KEY_PATTERN, key), key
        assert CLI.parser.parse_args(["delete-site", key]).site == key


def test_an_older_key_beginning_with_a_dash_goes_after_the_double_dash() -> None:
    assert CLI.parser.parse_args(["rotate-site-secret", "--", "-H6gjJlTawJbvche"]).site == (
        "-H6gjJlTawJbvche"
    )

import sys
import unicodedata

import pytest
from pydantic import ValidationError

from soporte_common.settings import LOCAL_JWT_SECRET, DatabaseSettings, SoporteSettings
from soporte_common.text import clean_display_name, has_forbidden_text_chars, is_valid_username


@pytest.mark.parametrize("name", ["ana", "a1", "maria.lopez", "soporte_2", "x-y"])
def test_valid_usernames(name: str) -> None:
    assert is_valid_username(name)


@pytest.mark.parametrize("name", ["", "a", "Ana", "-ana", "ana lopez", "añа", "a" * 33, None, 3])
def test_invalid_usernames(name: object) -> None:
    assert not is_valid_username(name)


def test_display_names_are_normalised_and_trimmed() -> None:
    assert clean_display_name("  José  ") == "José"
    assert clean_display_name("Jose\u0301") == "José"  # NFC


@pytest.mark.parametrize(
    "name", ["", "  ", "ana\u202e", "\u2066ana", "a\u200db", "a\nb", "a\x00", "x" * 65]
)
def test_display_names_with_control_or_bidi_characters_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="nombre"):
        clean_display_name(name)


def test_local_mode_accepts_the_local_defaults() -> None:
    settings = DatabaseSettings(env="local")
    assert settings.jwt_secret.get_secret_value() == LOCAL_JWT_SECRET


def test_production_refuses_the_local_secret_and_database() -> None:
    with pytest.raises(ValidationError) as info:
        DatabaseSettings(env="production")
    message = str(info.value)
    assert "SOPORTE_JWT_SECRET" in message and "SOPORTE_DATABASE_URL" in message


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError):
        SoporteSettings(env="production", jwt_secret="short")


def test_production_accepts_real_values() -> None:
    settings = DatabaseSettings(
        env="production", jwt_secret="k" * 64, database_url="postgresql://u:p@db/soporte"
    )
    assert settings.env == "production"


def test_local_mode_accepts_both_spellings_of_localhost() -> None:
    settings = SoporteSettings(public_origin="http://localhost:8080")
    assert settings.allowed_origins == ["http://localhost:8080", "http://127.0.0.1:8080"]
    production = SoporteSettings(
        env="production", jwt_secret="k" * 64, public_origin="https://soporte.example.com"
    )
    assert production.allowed_origins == ["https://soporte.example.com"]
    assert production.cookie_secure


def test_forbidden_characters_are_the_controls_but_line_breaks_and_tabs_and_surrogates() -> None:
    # Every code point, against the Unicode categories the rule is written in.
    allowed_controls = {"\n", "\t", "\r"}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        forbidden = (category == "Cc" and char not in allowed_controls) or category == "Cs"
        assert has_forbidden_text_chars(f"a{char}b") is forbidden, hex(code)

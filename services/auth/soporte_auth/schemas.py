"""The bodies auth accepts and answers with, as pydantic models: what
`/api/auth/openapi.json` describes (docs/contract.md says what each field means)."""

from __future__ import annotations

import unicodedata

from pydantic import BaseModel, Field, field_validator

from soporte_common.text import USERNAME_PATTERN, clean_display_name
from soporte_common.tokens import Rol


def _no_surrogates(value: str) -> str:
    """A lone surrogate cannot be hashed or stored (it has no UTF-8 form)."""
    if any(unicodedata.category(ch) == "Cs" for ch in value):
        raise ValueError("contiene caracteres no válidos")
    return value


class RegisterBody(BaseModel):
    usuario: str = Field(pattern=USERNAME_PATTERN, description="2-32 of a-z 0-9 . _ -")
    nombre: str
    password: str = Field(min_length=8, max_length=256)

    @field_validator("nombre")
    @classmethod
    def _nombre(cls, value: str) -> str:
        return clean_display_name(value)

    _password = field_validator("password")(_no_surrogates)


class LoginBody(BaseModel):
    usuario: str = Field(max_length=64)
    password: str = Field(max_length=256)

    @field_validator("usuario")
    @classmethod
    def _usuario(cls, value: str) -> str:
        """No username holds a control character (NUL...) or a surrogate."""
        if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in value):
            raise ValueError("contiene caracteres no válidos")
        return value

    _password = field_validator("password")(_no_surrogates)


class Account(BaseModel):
    """Who is signed in (or was just registered)."""

    usuario: str
    nombre: str = Field(description="the display name")
    rol: Rol = Field(description="`admin`: an agent; `user`: a customer")

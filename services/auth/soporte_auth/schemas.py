"""The bodies auth accepts and answers with, as pydantic models: what
`/api/auth/openapi.json` describes (docs/contract.md says what each field means)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from soporte_common.text import USERNAME_PATTERN, clean_display_name
from soporte_common.tokens import Rol


class RegisterBody(BaseModel):
    usuario: str = Field(pattern=USERNAME_PATTERN, description="2-32 of a-z 0-9 . _ -")
    nombre: str
    password: str = Field(min_length=8, max_length=256)

    @field_validator("nombre")
    @classmethod
    def _nombre(cls, value: str) -> str:
        return clean_display_name(value)


class LoginBody(BaseModel):
    usuario: str = Field(max_length=64)
    password: str = Field(max_length=256)


class Account(BaseModel):
    """Who is signed in (or was just registered)."""

    usuario: str
    nombre: str = Field(description="the display name")
    rol: Rol = Field(description="`admin`: an agent; `user`: a customer")

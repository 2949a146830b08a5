"""The bodies auth accepts and answers with, as pydantic models: what
`/api/auth/openapi.json` describes (docs/contract.md says what each field means)."""

from __future__ import annotations

import unicodedata

from pydantic import BaseModel, Field, field_validator, model_validator

from soporte_common.sites import SITE_KEY_PATTERN
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


_SITE = Field(pattern=SITE_KEY_PATTERN, description="the site's key (`data-site`)")
_IDENTITY = Field(
    None,
    max_length=4096,
    description="a JWT the company's backend signed: {sub, name, email?, exp} (HS256)",
)


class NewVisitorBody(BaseModel):
    """A visitor about to send its first message: anonymous, or the site's user the
    identity names."""

    sitio: str = _SITE
    identidad: str | None = _IDENTITY


class VisitorSessionBody(BaseModel):
    """A visitor coming back: its credential (anonymous), or an identity (verified)."""

    sitio: str = _SITE
    credencial: str | None = Field(None, max_length=128)
    identidad: str | None = _IDENTITY

    @model_validator(mode="after")
    def _one_of(self) -> VisitorSessionBody:
        if (self.credencial is None) == (self.identidad is None):
            raise ValueError("give either credencial or identidad")
        return self


class VisitorSession(BaseModel):
    """A visitor's short-lived token (for the Socket.IO `auth` payload and `Authorization:
    Bearer`), and who it is."""

    usuario: str
    nombre: str
    token: str
    expira: int = Field(description="when the token expires (seconds since the epoch)")
    credencial: str | None = Field(
        description="a new anonymous visitor's long-lived credential (kept by the widget, "
        "exchanged for tokens); null otherwise"
    )
    verificado: bool
    email: str | None


class SiteSummary(BaseModel):
    sitio: str
    nombre: str
    origenes: list[str]

"""A website visitor's identity: the company's backend signs `{sub, name, email?, exp}`
(HS256, the site's identity secret, `exp` at most 24 h ahead) and the widget hands it to
auth, which checks it here. Anything wrong refuses it with a text that says what (the
widget shows it in the browser's console), and nothing is sent under it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import jwt
from pydantic import BaseModel, Field, ValidationError, field_validator

from soporte_common.text import clean_display_name

ALGORITHM: Final = "HS256"
MAX_LIFETIME_SECONDS: Final = 24 * 3600
# Clocks differ a little between the company's backend and Soporte.
LEEWAY_SECONDS: Final = 60
MAX_TOKEN_LENGTH: Final = 4096
# Shown to agents, never mailed by Soporte: one @, no spaces or control characters.
_EMAIL: Final = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")


class IdentityError(Exception):
    """The identity is refused; the message says why, for the site's developers."""


class IdentityClaims(BaseModel):
    sub: str = Field(min_length=1, max_length=128)
    name: str
    email: str | None = Field(None, max_length=254, pattern=_EMAIL.pattern)
    exp: int

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return clean_display_name(value)


@dataclass(frozen=True)
class Identity:
    sub: str
    name: str
    email: str | None
    exp: int


def verify_identity(token: str, secrets: Sequence[str], *, now: float | None = None) -> Identity:
    """The identity `token` vouches for, or IdentityError saying what is wrong with it."""
    now = time.time() if now is None else now
    if len(token) > MAX_TOKEN_LENGTH:
        raise IdentityError("the identity token is too long")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise IdentityError("the identity is not a JWT (header.payload.signature)") from exc
    if header.get("alg") != ALGORITHM:
        raise IdentityError(f"the identity must be signed with HS256, not {header.get('alg')}")
    payload = None
    for secret in secrets:
        try:
            payload = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                options={"verify_exp": False, "require": ["exp", "sub"]},
            )
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise IdentityError(f"the identity is malformed: {exc}") from exc
    if payload is None:
        raise IdentityError(
            "the identity's signature does not match this site's identity secret "
            "(tampered with, or signed for another site)"
        )
    try:
        claims = IdentityClaims.model_validate(payload)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        raise IdentityError(f"the identity's claims are not valid: {fields}") from exc
    if claims.exp < now - LEEWAY_SECONDS:
        raise IdentityError("the identity has expired: sign a new one")
    if claims.exp > now + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise IdentityError("the identity's exp is more than 24 h ahead: sign it for less")
    return Identity(sub=claims.sub, name=claims.name, email=claims.email, exp=claims.exp)

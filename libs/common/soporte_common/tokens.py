"""Session tokens: one fixed algorithm, required claims, key rotation, revocation.

Auth signs; realtime and history-api verify. A token is valid when its signature (HS256,
by the current or a previous key), `exp`, `iat` and `jti` check out, *and* Redis says the
session was not revoked and the user still has the role the token claims.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Sequence
from typing import Literal

import jwt
from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from soporte_common import keys

ALGORITHM = "HS256"
COOKIE_NAME = "token"
Rol = Literal["admin", "user"]


class InvalidTokenError(Exception):
    """The token is missing a claim, forged, expired, revoked or claims a role it lacks."""


class Claims(BaseModel):
    user: str
    nombre: str
    rol: Rol
    iat: int
    exp: int
    jti: str
    # A website visitor's token: the site (its key) whose widget it was issued for.
    sitio: str | None = None


def key_id(secret: str) -> str:
    """A short public fingerprint of a signing key, carried in the token header (`kid`)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


class TokenCodec:
    """Signs with the current secret; verifies with the current or any previous one."""

    def __init__(self, secret: str, previous: Sequence[str] = ()) -> None:
        self._secret = secret
        self._verifying = {key_id(s): s for s in (secret, *previous)}

    def issue(
        self,
        *,
        user: str,
        nombre: str,
        rol: Rol,
        ttl_seconds: int,
        sitio: str | None = None,
    ) -> tuple[str, Claims]:
        now = int(time.time())
        claims = Claims(
            user=user,
            nombre=nombre,
            rol=rol,
            iat=now,
            exp=now + ttl_seconds,
            jti=uuid.uuid4().hex,
            sitio=sitio,
        )
        token = jwt.encode(
            claims.model_dump(exclude_none=True),
            self._secret,
            algorithm=ALGORITHM,
            headers={"kid": key_id(self._secret)},
        )
        return token, claims

    def decode(self, token: str) -> Claims:
        """Check signature, algorithm and expiry; raise InvalidTokenError otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            secret = self._verifying.get(str(header.get("kid")))
            if secret is None:
                raise InvalidTokenError("unknown signing key")
            payload = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "jti", "user", "rol"]},
            )
            return Claims.model_validate(payload)
        except (jwt.PyJWTError, ValidationError) as exc:
            raise InvalidTokenError(str(exc)) from exc


class SessionGuard:
    """The full check: a well-signed token whose session is still alive in Redis."""

    def __init__(self, codec: TokenCodec, redis: Redis) -> None:
        self.codec = codec
        self.redis = redis

    async def verify(self, token: str) -> Claims:
        claims = self.codec.decode(token)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(keys.revoked_session(claims.jti))
            pipe.hget(keys.USER_DIRECTORY, claims.user)
            revoked, rol = await pipe.execute()
        if revoked:
            raise InvalidTokenError("session revoked")
        if rol is None or rol.decode() != claims.rol:
            raise InvalidTokenError("user unknown or role changed")
        return claims

    async def revoke(self, claims: Claims) -> None:
        """End a session everywhere: later checks fail and open sockets are closed."""
        ttl = max(1, claims.exp - int(time.time()))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.revoked_session(claims.jti), 1, ex=ttl)
            pipe.publish(keys.REVOCATIONS_CHANNEL, claims.jti)
            await pipe.execute()

    async def announce_user_revoked(self, usuario: str) -> None:
        """Close every open socket of `usuario` on every replica. Their tokens must already
        fail the check (the user is gone from the directory): this only ends what is open."""
        await self.redis.publish(keys.REVOCATIONS_CHANNEL, keys.user_revocation(usuario))


def revoked_user(announcement: str) -> str | None:
    """The user whose every session an announcement on the revocations channel ends, or
    None when it names one session (a jti)."""
    prefix, _, usuario = announcement.partition(keys.USER_REVOCATION_PREFIX)
    return usuario if not prefix and usuario else None

"""Settings every service reads the same way: from `SOPORTE_*` environment variables
(or files in a secrets directory), with defaults that are safe for local use only.

A production start (`SOPORTE_ENV=production`) refuses the local defaults for secrets, so
a forgotten variable stops the service instead of signing tokens with a published key.
"""

from __future__ import annotations

import os
from typing import Literal, Self
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from soporte_common.tokens import TokenCodec

# Published in the README on purpose: usable on a laptop, refused in production.
LOCAL_JWT_SECRET = "soporte-local-jwt-secret-do-not-use-in-production"
LOCAL_DATABASE_URL = "postgresql://soporte@127.0.0.1:8086/soporte"
LOCAL_REDIS_URL = "redis://127.0.0.1:8085/0"
MIN_SECRET_LENGTH = 32
DEFAULT_MAX_BODY_BYTES = 64 * 1024


class SoporteSettings(BaseSettings):
    """Base of every service's settings; each service adds its own fields."""

    model_config = SettingsConfigDict(
        env_prefix="SOPORTE_",
        # Docker/Kubernetes secret files, e.g. /run/secrets/soporte_jwt_secret
        secrets_dir="/run/secrets" if os.path.isdir("/run/secrets") else None,
        extra="ignore",
    )

    env: Literal["local", "production"] = "local"
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    # Where the service listens; the launcher and the containers pass the port.
    bind_host: str = "127.0.0.1"

    jwt_secret: SecretStr = SecretStr(LOCAL_JWT_SECRET)
    # Earlier signing keys that still verify (never sign): rotate without logging everyone out.
    jwt_previous_secrets: list[SecretStr] = Field(default_factory=list)

    redis_url: str = LOCAL_REDIS_URL
    # The browser-facing origin; WebSocket handshakes from any other Origin are refused.
    public_origin: str = "http://localhost:8080"

    @model_validator(mode="after")
    def _refuse_local_secrets_in_production(self) -> Self:
        if self.env != "production":
            return self
        problems = []
        secret = self.jwt_secret.get_secret_value()
        if secret == LOCAL_JWT_SECRET or len(secret) < MIN_SECRET_LENGTH:
            problems.append(
                f"SOPORTE_JWT_SECRET must be set to a random value of at least "
                f"{MIN_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`)"
            )
        problems.extend(self.production_problems())
        if problems:
            raise ValueError("refusing a production start: " + "; ".join(problems))
        return self

    def production_problems(self) -> list[str]:
        """Service-specific reasons to refuse a production start (override to add some)."""
        return []

    def token_codec(self) -> TokenCodec:
        """Signs with the current key; also verifies with the previous ones (rotation)."""
        return TokenCodec(
            self.jwt_secret.get_secret_value(),
            [s.get_secret_value() for s in self.jwt_previous_secrets],
        )

    @property
    def allowed_origins(self) -> list[str]:
        """Origins whose browsers may open a socket. Locally, localhost and 127.0.0.1 are
        the same machine, so either spelling of the public origin is accepted."""
        origins = [self.public_origin.rstrip("/")]
        if self.env == "local":
            for a, b in (("//localhost", "//127.0.0.1"), ("//127.0.0.1", "//localhost")):
                if a in origins[0]:
                    origins.append(origins[0].replace(a, b))
        return origins

    @property
    def cookie_secure(self) -> bool:
        return self.public_origin.startswith("https://")


class HttpSettings(SoporteSettings):
    """Settings of a service that answers HTTP through uvicorn (auth, history-api, pages)."""

    # Who may say who the client is (X-Forwarded-For): comma-separated addresses or
    # networks of the gateway and of every proxy in front of it. The client's address is
    # the last one in the header that is not among them; a request from anywhere else is
    # taken to come from its own address, whatever its headers say.
    trusted_proxies: str = "127.0.0.1"
    # Largest request body accepted (bytes); a larger one is refused with 413 unread.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES


class DatabaseSettings(HttpSettings):
    """Settings of a service that talks to Postgres."""

    database_url: SecretStr = SecretStr(LOCAL_DATABASE_URL)
    # The password on its own (e.g. the secret file /run/secrets/soporte_database_password,
    # the same file Postgres's POSTGRES_PASSWORD_FILE reads), for a SOPORTE_DATABASE_URL
    # without one: the URL can then live in plain configuration.
    database_password: SecretStr | None = None
    database_pool_size: int = 10

    @model_validator(mode="after")
    def _add_database_password(self) -> Self:
        if self.database_password is not None:
            self.database_url = SecretStr(
                with_password(
                    self.database_url.get_secret_value(), self.database_password.get_secret_value()
                )
            )
        return self

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if without_password(self.database_url.get_secret_value()) == LOCAL_DATABASE_URL:
            problems.append("SOPORTE_DATABASE_URL must point at the production database")
        return problems


def with_password(url: str, password: str) -> str:
    """`url` with `password` added, unless the URL already carries one (which then wins)."""
    parts = urlsplit(url)
    if parts.password is not None or not parts.username:
        return url
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}:{quote(password.strip(), safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}@{host}"))

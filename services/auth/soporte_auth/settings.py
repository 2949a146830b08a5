from __future__ import annotations

from pydantic import SecretStr

from soporte_auth.secretbox import SecretBox
from soporte_common.settings import DatabaseSettings

LOCAL_ADMIN_PASSWORD = "soporte-admin"


class AuthSettings(DatabaseSettings):
    token_ttl_seconds: int = 8 * 3600
    # A website visitor's token (the widget exchanges its credential or identity for a
    # new one when it ends): short, since it lives in a page script's memory.
    visitor_token_ttl_seconds: int = 3600

    # The first agent account, created on the first start if it does not exist yet.
    admin_user: str = "admin"
    admin_nombre: str = "Equipo de soporte"
    admin_password: SecretStr = SecretStr(LOCAL_ADMIN_PASSWORD)

    # A customer to try things with; created only in local mode.
    demo_user: str = "cliente"
    demo_password: SecretStr = SecretStr("soporte-cliente")

    # Registrations, logins and visitor creations per client address per minute, across
    # every replica; more are refused with 429 and Retry-After.
    auth_rate_per_minute: int = 30
    # Login attempts for one username from one address before that address must wait
    # `login_lockout_seconds` (guessing passwords is slow on purpose; the real user, from
    # another address, is not locked out by it).
    login_failures_allowed: int = 10
    # Attempts for one username from every address together before it pauses for every
    # address that has not logged in as that user lately (a guessing botnet).
    login_failures_allowed_per_user: int = 100
    login_lockout_seconds: int = 300
    # Password hashes (argon2, CPU- and memory-hard) computed at once by this process, and
    # at once for one client address: a flood from one address waits its own turn.
    hash_threads: int = 2
    hashes_per_address: int = 1
    # Every answer within this many seconds: 503 when Redis or Postgres stalls.
    request_deadline_seconds: float = 5.0
    # Each Redis command and Postgres query gives up after this long.
    dependency_timeout_seconds: float = 2.0

    def secret_box(self) -> SecretBox:
        """Seals the sites' identity secrets under a key derived from the JWT secret (and
        opens what the previous ones sealed)."""
        return SecretBox(
            self.jwt_secret.get_secret_value(),
            [s.get_secret_value() for s in self.jwt_previous_secrets],
        )

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.admin_password.get_secret_value() == LOCAL_ADMIN_PASSWORD:
            problems.append(
                "SOPORTE_ADMIN_PASSWORD must be set (the first agent account's password)"
            )
        return problems

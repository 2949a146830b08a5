from __future__ import annotations

from pydantic import SecretStr

from soporte_common.settings import DatabaseSettings

LOCAL_ADMIN_PASSWORD = "soporte-admin"


class AuthSettings(DatabaseSettings):
    token_ttl_seconds: int = 8 * 3600

    # The first agent account, created on the first start if it does not exist yet.
    admin_user: str = "admin"
    admin_nombre: str = "Equipo de soporte"
    admin_password: SecretStr = SecretStr(LOCAL_ADMIN_PASSWORD)

    # A customer to try things with; created only in local mode.
    demo_user: str = "cliente"
    demo_password: SecretStr = SecretStr("soporte-cliente")

    # Failed logins per username before a pause (guessing passwords is slow on purpose).
    login_failures_allowed: int = 10
    login_lockout_seconds: int = 300

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.admin_password.get_secret_value() == LOCAL_ADMIN_PASSWORD:
            problems.append(
                "SOPORTE_ADMIN_PASSWORD must be set (the first agent account's password)"
            )
        return problems

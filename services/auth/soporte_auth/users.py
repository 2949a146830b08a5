"""Accounts: the `usuarios` table (the truth) and the Redis user directory (a copy every
other service reads to check roles and recipients without touching Postgres).

history-api erases customers (their `usuarios` row included: docs/operations.md, "Privacy
requests"). While an erasure runs, and for a while after, the user's tombstone
(keys.erased) is in Redis: the directory never gets that user back from here, so a login
racing the erasure cannot bring back an account that is being erased."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from soporte_auth.passwords import hash_password
from soporte_common import audit, keys
from soporte_common.contract import AuditAction
from soporte_common.logging import get_logger
from soporte_common.retrying import retry_forever
from soporte_common.tokens import Rol

log = get_logger(__name__)

# Redis or Postgres away: the directory is synced once they are back.
DIRECTORY_SYNC_ERRORS = (RedisError, OSError, asyncpg.PostgresError)

# KEYS: the directory, the user's erasure tombstone. ARGV: usuario, rol. 0: being erased.
_PUBLISH = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


@dataclass(frozen=True)
class User:
    usuario: str
    nombre: str
    rol: Rol
    password_hash: str


class UserStore:
    def __init__(self, db: asyncpg.Pool, redis: Redis) -> None:
        self.db = db
        self.redis = redis
        self._publish = redis.register_script(_PUBLISH)

    async def get(self, usuario: str) -> User | None:
        row = await self.db.fetchrow(
            "SELECT usuario, nombre, rol, password_hash FROM usuarios WHERE usuario = $1",
            usuario,
        )
        return User(**row) if row else None

    async def create(self, usuario: str, nombre: str, rol: Rol, password_hash: str) -> bool:
        """Insert a user; False if the username is taken. The directory follows."""
        created = await self.db.fetchval(
            """INSERT INTO usuarios (usuario, nombre, rol, password_hash)
               VALUES ($1, $2, $3, $4) ON CONFLICT (usuario) DO NOTHING RETURNING true""",
            usuario,
            nombre,
            rol,
            password_hash,
        )
        if created:
            await self.publish(usuario, rol)
        return bool(created)

    async def ensure(self, usuario: str, nombre: str, rol: Rol, password: str) -> bool:
        """Create the account unless the username exists (an existing account, its password
        included, is left as it is). True if it was created now. An operator made it (the
        first agent, `create-admin`): an agent's creation goes to the audit trail."""
        if await self.get(usuario) is not None:
            return False
        password_hash = await asyncio.to_thread(hash_password, password)
        created = await self.create(usuario, nombre, rol, password_hash)
        if created:
            log.info("account created", usuario=usuario, rol=rol)
            if rol == "admin":
                await audit.record(self.redis, None, AuditAction.AGENT_CREATED, usuario)
        return created

    async def set_password_hash(self, usuario: str, password_hash: str) -> None:
        await self.db.execute(
            "UPDATE usuarios SET password_hash = $2 WHERE usuario = $1", usuario, password_hash
        )

    async def publish(self, usuario: str, rol: Rol) -> bool:
        """Put the user in the directory; False (and nothing changed) while they are being
        erased."""
        published = await self._publish(
            keys=[keys.USER_DIRECTORY, keys.erased(usuario)], args=[usuario, rol]
        )
        return bool(published)

    async def being_erased(self, usuario: str) -> bool:
        return bool(await self.redis.exists(keys.erased(usuario)))

    async def sync_directory(self) -> int:
        """Copy every account's role to the directory (after Redis lost its data)."""
        rows = await self.db.fetch("SELECT usuario, rol FROM usuarios")
        async with self.redis.pipeline(transaction=True) as pipe:
            for row in rows:
                pipe.hset(keys.USER_DIRECTORY, row["usuario"], row["rol"])
            pipe.set(keys.USER_DIRECTORY_SYNCED, 1)
            await pipe.execute()
        return len(rows)

    async def keep_directory_synced(self, every_seconds: float = 5.0) -> None:
        """Background task: resync whenever the marker is gone (Redis restarted empty)."""
        while True:
            await retry_forever(
                "syncing the user directory", self._sync_if_lost, errors=DIRECTORY_SYNC_ERRORS
            )
            await asyncio.sleep(every_seconds)

    async def _sync_if_lost(self) -> None:
        if not await self.redis.exists(keys.USER_DIRECTORY_SYNCED):
            count = await self.sync_directory()
            log.info("user directory synced", users=count)

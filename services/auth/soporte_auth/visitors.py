"""Website visitors: customer accounts (`usuarios`, rol user) the widget creates, with their
`visitantes` row. An anonymous visitor is created by its first message and holds a
long-lived credential (the widget keeps it in its own storage; only its SHA-256 is
stored here). A verified visitor is the site's user `sub`: one account per site and `sub`,
found again from any device, its name and email kept as the company last signed them.

Anonymous and verified visitors are different accounts, never merged: an anonymous thread
written on a shared computer must not join the account of whoever signs in there next.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from soporte_auth.identity import Identity
from soporte_auth.passwords import NO_PASSWORD
from soporte_auth.users import UserStore

USERNAME_PREFIX = "v-"


@dataclass(frozen=True)
class Visitor:
    usuario: str
    nombre: str
    sitio: str
    verificado: bool
    email: str | None = None
    credencial: str | None = None  # an anonymous visitor's, when just created


def new_username() -> str:
    return USERNAME_PREFIX + secrets.token_hex(8)


def anonymous_name(usuario: str) -> str:
    return f"Visitante {usuario.removeprefix(USERNAME_PREFIX)[:4]}"


def credential_digest(credencial: str) -> bytes:
    return hashlib.sha256(credencial.encode()).digest()


class _Taken(Exception):
    """Another request created the same verified visitor first."""


class VisitorStore:
    def __init__(self, db: asyncpg.Pool, users: UserStore) -> None:
        self.db = db
        self.users = users

    async def create_anonymous(self, sitio: str) -> Visitor:
        credencial = secrets.token_urlsafe(32)
        while True:  # a random username taken already (by anyone): draw another
            usuario = new_username()
            nombre = anonymous_name(usuario)
            async with self.db.acquire() as conn, conn.transaction():
                if not await self._insert_account(conn, usuario, nombre):
                    continue
                await conn.execute(
                    "INSERT INTO visitantes (usuario, sitio, credencial) VALUES ($1, $2, $3)",
                    usuario,
                    sitio,
                    credential_digest(credencial),
                )
            await self.users.publish(usuario, "user")
            return Visitor(usuario, nombre, sitio, verificado=False, credencial=credencial)

    async def by_credential(self, sitio: str, credencial: str) -> Visitor | None:
        row = await self.db.fetchrow(
            """SELECT v.usuario, u.nombre FROM visitantes v JOIN usuarios u USING (usuario)
               WHERE v.credencial = $1 AND v.sitio = $2""",
            credential_digest(credencial),
            sitio,
        )
        if row is None:
            return None
        return Visitor(row["usuario"], row["nombre"], sitio, verificado=False)

    async def verified(
        self, sitio: str, identity: Identity, nombre: str, *, create: bool
    ) -> Visitor | None:
        """The site's user `identity.sub` (name and email brought up to date), created if
        `create`; None when it does not exist and is not to be created."""
        found = await self._update_verified(sitio, identity, nombre)
        if found is not None or not create:
            return found
        try:
            return await self._create_verified(sitio, identity, nombre)
        except _Taken:  # two first messages at once (two devices): the other one made it
            return await self._update_verified(sitio, identity, nombre)

    async def _update_verified(self, sitio: str, identity: Identity, nombre: str) -> Visitor | None:
        async with self.db.acquire() as conn, conn.transaction():
            usuario = await conn.fetchval(
                """UPDATE visitantes SET email = $3 WHERE sitio = $1 AND sub = $2
                   RETURNING usuario""",
                sitio,
                identity.sub,
                identity.email,
            )
            if usuario is None:
                return None
            await conn.execute(
                "UPDATE usuarios SET nombre = $2 WHERE usuario = $1 AND nombre <> $2",
                usuario,
                nombre,
            )
        await self.users.publish(usuario, "user")  # heals the directory if Redis lost it
        return Visitor(usuario, nombre, sitio, verificado=True, email=identity.email)

    async def _create_verified(self, sitio: str, identity: Identity, nombre: str) -> Visitor:
        while True:
            usuario = new_username()
            async with self.db.acquire() as conn, conn.transaction():
                if not await self._insert_account(conn, usuario, nombre):
                    continue
                inserted = await conn.fetchval(
                    """INSERT INTO visitantes (usuario, sitio, sub, email)
                       VALUES ($1, $2, $3, $4) ON CONFLICT (sitio, sub) DO NOTHING
                       RETURNING true""",
                    usuario,
                    sitio,
                    identity.sub,
                    identity.email,
                )
                if not inserted:
                    raise _Taken  # rolls the account back
            await self.users.publish(usuario, "user")
            return Visitor(usuario, nombre, sitio, verificado=True, email=identity.email)

    @staticmethod
    async def _insert_account(conn: PoolConnectionProxy, usuario: str, nombre: str) -> bool:
        created = await conn.fetchval(
            """INSERT INTO usuarios (usuario, nombre, rol, password_hash)
               VALUES ($1, $2, 'user', $3) ON CONFLICT (usuario) DO NOTHING RETURNING true""",
            usuario,
            nombre,
            NO_PASSWORD,
        )
        return bool(created)

"""The website widget's sites: the `sitios` table (the truth) and its Redis copy (key →
name and origins, never the secret), which the pages server reads to set each site's
`frame-ancestors` and realtime to check the pages visitors report.

Operators manage sites with the CLI (`soporte-auth create-site`, `list-sites`,
`delete-site`, `rotate-site-secret`); the copy follows every change, and is rebuilt
whenever Redis comes back without it (its marker, like the user directory's).
"""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

import asyncpg
from redis.asyncio import Redis

from soporte_auth.secretbox import SecretBox
from soporte_auth.users import DIRECTORY_SYNC_ERRORS
from soporte_common import audit, keys
from soporte_common.contract import AuditAction
from soporte_common.logging import get_logger
from soporte_common.retrying import retry_forever
from soporte_common.sites import Site, normalise_origin
from soporte_common.text import clean_display_name

log = get_logger(__name__)

# Identities live at most a day: after a rotation the previous secret verifies that long.
PREVIOUS_SECRET_GRACE: Final = timedelta(hours=24)


@dataclass(frozen=True)
class SiteRecord:
    sitio: str
    nombre: str
    origenes: list[str]
    creado: datetime


SITE_KEY_ALPHABET: Final = string.ascii_letters + string.digits
SITE_KEY_LENGTH: Final = 16  # ~95 bits


def new_site_key() -> str:
    """A key for a new site, within SITE_KEY_PATTERN. Letters and digits only: a key that
    began with "-" would read as an option to the site commands (`delete-site -abc`)."""
    return "".join(secrets.choice(SITE_KEY_ALPHABET) for _ in range(SITE_KEY_LENGTH))


def new_identity_secret() -> str:
    return secrets.token_urlsafe(32)


def clean_origins(origins: Sequence[str]) -> list[str]:
    """The origins as browsers send them, each once, or ValueError saying which is wrong."""
    cleaned = [normalise_origin(o) for o in origins]
    if not cleaned:
        raise ValueError("a site needs at least one origin")
    return list(dict.fromkeys(cleaned))


def default_name(origins: Sequence[str]) -> str:
    return urlsplit(origins[0]).netloc


class SiteStore:
    def __init__(self, db: asyncpg.Pool, redis: Redis, box: SecretBox) -> None:
        self.db = db
        self.redis = redis
        self.box = box

    async def create(self, origins: Sequence[str], nombre: str | None = None) -> tuple[str, str]:
        """A new site: (its key, its identity secret). The secret is shown this once."""
        cleaned = clean_origins(origins)
        name = clean_display_name(nombre or default_name(cleaned))
        key, secret = new_site_key(), new_identity_secret()
        await self.db.execute(
            "INSERT INTO sitios (sitio, nombre, origenes, secreto) VALUES ($1, $2, $3, $4)",
            key,
            name,
            cleaned,
            self.box.seal(secret),
        )
        await self.publish(key, Site(nombre=name, origenes=cleaned))
        log.info("site created", sitio=key, origenes=cleaned)
        # An operator made it (`create-site`): on the audit trail, as an agent's creation is.
        await audit.record(
            self.redis, None, AuditAction.SITE_CREATED, key, {"nombre": name, "origenes": cleaned}
        )
        return key, secret

    async def all(self) -> list[SiteRecord]:
        rows = await self.db.fetch(
            "SELECT sitio, nombre, origenes, creado FROM sitios ORDER BY creado, sitio"
        )
        return [SiteRecord(**row) for row in rows]

    async def get(self, key: str) -> SiteRecord | None:
        row = await self.db.fetchrow(
            "SELECT sitio, nombre, origenes, creado FROM sitios WHERE sitio = $1", key
        )
        return SiteRecord(**row) if row else None

    async def delete(self, key: str) -> bool:
        """The site goes (its widget stops loading); its visitors and their conversations
        stay, as any customer's do."""
        deleted = await self.db.fetchval("DELETE FROM sitios WHERE sitio = $1 RETURNING true", key)
        await self.redis.hdel(keys.SITES, key)
        return bool(deleted)

    async def rotate(self, key: str) -> str | None:
        """A new identity secret for the site (None: no such site); the previous one keeps
        verifying for PREVIOUS_SECRET_GRACE, while the company's backend switches."""
        new = new_identity_secret()
        rotated = await self.db.fetchval(
            """UPDATE sitios SET secreto_anterior = secreto, secreto = $2, rotado = now()
               WHERE sitio = $1 RETURNING true""",
            key,
            self.box.seal(new),
        )
        return new if rotated else None

    async def identity_secrets(self, key: str) -> list[str] | None:
        """The secrets an identity for the site may be signed with (the current one, and
        the previous one within its grace), or None when there is no such site."""
        row = await self.db.fetchrow(
            "SELECT secreto, secreto_anterior, rotado FROM sitios WHERE sitio = $1", key
        )
        if row is None:
            return None
        found = [self.box.open(row["secreto"])]
        previous, rotated = row["secreto_anterior"], row["rotado"]
        if previous and rotated and datetime.now(UTC) - rotated < PREVIOUS_SECRET_GRACE:
            found.append(self.box.open(previous))
        return found

    async def reseal(self) -> int:
        """Seals again, under the current JWT key, the secrets sealed under a previous one
        (after a key rotation); returns how many."""
        rows = await self.db.fetch("SELECT sitio, secreto, secreto_anterior FROM sitios")
        count = 0
        for row in rows:
            stale = [row["secreto"], row["secreto_anterior"]]
            if all(value is None or self.box.is_current(value) for value in stale):
                continue
            current, previous = (
                self.box.seal(self.box.open(value)) if value else None for value in stale
            )
            await self.db.execute(
                "UPDATE sitios SET secreto = $2, secreto_anterior = $3 WHERE sitio = $1",
                row["sitio"],
                current,
                previous,
            )
            count += 1
        if count:
            log.info("identity secrets sealed again under the current key", sitios=count)
        return count

    async def publish(self, key: str, site: Site) -> None:
        await self.redis.hset(keys.SITES, key, site.model_dump_json())

    async def sync_copy(self) -> int:
        """Rebuild the Redis copy from the table (deleted sites leave it too)."""
        rows = await self.db.fetch("SELECT sitio, nombre, origenes FROM sitios")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.SITES)
            for row in rows:
                site = Site(nombre=row["nombre"], origenes=row["origenes"])
                pipe.hset(keys.SITES, row["sitio"], site.model_dump_json())
            pipe.set(keys.SITES_SYNCED, 1)
            await pipe.execute()
        return len(rows)

    async def keep_copy_synced(self, every_seconds: float = 5.0) -> None:
        """Background task: rebuild the copy whenever its marker is gone."""
        while True:
            await retry_forever(
                "syncing the sites' copy", self._sync_if_lost, errors=DIRECTORY_SYNC_ERRORS
            )
            await asyncio.sleep(every_seconds)

    async def _sync_if_lost(self) -> None:
        if not await self.redis.exists(keys.SITES_SYNCED):
            count = await self.sync_copy()
            log.info("sites copied to Redis", sitios=count)

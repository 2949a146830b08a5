"""The website widget's shared data in Redis: the sites (auth writes the copy of its
`sitios` table; the pages server and realtime read it) and the page each visitor is on
(realtime writes it; history-api reads it for the agents' list).

Origins are compared exactly as browsers send them: `scheme://host[:port]`, lower case,
no path, no default port.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from soporte_common import keys

# Site keys are random (soporte-auth create-site): letters, digits, `_`, `-`.
SITE_KEY_PATTERN: Final = r"^[A-Za-z0-9_-]{8,64}$"
# What a visitor's page report may hold.
PAGE_URL_MAX: Final = 2048
PAGE_TITLE_MAX: Final = 200
PAGE_TTL_SECONDS: Final = 24 * 3600
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class Site(BaseModel):
    """A site as the Redis copy holds it: never its identity secret."""

    nombre: str
    origenes: list[str]


class VisitorPage(BaseModel):
    """The page of the company's site a visitor last reported, and when."""

    url: str
    titulo: str
    fecha: str


def normalise_origin(value: str) -> str:
    """`value` as the `Origin` a browser sends for it, or ValueError: http(s), a host, an
    optional port, and nothing else (no path, query, user or fragment)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an origin: {value!r} (expected http(s)://host[:port])")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"not an origin: {value!r} (no path, query or user)")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not an origin: {value!r} (bad port)") from exc
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def origin_of_url(url: str) -> str | None:
    """The origin of a page's URL, or None if it is not an http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        return normalise_origin(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}")
    except ValueError:
        return None


async def site(redis: Redis, key: str) -> Site | None:
    """The site `key` from the Redis copy, or None when there is no such site."""
    raw = await redis.hget(keys.SITES, key)
    if raw is None:
        return None
    try:
        return Site.model_validate_json(raw)
    except ValidationError:
        return None


async def save_page(redis: Redis, usuario: str, page: VisitorPage) -> None:
    await redis.set(keys.visitor_page(usuario), page.model_dump_json(), ex=PAGE_TTL_SECONDS)


async def pages(redis: Redis, usuarios: Sequence[str]) -> dict[str, VisitorPage]:
    """The pages the given visitors last reported (those who reported none are absent)."""
    if not usuarios:
        return {}
    raws = await redis.mget([keys.visitor_page(u) for u in usuarios])
    found: dict[str, VisitorPage] = {}
    for usuario, raw in zip(usuarios, raws, strict=True):
        if raw is not None:
            try:
                found[usuario] = VisitorPage.model_validate_json(raw)
            except ValidationError:
                continue
    return found


async def forget_page(redis: Redis, usuario: str) -> None:
    """For erasure (issue 15): the visitor's page report goes with the rest."""
    await redis.delete(keys.visitor_page(usuario))

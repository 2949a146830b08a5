"""Website visitors in the agents' list: each visitor's conversation says its site, whether
the company vouched for who it is, the email, and the page it is on; the list filters by
site. (Auth writes visitors, realtime the pages: here they are written as those do.)"""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from soporte_common.sites import VisitorPage, save_page

from .conftest import account, as_user, say

pytestmark = pytest.mark.integration


async def visitor(
    db: asyncpg.Pool, usuario: str, sitio: str, *, sub: str | None = None, email: str | None = None
) -> None:
    await db.execute(
        "INSERT INTO usuarios (usuario, nombre, rol, password_hash) VALUES ($1, $1, 'user', '!')"
        " ON CONFLICT DO NOTHING",
        usuario,
    )
    await db.execute(
        "INSERT INTO visitantes (usuario, sitio, sub, email, credencial)"
        " VALUES ($1, $2, $3, $4, $5)",
        usuario,
        sitio,
        sub,
        email,
        None if sub else usuario.encode(),
    )


async def site(db: asyncpg.Pool, sitio: str, nombre: str) -> None:
    await db.execute(
        "INSERT INTO sitios (sitio, nombre, origenes, secreto) VALUES ($1, $2, $3, 'sellado')",
        sitio,
        nombre,
        [f"https://{nombre}"],
    )


async def test_the_list_shows_each_visitors_site_identity_and_page_and_filters_by_site(
    client: httpx.AsyncClient, redis: Redis, db: asyncpg.Pool
) -> None:
    maria = await account(redis, "maria", "admin")
    await site(db, "sitio-tienda", "tienda.example.com")
    await site(db, "sitio-blog", "blog.example.com")
    await visitor(db, "v-anonimo", "sitio-tienda")
    await visitor(db, "v-verificada", "sitio-tienda", sub="42", email="ana@example.com")
    await visitor(db, "v-blog", "sitio-blog")
    page = VisitorPage(url="https://tienda.example.com/carrito", titulo="Carrito", fecha="x")
    await save_page(redis, "v-verificada", page)
    for usuario in ("v-anonimo", "v-verificada", "v-blog", "ana"):
        await say(redis, usuario, "hola")

    async def listed(**params: str) -> dict[str, dict[str, object]]:
        answer = await client.get(
            "/api/usuarios-conversaciones", params=params, headers=as_user(maria)
        )
        assert answer.status_code == 200, answer.text
        return {c["usuario"]: c for c in answer.json()["conversaciones"]}

    for _ in range(100):  # the consumer stores them (reads wait until it has)
        everyone = await listed()
        if len(everyone) == 4:
            break
    assert everyone["ana"]["visitante"] is None  # a registered customer
    assert everyone["v-anonimo"]["visitante"] == {
        "sitio": "sitio-tienda",
        "sitio_nombre": "tienda.example.com",
        "verificado": False,
        "email": None,
        "pagina": None,
    }
    assert everyone["v-verificada"]["visitante"] == {
        "sitio": "sitio-tienda",
        "sitio_nombre": "tienda.example.com",
        "verificado": True,
        "email": "ana@example.com",
        "pagina": {"url": "https://tienda.example.com/carrito", "titulo": "Carrito", "fecha": "x"},
    }
    assert set(await listed(sitio="sitio-tienda")) == {"v-anonimo", "v-verificada"}
    assert set(await listed(sitio="sitio-blog")) == {"v-blog"}
    assert await listed(sitio="sitio-ninguno") == {}
    bad = await client.get(
        "/api/usuarios-conversaciones", params={"sitio": "a b"}, headers=as_user(maria)
    )
    assert bad.status_code == 422
    # A deleted site: its visitors' conversations stay, named by key.
    await db.execute("DELETE FROM sitios WHERE sitio = 'sitio-blog'")
    blog = (await listed(sitio="sitio-blog"))["v-blog"]["visitante"]
    assert blog["sitio_nombre"] is None  # type: ignore[index]

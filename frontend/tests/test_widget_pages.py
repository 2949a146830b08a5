"""The website widget's pages, against a real Redis holding the sites' copy auth writes:
the loader, whether a page may show the widget, and the chat only its site may frame."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from starlette.testclient import TestClient

from soporte_common import keys
from soporte_common.settings import HttpSettings
from soporte_frontend.app import create_app
from soporte_stack.testing import RunningStack

pytestmark = pytest.mark.integration

SHOP = "https://shop.example.com"


@pytest.fixture
def site(infra: RunningStack) -> Iterator[str]:
    key = uuid.uuid4().hex[:16]
    store = redis.Redis.from_url(infra.redis_url)
    store.hset(keys.SITES, key, f'{{"nombre": "Tienda", "origenes": ["{SHOP}"]}}')
    yield key
    store.hdel(keys.SITES, key)
    store.close()


@pytest.fixture
def client(infra: RunningStack) -> Iterator[TestClient]:
    with TestClient(create_app(HttpSettings(redis_url=infra.redis_url))) as test_client:
        yield test_client


def test_the_loader_is_a_small_script_anyone_may_load(client: TestClient) -> None:
    plain = client.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("text/javascript")
    assert int(plain.headers["content-length"]) < 10 * 1024
    compressed = client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["content-encoding"] == "gzip"
    assert int(compressed.headers["content-length"]) < 4 * 1024
    assert compressed.content == plain.content  # the client decompressed it


def test_only_the_sites_own_pages_are_told_to_show_the_widget(
    client: TestClient, site: str
) -> None:
    ok = client.get("/widget/sitio", params={"site": site}, headers={"Origin": SHOP})
    assert ok.status_code == 200
    assert ok.json() == {"sitio": site, "nombre": "Tienda"}
    assert ok.headers["access-control-allow-origin"] == "*"
    elsewhere = client.get(
        "/widget/sitio", params={"site": site}, headers={"Origin": "https://evil.example"}
    )
    assert (elsewhere.status_code, elsewhere.json()["codigo"]) == (403, "origen_no_registrado")
    unknown = client.get("/widget/sitio", params={"site": "nadie-tiene-este"})
    assert (unknown.status_code, unknown.json()["codigo"]) == (404, "sitio_desconocido")


def test_only_the_sites_origins_may_frame_the_chat(client: TestClient, site: str) -> None:
    chat = client.get("/widget/chat", params={"site": site, "lang": "en"})
    assert chat.status_code == 200
    policy = chat.headers["content-security-policy"]
    assert policy.count("frame-ancestors") == 1
    assert f"frame-ancestors {SHOP}" in policy
    assert "script-src 'self'" in policy
    assert "x-frame-options" not in chat.headers
    assert '<html lang="en">' in chat.text
    # Every other page keeps refusing to be framed.
    page = client.get("/soporte")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert client.get("/widget/chat", params={"site": "nadie-tiene-este"}).status_code == 404


def test_the_chat_page_escapes_what_it_is_given(client: TestClient, site: str) -> None:
    chat = client.get("/widget/chat", params={"site": site, "lang": '"><script>'})
    assert "<script>" not in chat.text.split("</head>")[1]
    assert '<html lang="es">' in chat.text

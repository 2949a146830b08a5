"""The page server: both pages, the vendored client, and the security headers."""

import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from soporte_common.contract import browser_tables
from soporte_frontend.app import STATIC, create_app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        yield c


async def test_pages_and_assets_are_served_with_a_strict_policy(client: httpx.AsyncClient) -> None:
    for path in (
        "/",
        "/soporte",
        "/informes",
        "/auditoria",
        "/static/js/soporte.js",
        "/static/js/informes.js",
        "/static/js/auditoria.js",
        "/static/vendor/socket.io.min.js",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_client_modules_are_checked_again_on_every_load(
    client: httpx.AsyncClient,
) -> None:
    """Many modules make one client: none may come from an older version in the cache."""
    for path in ("/static/js/soporte.js", "/static/js/data/conversations.js"):
        response = await client.get(path)
        assert response.headers["cache-control"] == "no-cache", path
        etag = response.headers["etag"]
        unchanged = await client.get(path, headers={"If-None-Match": etag})
        assert unchanged.status_code == 304
        assert unchanged.headers["cache-control"] == "no-cache"


async def test_the_pages_load_no_inline_script_and_nothing_from_other_origins(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/", "/soporte", "/informes", "/auditoria"):
        html = (await client.get(path)).text
        assert "<script>" not in html
        assert "http://" not in html
        assert "https://" not in html


async def test_readiness_needs_the_vendored_socketio_client(client: httpx.AsyncClient) -> None:
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_metrics_and_request_ids_like_every_service(client: httpx.AsyncClient) -> None:
    await client.get("/soporte")
    metrics = (await client.get("/metrics")).text
    assert 'soporte_http_request_duration_seconds_count{method="GET",route="/soporte"' in metrics
    tagged = await client.get("/", headers={"X-Request-ID": "trace-123"})
    assert tagged.headers["x-request-id"] == "trace-123"


async def test_the_browser_reads_the_same_contract_tables_as_the_services(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The module the pages import, evaluated by a real JavaScript engine, holds exactly the
    tables of soporte_common.contract: a refusal text changed there changes in the browser."""
    response = await client.get("/static/js/contract.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    module = tmp_path / "contract.mjs"
    module.write_text(response.text)
    printed = subprocess.run(  # noqa: ASYNC221 - a short node run in a test
        [
            "node",
            "--input-type=module",
            "-e",
            f"import * as c from {json.dumps(module.as_uri())}; console.log(JSON.stringify(c));",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(printed) == browser_tables()
    assert json.loads(printed)["CONNECT_REFUSALS"]["BAD_TOKEN"] == "Token inválido"


def test_the_data_modules_contract_words_are_the_contracts() -> None:
    """The data modules load without the served contract (node tests them as they are), so
    they spell the default `tipo` and the conversation statuses themselves: they must be
    the contract's."""
    module = STATIC / "js" / "data" / "conversations.js"
    printed = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            f"import {{ MESSAGE, STATUS }} from {json.dumps(module.as_uri())};"
            " console.log(JSON.stringify({MESSAGE, STATUS}));",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tables = browser_tables()
    entry_types = tables["ENTRY_TYPES"]
    assert isinstance(entry_types, dict)
    spelled = json.loads(printed)
    assert spelled["MESSAGE"] == entry_types["MESSAGE"]
    assert spelled["STATUS"] == tables["CONVERSATION_STATES"]


async def test_unknown_paths_and_wrong_methods_get_the_contracts_json(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/no-existe")
    assert (missing.status_code, missing.json()["codigo"]) == (404, "no_encontrado")
    assert (await client.get("/static/no-existe.js")).json()["codigo"] == "no_encontrado"
    wrong = await client.post("/soporte")
    assert (wrong.status_code, wrong.json()["codigo"]) == (405, "metodo_no_permitido")


async def test_the_gateways_own_refusals_are_the_contracts_json(
    client: httpx.AsyncClient,
) -> None:
    """gateway/dynamic.yml's `errors` middleware fetches these for what Traefik refuses."""
    crowded = await client.get("/_error/429")
    assert crowded.status_code == 429
    assert crowded.json() == {
        "error": "Demasiadas conexiones abiertas desde tu dirección; cierra alguna e inténtalo"
        " de nuevo",
        "codigo": "demasiadas_conexiones",
    }
    assert crowded.headers["retry-after"]
    for status in (502, 503, 504):
        down = await client.get(f"/_error/{status}")
        assert (down.status_code, down.json()["codigo"]) == (status, "no_disponible")


async def test_request_bodies_are_limited(client: httpx.AsyncClient) -> None:
    assert (await client.post("/", content=b"x" * 100_000)).status_code == 413

"""`/api/auth/openapi.json` describes every answer of every endpoint (no servers needed:
the document is served without the lifespan)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from soporte_auth.app import create_app
from soporte_auth.settings import AuthSettings


@pytest.fixture(scope="module")
async def document() -> dict[str, Any]:
    transport = httpx.ASGITransport(app=create_app(AuthSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        response = await http.get("/api/auth/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def schema(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """The named schema a JSON response refers to."""
    ref = response["content"]["application/json"]["schema"]["$ref"]
    named: dict[str, Any] = document["components"]["schemas"][ref.rpartition("/")[2]]
    return named


def test_the_document_lists_the_auth_endpoints_and_their_answers(
    document: dict[str, Any],
) -> None:
    answers = {key: set(op["responses"]) for key, op in operations(document).items()}
    assert answers == {
        ("post", "/api/auth/register"): {"201", "409", "422", "429", "503"},
        ("post", "/api/auth/login"): {"200", "401", "422", "429", "503"},
        ("post", "/api/auth/logout"): {"204", "503"},
        ("get", "/api/auth/me"): {"200", "401", "503"},
        ("post", "/api/auth/visitantes"): {"201", "401", "404", "422", "429", "503"},
        ("post", "/api/auth/visitantes/sesion"): {"200", "401", "404", "422", "503"},
        ("get", "/api/auth/sitios"): {"200", "401", "403"},
    }


ACCOUNT_ANSWERS = {
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("get", "/api/auth/me"),
}
VISITOR_ANSWERS = {("post", "/api/auth/visitantes"), ("post", "/api/auth/visitantes/sesion")}


def test_every_account_answer_names_the_accounts_fields(document: dict[str, Any]) -> None:
    for (method, path), operation in operations(document).items():
        for status, response in operation["responses"].items():
            if status == "204":  # logout answers with no body at all
                assert "content" not in response, (method, path)
            elif status.startswith("2") and (method, path) in ACCOUNT_ANSWERS:
                account = schema(document, response)
                assert list(account["properties"]) == ["usuario", "nombre", "rol"], path
                assert account["properties"]["rol"]["enum"] == ["admin", "user"]


def test_a_visitors_answer_names_its_token_and_who_it_is(document: dict[str, Any]) -> None:
    for key in VISITOR_ANSWERS:
        answers = operations(document)[key]["responses"]
        ok = next(status for status in answers if status.startswith("2"))
        visitor = schema(document, answers[ok])
        assert list(visitor["properties"]) == [
            "usuario",
            "nombre",
            "token",
            "expira",
            "credencial",
            "verificado",
            "email",
        ], key


def test_every_error_answer_is_the_contracts_error_shape(document: dict[str, Any]) -> None:
    for (method, path), operation in operations(document).items():
        for status, response in operation["responses"].items():
            if status[0] not in "45":
                continue
            required = {"error", "codigo", "detalles"} if status == "422" else {"error", "codigo"}
            assert set(schema(document, response)["required"]) == required, (method, path)

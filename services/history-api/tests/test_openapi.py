"""The OpenAPI document describes every answer of every endpoint: no servers needed."""

from __future__ import annotations

from typing import Any

import pytest

from soporte_history.app import create_app
from soporte_history.settings import HistorySettings

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(HistorySettings()).openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def schema_of(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """The named schema a JSON response refers to."""
    ref = response["content"]["application/json"]["schema"]["$ref"]
    name = ref.removeprefix("#/components/schemas/")
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


PART_ONE = {
    ("get", "/api/mensajes/mios"),
    ("get", "/api/mensajes"),
    ("get", "/api/usuarios-conversaciones"),
    ("post", "/api/mensajes/leidos"),
}


def test_the_document_lists_the_history_endpoints(document: dict[str, Any]) -> None:
    assert {(m, p) for m, p, _ in operations(document)} == PART_ONE | {
        ("get", "/api/usuarios-conversaciones/recuento"),
        ("get", "/api/respuestas"),
        ("post", "/api/respuestas"),
        ("put", "/api/respuestas/{reply_id}"),
        ("delete", "/api/respuestas/{reply_id}"),
        ("get", "/api/buscar"),
        ("get", "/api/informes"),
        ("get", "/api/soporte/tiempo-respuesta"),
        ("get", "/api/agentes"),
        ("get", "/api/usuarios/{usuario}/exportar"),
        ("get", "/api/mensajes/mios/exportar"),
        ("delete", "/api/usuarios/{usuario}"),
        ("get", "/api/auditoria"),
        ("get", "/api/mensajes/visto"),
    }


def test_every_200_response_has_a_schema_with_its_fields(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        responses = operation["responses"]
        if "204" in responses:  # answers with no body at all
            assert "content" not in responses["204"], (method, path)
            assert "200" not in responses, (method, path)
            continue
        answer = responses.get("200") or responses["201"]
        if answer["content"]["application/json"]["schema"].get("type") == "array":
            items = answer["content"]["application/json"]["schema"]["items"]
            answer = {"content": {"application/json": {"schema": items}}}
        schema = schema_of(document, answer)
        assert schema["type"] == "object", (method, path)
        assert schema["properties"], (method, path)


def test_the_200_schemas_name_the_contracts_fields(document: dict[str, Any]) -> None:
    page = schema_of(document, document["paths"]["/api/mensajes/mios"]["get"]["responses"]["200"])
    assert list(page["properties"]) == [
        "mensajes",
        "hay_anteriores",
        "hay_siguientes",
        "leido_hasta",
    ]
    listed = document["paths"]["/api/usuarios-conversaciones"]["get"]["responses"]["200"]
    assert list(schema_of(document, listed)["properties"]) == ["conversaciones", "hay_mas"]
    summary = document["components"]["schemas"]["ConversationSummary"]
    assert list(summary["properties"]) == [
        "usuario",
        "nombre",
        "ultimo_id",
        "ultimo_de",
        "ultimo_mensaje",
        "fecha",
        "no_leidos",
        "estado",
        "asignado",
        "pospuesta_hasta",
        "visitante",
    ]


def test_the_audit_trail_and_the_export_name_the_contracts_fields(
    document: dict[str, Any],
) -> None:
    trail = document["paths"]["/api/auditoria"]["get"]["responses"]["200"]
    assert list(schema_of(document, trail)["properties"]) == ["eventos", "hay_mas"]
    event = document["components"]["schemas"]["AuditEvent"]
    assert list(event["properties"])[:5] == ["id", "fecha", "agente", "accion", "objetivo"]
    exported = document["paths"]["/api/usuarios/{usuario}/exportar"]["get"]["responses"]["200"]
    assert {"usuario", "cuenta", "mensajes", "lecturas"} <= set(
        schema_of(document, exported)["properties"]
    )


def test_every_error_response_is_the_contracts_error_shape(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        if (method, path) in PART_ONE:
            assert {"401", "422", "503"} <= set(errors), (method, path)
        assert "401" in errors, (method, path)
        for status, response in errors.items():
            schema = schema_of(document, response)
            required = {"error", "codigo", "detalles"} if status == "422" else {"error", "codigo"}
            assert set(schema["required"]) == required, (method, path, status)

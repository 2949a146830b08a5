"""The contract's tables and the one error shape every HTTP service answers with."""

from http import HTTPStatus

from soporte_common.contract import (
    ERROR_TEXTS,
    REJECT_TEXTS,
    ErrorCode,
    RejectCode,
    browser_tables,
    reject_text,
)
from soporte_common.errors import error_body
from soporte_common.web import ApiError


def test_every_code_has_a_text() -> None:
    assert set(REJECT_TEXTS) == set(RejectCode)
    assert set(ERROR_TEXTS) == set(ErrorCode)


def test_the_limit_is_written_into_the_too_long_text() -> None:
    assert reject_text(RejectCode.TOO_LONG, max_length=123) == (
        "El mensaje supera el máximo de 123 caracteres"
    )


def test_framework_errors_get_the_contracts_text_not_an_english_phrase() -> None:
    assert error_body(404, HTTPStatus(404).phrase) == {
        "error": "No encontrado",
        "codigo": "no_encontrado",
    }
    assert error_body(405, "Method Not Allowed")["codigo"] == "metodo_no_permitido"
    assert error_body(418, None) == {
        "error": ERROR_TEXTS[ErrorCode.INTERNAL],
        "codigo": "error_interno",
    }


def test_an_api_error_keeps_its_precise_text_and_its_code() -> None:
    error = ApiError(403, ErrorCode.FORBIDDEN, "Solo puedes marcar tu propia conversación")
    assert error_body(error.status_code, error.detail, error.code) == {
        "error": "Solo puedes marcar tu propia conversación",
        "codigo": "prohibido",
    }


def test_the_browser_tables_are_plain_json_data() -> None:
    tables = browser_tables()
    assert tables["EVENTS"]["SEND_MESSAGE"] == "mensaje_privado"  # type: ignore[index]
    assert tables["REJECT_TEXTS"]["ritmo"] == REJECT_TEXTS[RejectCode.RATE]  # type: ignore[index]


def test_a_proxy_status_gets_a_code_and_text_too() -> None:
    assert error_body(429, "Too Many Requests")["codigo"] == "demasiadas_peticiones"
    for status in (502, 503, 504):
        assert error_body(status, None)["codigo"] == "no_disponible", status

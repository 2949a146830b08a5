"""Pure logic of the realtime service (no servers)."""

import orjson
import pytest

from soporte_common.tokens import Claims
from soporte_realtime.bus import STREAM_HOST_ID, emit_payload, rooms_for
from soporte_realtime.handlers import HandshakeRefusedError, handshake_token


def claims(user: str, rol: str) -> Claims:
    return Claims(user=user, nombre=user, rol=rol, iat=0, exp=1, jti="j")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("environ", "auth", "expected"),
    [
        ({}, None, "No autenticado"),
        ({"HTTP_COOKIE": ""}, None, "No autenticado"),
        ({"HTTP_COOKIE": "tema=oscuro"}, None, "Token no proporcionado"),
        ({"HTTP_COOKIE": "token="}, None, "Token no proporcionado"),
    ],
)
def test_handshake_refusals_use_the_original_texts(
    environ: dict[str, str], auth: object, expected: str
) -> None:
    with pytest.raises(HandshakeRefusedError, match=expected):
        handshake_token(environ, auth)


def test_the_token_comes_from_the_cookie_or_the_auth_payload() -> None:
    assert handshake_token({"HTTP_COOKIE": "a=1; token=abc; b=2"}, None) == "abc"
    assert handshake_token({}, {"token": "xyz"}) == "xyz"
    assert handshake_token({"HTTP_COOKIE": "token=abc"}, {"token": ""}) == "abc"


def test_a_customer_message_goes_to_support_every_agent_and_the_senders_tabs() -> None:
    assert rooms_for(claims("ana", "user"), "admin") == ["user:admin", "admins", "user:ana"]


def test_an_agent_reply_goes_to_the_customer_and_every_agent() -> None:
    assert rooms_for(claims("maria", "admin"), "ana") == ["user:ana", "admins"]


def test_the_emit_payload_takes_the_stream_id_where_the_placeholder_was() -> None:
    message = {
        "id": "\x00",
        "de": "ana",
        "para": "admin",
        "mensaje": 'dice "hola" \\ ñ',
        "fecha": "2026-11-26T10:00:00.000Z",
    }
    head, tail = emit_payload(["user:admin", "admins"], message)
    published = orjson.loads(head + b'"1764120000000-7"' + tail)
    assert published["data"] == [{**message, "id": "1764120000000-7"}]
    assert published["host_id"] == STREAM_HOST_ID
    assert published["room"] == ["user:admin", "admins"]
    assert published["method"] == "emit"
    assert published["event"] == "mensaje_recibido"

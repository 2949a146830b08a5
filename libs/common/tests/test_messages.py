import re
from datetime import UTC, datetime, timedelta

import pytest

from soporte_common.contract import ConversationStatus
from soporte_common.entries import AssignmentEntry, NoteEntry, StatusEntry
from soporte_common.messages import (
    EntryFields,
    MessageRejectedError,
    StreamEntry,
    db_id_to_stream,
    now_iso,
    parse_send_request,
    stream_id_to_db,
)


def rejected(payload: object, max_length: int = 4000) -> str:
    with pytest.raises(MessageRejectedError) as info:
        parse_send_request(payload, max_length=max_length)
    return info.value.code


def test_a_valid_request_is_parsed() -> None:
    request = parse_send_request(
        {"para": "admin", "mensaje": "hola", "cid": "c-1"}, max_length=4000
    )
    assert (request.para, request.mensaje, request.cid) == ("admin", "hola", "c-1")


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "hola",
        42,
        [],
        {"para": "admin"},
        {"mensaje": "x"},
        {"para": 1, "mensaje": "x"},
        {"para": "admin", "mensaje": ["x"]},
        {"para": "admin", "mensaje": "x", "cid": 5},
    ],
)
def test_malformed_payloads_are_refused_as_invalid(payload: object) -> None:
    assert rejected(payload) == "invalido"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_messages_are_refused(text: str) -> None:
    assert rejected({"para": "admin", "mensaje": text}) == "vacio"


@pytest.mark.parametrize(
    "text",
    ["\u3164", "\u200b\u200b", " \u2060 \ufeff ", "\u115f\u1160", "\u2800", "\u200e\u200f"],
)
def test_messages_of_only_invisible_characters_are_empty(text: str) -> None:
    assert rejected({"para": "admin", "mensaje": text}) == "vacio"


@pytest.mark.parametrize("text", ["\u3164hola", "a\u200bb", "🙂", "ñ", "\u2800⠁"])
def test_invisible_characters_beside_visible_ones_are_fine(text: str) -> None:
    assert parse_send_request({"para": "admin", "mensaje": text}, max_length=4000).mensaje == text


def test_the_length_limit_counts_characters_and_names_the_limit() -> None:
    parse_send_request({"para": "admin", "mensaje": "ñ" * 4000}, max_length=4000)
    with pytest.raises(MessageRejectedError) as info:
        parse_send_request({"para": "admin", "mensaje": "ñ" * 4001}, max_length=4000)
    assert info.value.code == "demasiado_largo"
    assert "4000" in info.value.text


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "\ud800 lone surrogate", "\x9b"])
def test_control_characters_and_surrogates_are_refused(text: str) -> None:
    assert rejected({"para": "admin", "mensaje": text}) == "caracteres"


def test_html_and_bidi_overrides_are_ordinary_text() -> None:
    text = "<img src=x onerror=alert(1)> \u202egnp.exe"
    assert parse_send_request({"para": "admin", "mensaje": text}, max_length=4000).mensaje == text


@pytest.mark.parametrize("para", ["", "Admin", "user:bob", "a" * 40, "bob smith"])
def test_recipient_must_look_like_a_username(para: str) -> None:
    assert rejected({"para": para, "mensaje": "x"}) == "destinatario"


def test_message_ids_fold_into_bigints_in_acceptance_order() -> None:
    ids = ["1764120000000-0", "1764120000000-9", "1764120000000-10", "1764120000001-0"]
    folded = [stream_id_to_db(i) for i in ids]
    assert folded == sorted(folded)
    assert [db_id_to_stream(n) for n in folded] == ids
    for bad in ["", "12", "a-b", "1-2-3", "-1", "1-1000000"]:
        with pytest.raises(ValueError, match="not a message id"):
            stream_id_to_db(bad)


def test_stream_entry_round_trips_through_redis_fields() -> None:
    entry = StreamEntry(
        de="ana",
        nombre="Ana",
        para="admin",
        conversacion="ana",
        mensaje="hola",
        fecha="2026-11-26T10:00:00.000Z",
    )
    pairs = entry.fields()
    raw = {pairs[i].encode(): pairs[i + 1].encode() for i in range(0, len(pairs), 2)}
    assert StreamEntry.from_redis(raw) == entry
    assert raw[b"tipo"] == b"mensaje"


def test_an_entry_written_before_tipo_existed_is_a_message() -> None:
    raw = {
        b"de": b"ana",
        b"nombre": b"Ana",
        b"para": b"admin",
        b"conversacion": b"ana",
        b"mensaje": b"hola",
        b"fecha": b"2026-11-26T10:00:00.000Z",
    }
    assert StreamEntry.from_redis(raw).tipo == "mensaje"


def test_the_server_time_is_utc_iso_with_milliseconds_and_the_clocks() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = now_iso()
    after = datetime.now(UTC)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    assert before <= datetime.fromisoformat(stamp) <= after + timedelta(milliseconds=1)


@pytest.mark.parametrize(
    "entry",
    [
        StreamEntry(
            de="ana", nombre="Ana", para="admin", conversacion="ana", mensaje="m", fecha="f"
        ),
        NoteEntry(de="maria", nombre="María", conversacion="ana", mensaje="n", fecha="f"),
        StatusEntry(
            de="",
            conversacion="ana",
            estado=ConversationStatus.SNOOZED,
            anterior="abierta",
            asignado="maria",
            hasta="h",
            fecha="f",
        ),
        AssignmentEntry(de="maria", conversacion="ana", asignado="", anterior="x", fecha="f"),
    ],
)
def test_an_entry_is_written_as_its_json_fields(entry: EntryFields) -> None:
    expected: list[str] = []
    for name, value in entry.model_dump(mode="json").items():
        expected += [name, value]
    assert entry.fields() == expected

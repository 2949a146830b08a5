"""Pure logic of history-api: no servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import HTTPException

from soporte_common.contract import EntryType
from soporte_common.messages import StreamEntry
from soporte_history.projections import PROJECTIONS, parse_entries
from soporte_history.queries import iso, like_escape
from soporte_history.routes import PageQuery, _key, page_query
from soporte_history.schemas import LoggedMessage, MessagePage
from soporte_history.storage import MessageRow, insert_messages
from soporte_history.stream_status import StreamStatus, entry_id_key, is_settled

ENTRY = StreamEntry(
    de="ana",
    nombre="Ana",
    para="admin",
    conversacion="ana",
    mensaje="hola",
    fecha="2026-11-26T10:00:00.123Z",
)
ENTRY_FECHA = datetime(2026, 11, 26, 10, 0, 0, 123000, tzinfo=UTC)


def raw(entry: StreamEntry = ENTRY, **override: str | bytes) -> dict[bytes, bytes]:
    fields: dict[str, str | bytes] = {**entry.model_dump(), **override}
    return {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in fields.items()}


def status(last_delivered: str, oldest_pending: str | None) -> StreamStatus:
    return StreamStatus(
        length=10,
        pending=0 if oldest_pending is None else 1,
        last_generated="99-0",
        last_delivered=last_delivered,
        oldest_pending=oldest_pending,
    )


def test_stream_ids_order_numerically_not_as_text() -> None:
    assert entry_id_key("10-0") > entry_id_key("9-99")
    assert entry_id_key("5-10") > entry_id_key("5-9")
    assert entry_id_key("7") == (7, 0)
    assert sorted(["10-0", "9-99", "9-100", "0-0"], key=entry_id_key) == [
        "0-0",
        "9-99",
        "9-100",
        "10-0",
    ]


@pytest.mark.parametrize(
    ("last_delivered", "oldest_pending", "settled"),
    [
        ("50-0", None, True),  # delivered up to the target and nothing pending
        ("60-3", None, True),  # delivered past it
        ("49-9", None, False),  # the target itself was not delivered yet
        ("50-0", "50-0", False),  # delivered but not stored: pending
        ("60-0", "12-0", False),  # an older entry is still pending (e.g. a dead consumer)
        ("60-0", "50-1", True),  # only entries accepted after the target are pending
        ("100-0", "9-0", False),  # numeric order: 9-0 is older than 50-0
    ],
)
def test_settled_means_delivered_up_to_the_target_and_none_of_it_pending(
    last_delivered: str, oldest_pending: str | None, settled: bool
) -> None:
    assert is_settled(status(last_delivered, oldest_pending), (50, 0)) is settled


def test_well_formed_entries_become_rows_keyed_by_their_folded_id() -> None:
    batch, rejected = parse_entries([(b"1764120000000-3", raw())])
    assert rejected == []
    [row] = [item.row for item in batch]
    assert row.id == 1_764_120_000_000_000_003
    assert row.entry == ENTRY
    assert row.fecha == datetime(2026, 11, 26, 10, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    "fields",
    [
        {b"de": b"ana", b"mensaje": b"hola"},  # fields missing
        raw(fecha="ayer"),  # not a timestamp
        raw(mensaje=b"\xff\xfe"),  # not UTF-8
    ],
    ids=["missing-fields", "bad-fecha", "not-utf8"],
)
def test_malformed_entries_are_rejected_whole(fields: dict[bytes, bytes]) -> None:
    batch, rejected = parse_entries([(b"1-0", raw()), (b"2-0", fields), (b"3-0", raw())])
    assert [item.row.id for item in batch] == [1_000_000, 3_000_000]
    assert rejected == [(b"2-0", fields)]


def test_an_id_that_does_not_fold_into_the_key_is_rejected() -> None:
    batch, rejected = parse_entries([(b"5-1000000", raw())])
    assert batch == []
    assert rejected == [(b"5-1000000", raw())]


def test_entries_deleted_while_pending_are_neither_stored_nor_dead_lettered() -> None:
    # Redis 6.2: XREADGROUP re-reads them with no fields, XAUTOCLAIM without even the id.
    assert parse_entries([(b"1-0", {}), (b"2-0", {})]) == ([], [])


def without(fields: dict[bytes, bytes], name: bytes) -> dict[bytes, bytes]:
    return {k: v for k, v in fields.items() if k != name}


def test_an_entry_without_tipo_is_projected_as_a_message() -> None:
    # Written before entries carried `tipo` (still pending in a stream after an upgrade).
    fields = without(raw(), b"tipo")
    batch, rejected = parse_entries([(b"1764120000000-3", fields)])
    assert rejected == []
    [item] = batch
    assert item.tipo is EntryType.MESSAGE
    assert item.row == MessageRow(1_764_120_000_000_000_003, ENTRY, ENTRY_FECHA)
    assert item.fields == fields  # kept as read, for the dead-letter stream


def test_a_message_entry_is_projected_by_the_message_projection() -> None:
    batch, rejected = parse_entries([(b"7-1", raw(tipo="mensaje"))])
    assert rejected == []
    [item] = batch
    assert item.tipo is EntryType.MESSAGE
    assert item.row == MessageRow(7_000_001, ENTRY, ENTRY_FECHA)
    assert PROJECTIONS[item.tipo].write is insert_messages


@pytest.mark.parametrize("tipo", [b"nota-desconocida", b"", b"MENSAJE"])
def test_an_entry_of_an_unknown_type_is_rejected_whole_and_the_rest_is_projected(
    tipo: bytes,
) -> None:
    unknown = raw(tipo=tipo)
    batch, rejected = parse_entries([(b"1-0", raw()), (b"2-0", unknown), (b"3-0", raw())])
    assert [item.row.id for item in batch] == [1_000_000, 3_000_000]
    assert rejected == [(b"2-0", unknown)]


def test_every_entry_type_of_the_contract_has_a_projection() -> None:
    assert set(PROJECTIONS) == set(EntryType)


def test_message_shape_is_the_contracts() -> None:
    message = LoggedMessage(
        id="1-0", de="ana", para="admin", mensaje="hola", fecha="2026-11-26T10:00:00.123Z"
    )
    assert list(message.model_dump()) == ["tipo", "id", "de", "para", "mensaje", "fecha"]


def test_like_escape_makes_wildcards_literal() -> None:
    assert like_escape("ana") == "ana"
    assert like_escape("100%") == "100\\%"
    assert like_escape("a_b") == "a\\_b"
    assert like_escape("c:\\x") == "c:\\\\x"
    assert like_escape("\\%_") == "\\\\\\%\\_"


def test_timestamps_are_iso_utc_with_milliseconds() -> None:
    value = datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=UTC)
    assert iso(value) == "2026-11-26T10:00:00.123Z"


def test_a_page_body_is_messages_two_flags_and_a_read_mark() -> None:
    message = LoggedMessage(
        id="1-0", de="ana", para="admin", mensaje="hola", fecha="2026-11-26T10:00:00.123Z"
    )
    body = MessagePage(mensajes=[message], hay_anteriores=True, hay_siguientes=False)
    assert body.model_dump(mode="json") == {
        "mensajes": [
            {
                "tipo": "mensaje",
                "id": "1-0",
                "de": "ana",
                "para": "admin",
                "mensaje": "hola",
                "fecha": "2026-11-26T10:00:00.123Z",
            }
        ],
        "hay_anteriores": True,
        "hay_siguientes": False,
        "leido_hasta": None,  # the customer's own conversation only (routes.own_conversation)
    }


def test_paging_takes_before_or_after_as_keys_not_both() -> None:
    assert page_query(limit=10, before="1764120000000-3", after=None) == PageQuery(
        limit=10, before=1_764_120_000_000_000_003, after=None
    )
    assert page_query(limit=10, before=None, after="2-0").after == 2_000_000
    with pytest.raises(HTTPException) as refused:
        page_query(limit=10, before="2-0", after="1-0")
    assert refused.value.status_code == 400


@pytest.mark.parametrize(
    "value", ["x", "1-", "1-1000000", "9223372036855-0", "999999999999999-999999"]
)
def test_ids_that_are_no_key_are_422(value: str) -> None:
    with pytest.raises(HTTPException) as refused:
        _key(value, "before")
    assert (refused.value.status_code, refused.value.detail) == (
        422,
        "before no es un id de mensaje",
    )


def test_the_largest_id_that_fits_is_accepted() -> None:
    assert _key("9223372036854-775807", "hasta") == 2**63 - 1

"""The message schema every service agrees on: what a client may send, what the stream
holds, what clients receive and the history API returns, and how message ids map.

A message's id is the id Redis gave its stream entry (`<ms>-<seq>`): unique, assigned in
the order messages were accepted, and known before anyone receives the message. Postgres
keys rows by the same id folded into one bigint (`ms * 1_000_000 + seq`), so ordering by
the column is ordering by acceptance.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from soporte_common.contract import EntryType, RejectCode, reject_text
from soporte_common.text import has_forbidden_text_chars, is_blank, is_valid_username

DEFAULT_MAX_MESSAGE_LENGTH = 4000
_SEQ_FACTOR = 1_000_000
BIGINT_MAX = 2**63 - 1  # the largest key Postgres stores


class MessageRejectedError(Exception):
    """A send that is refused: the sender gets {ok: false, error, codigo}."""

    def __init__(
        self,
        code: RejectCode,
        *,
        max_length: int = DEFAULT_MAX_MESSAGE_LENGTH,
        text: str | None = None,
    ) -> None:
        """`text`, when given, says more precisely what was wrong than the code's default."""
        self.code = code
        self.text = text or reject_text(code, max_length=max_length)
        super().__init__(self.text)

    def ack(self) -> dict[str, object]:
        return {"ok": False, "error": self.text, "codigo": self.code.value}


class SendRequest(BaseModel):
    """A validated `mensaje_privado` payload."""

    para: str
    mensaje: str
    cid: str | None = None  # optional client id: a retried send is stored once


def parse_send_request(payload: object, *, max_length: int) -> SendRequest:
    """Validate a client's `mensaje_privado` payload or raise MessageRejectedError."""
    if not isinstance(payload, dict):
        raise MessageRejectedError(RejectCode.INVALID)
    para, mensaje, cid = payload.get("para"), payload.get("mensaje"), payload.get("cid")
    if not isinstance(para, str) or not isinstance(mensaje, str):
        raise MessageRejectedError(RejectCode.INVALID)
    check_client_id(cid)
    check_text(mensaje, max_length=max_length)
    if not is_valid_username(para):
        raise MessageRejectedError(RejectCode.RECIPIENT)
    return SendRequest(para=para, mensaje=mensaje, cid=cid)


def check_client_id(cid: object) -> None:
    """An optional client id: absent, or 1-64 ASCII characters."""
    if cid is not None and not (isinstance(cid, str) and 0 < len(cid) <= 64 and cid.isascii()):
        raise MessageRejectedError(RejectCode.INVALID)


def check_text(mensaje: str, *, max_length: int) -> None:
    """What any text people write must be (a message, a note): not empty, not too long,
    no control characters."""
    if not mensaje.strip():
        raise MessageRejectedError(RejectCode.EMPTY)
    if len(mensaje) > max_length:
        raise MessageRejectedError(RejectCode.TOO_LONG, max_length=max_length)
    if has_forbidden_text_chars(mensaje):
        raise MessageRejectedError(RejectCode.CHARACTERS)
    if is_blank(mensaje):  # only characters that draw nothing (U+200B, U+3164...)
        raise MessageRejectedError(RejectCode.EMPTY)


class EntryFields(BaseModel):
    """A stream entry's fields (the id is the entry's own id)."""

    def fields(self) -> list[str]:
        """Flattened field/value pairs, in the order XADD takes them (every field is text
        or a StrEnum; those marked `exclude` are not written)."""
        out: list[str] = []
        for name in _written_fields(type(self)):
            out += (name, str(getattr(self, name)))
        return out


@cache
def _written_fields(entry: type[EntryFields]) -> tuple[str, ...]:
    return tuple(name for name, info in entry.model_fields.items() if not info.exclude)


class StreamEntry(EntryFields):
    """The fields of a `mensajes` stream entry that is a message. Entries written before
    `tipo` existed have none: they are messages. (The other types: soporte_common.entries.)"""

    tipo: Literal[EntryType.MESSAGE] = EntryType.MESSAGE
    de: str
    nombre: str  # the sender's display name, for the agents' conversation list
    para: str
    conversacion: str  # the customer whose conversation this is
    mensaje: str
    fecha: str
    # Added by the accept script (never sent from Python) to an agent's first message of a
    # support cycle: the id of the entry that opened the cycle (first response time).
    ciclo: str = Field("", exclude=True)

    @classmethod
    def from_redis(cls, fields: dict[bytes, bytes]) -> StreamEntry:
        return cls.model_validate({k.decode(): v.decode() for k, v in fields.items()})


def now_iso() -> str:
    """The server timestamp messages carry: ISO 8601, UTC, millisecond precision
    (`2026-11-26T10:00:00.123Z`). Every accepted message takes one: the text up to the
    second is made once a second."""
    now = time.time()
    second = int(now)
    return f"{_iso_second(second)}.{int((now - second) * 1000):03d}Z"


@lru_cache(maxsize=1)
def _iso_second(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def stream_id_to_db(message_id: str) -> int:
    """`1764120000000-3` -> 1764120000000000003; raises ValueError on anything else,
    including well-formed ids whose key would not fit Postgres's bigint."""
    ms, sep, seq = message_id.partition("-")
    if not sep or not ms.isdigit() or not seq.isdigit() or int(seq) >= _SEQ_FACTOR:
        raise ValueError(f"not a message id: {message_id!r}")
    key = int(ms) * _SEQ_FACTOR + int(seq)
    if key > BIGINT_MAX:
        raise ValueError(f"not a message id: {message_id!r} is past the bigint range")
    return key


def db_id_to_stream(value: int) -> str:
    ms, seq = divmod(value, _SEQ_FACTOR)
    return f"{ms}-{seq}"

"""Pure logic of the realtime service (no servers)."""

import asyncio
from unittest import mock

import orjson
import pytest
from aiohttp import WSMsgType
from aiohttp.http import WebSocketWriter
from engineio import packet as eio_packet
from socketio import packet as socketio_packet

from soporte_common.contract import Event
from soporte_common.emits import decode_emit, emit_data, encode_emit
from soporte_common.messages import MessageRejectedError, StreamEntry
from soporte_common.tokens import Claims
from soporte_realtime.accept_script import (
    ACCEPT_SCRIPT,
    AcceptCall,
    AcceptOutcome,
    AcceptResult,
    Writer,
)
from soporte_realtime.channel import emit_payload
from soporte_realtime.conversation_lua import (
    UPDATE_HEAD,
    UPDATE_TAIL,
    AutoAssign,
    ConversationContext,
    WorkflowConfig,
)
from soporte_realtime.frames import CoalescingTransport, FrameFlusher, text_frame
from soporte_realtime.handlers import HandshakeRefusedError, handshake_token
from soporte_realtime.quiet_timer import QuietTimer
from soporte_realtime.replica import OrjsonForSocketIO
from soporte_realtime.routing import (
    conversation_of,
    rooms_for,
    rooms_joined,
    route_message,
    route_typing,
)
from soporte_realtime.server import EngineServer, FramedPacket, Outbox
from soporte_realtime.signals import TypingLimiter, parse_typing
from soporte_realtime.websocket_session import write_queued


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


def test_every_socket_joins_its_users_room_and_its_sides_room() -> None:
    assert rooms_joined(claims("ana", "user")) == ["user:ana", "clientes"]
    assert rooms_joined(claims("maria", "admin")) == ["user:maria", "admins"]


def test_conversation_is_named_after_the_customer() -> None:
    assert conversation_of("ana", "user", "admin") == "ana"
    assert conversation_of("maria", "admin", "ana") == "ana"


def test_customers_write_to_the_team_and_agents_to_a_customer_the_script_checks() -> None:
    customer = route_message(claims("ana", "user"), "admin")
    assert (customer.conversation, customer.must_be_customer) == ("ana", None)
    agent = route_message(claims("maria", "admin"), "ana")
    assert (agent.conversation, agent.must_be_customer) == ("ana", "ana")
    with pytest.raises(MessageRejectedError) as not_allowed:
        route_message(claims("ana", "user"), "bob")
    assert not_allowed.value.code == "no_permitido"
    with pytest.raises(MessageRejectedError) as team:
        route_message(claims("maria", "admin"), "admin")
    assert team.value.code == "destinatario"


def test_the_emit_payload_takes_the_stream_id_where_the_placeholder_was() -> None:
    message = {
        "id": "\x00",
        "de": "ana",
        "para": "admin",
        "mensaje": 'dice "hola" \\ ñ',
        "fecha": "2026-11-26T10:00:00.000Z",
    }
    head, tail = emit_payload(Event.MESSAGE_RECEIVED, ["user:admin", "admins"], message, "s1")
    published = decode_emit(head + b'"1764120000000-7"' + tail)
    assert published is not None
    assert emit_data(published) == {**message, "id": "1764120000000-7"}
    assert published.rooms == ["user:admin", "admins"]
    assert published.skip_sid == "s1"
    assert published.event == "mensaje_recibido"


def test_the_accept_script_binds_each_named_field_to_its_position() -> None:
    entry = StreamEntry(
        de="ana", nombre="Ana", para="admin", conversacion="ana", mensaje="hola", fecha="f"
    )
    config = WorkflowConfig(auto_assign=AutoAssign.ROUND_ROBIN, max_open_per_agent=3)
    call = AcceptCall(
        context=config.context("f"),
        erased="e",
        send_rate="r",
        client_id="c",
        rate_limit=5,
        rate_window_ms=1000,
        must_be_customer="",
        client_id_ttl=0,
        emit_head=b"h",
        emit_tail=b"t",
        rooms="user:admin\nadmins\nuser:ana",
        sender_replica="r1",
        sender_rooms="\nuser:ana\nclientes\n",
        conversation="ana",
        writer=Writer.CUSTOMER,
        entry=entry,
    )
    shared = ConversationContext.names("KEYS")
    assert call.keys()[: len(shared)] == [
        "mensajes",
        "soporte:usuarios",
        "soporte:pospuestas",
        "soporte:cola",
        "soporte:carga",
        "soporte:presencia",
        "soporte:ultima-asignacion",
    ]
    assert call.keys()[len(shared) :] == ["e", "r", "c"]
    context_args = len(ConversationContext.names("ARGV"))
    assert call.args()[:context_args] == ["socketio", UPDATE_HEAD, UPDATE_TAIL, 1, 3, "f"]
    assert call.args()[context_args : context_args + 10] == [
        5,
        1000,
        "",
        0,
        b"h",
        b"t",
        "user:admin\nadmins\nuser:ana",
        "r1",
        "\nuser:ana\nclientes\n",
        "ana",
    ]
    assert call.args()[context_args + 10] == "cliente"
    assert call.args()[context_args + 11 :] == entry.fields()
    assert "local erased = KEYS[8]" in ACCEPT_SCRIPT
    assert "local send_rate = KEYS[9]" in ACCEPT_SCRIPT
    assert "local must_be_customer = ARGV[9]" in ACCEPT_SCRIPT
    assert "local sender_rooms = ARGV[15]" in ACCEPT_SCRIPT
    assert "unpack(ARGV, 18)" in ACCEPT_SCRIPT


def test_conversation_updates_are_emitted_to_the_agents_through_the_channel() -> None:
    data = {"usuario": "ana", "estado": "abierta", "asignado": None, "id": "1-0"}
    published = decode_emit(UPDATE_HEAD + orjson.dumps(data) + UPDATE_TAIL)
    assert published is not None
    assert published.event == "conversacion_actualizada"
    assert emit_data(published) == data
    assert published.rooms == ["admins"]
    assert published.skip_sid is None


def test_the_accept_scripts_answers_become_typed_outcomes() -> None:
    assert AcceptResult.from_script([b"ok", b"1-0 f"]) == AcceptResult(AcceptOutcome.OK, "1-0", "f")
    repeated = AcceptResult.from_script([b"repetido", b"1-0 2026-11-26T10:00:00.000Z"])
    assert repeated == AcceptResult(AcceptOutcome.REPEATED, "1-0", "2026-11-26T10:00:00.000Z")
    assert AcceptResult.from_script([b"ritmo"]).outcome is AcceptOutcome.RATE
    assert AcceptResult.from_script([b"destinatario"]).outcome is AcceptOutcome.RECIPIENT


def test_typing_goes_to_the_other_side_as_the_team_and_to_agents_by_name() -> None:
    customer = route_typing(claims("ana", "user"), None)
    assert (customer.conversation, customer.emits) == ("ana", [(["admins"], "ana")])
    assert customer.must_be_customer is None
    agent = route_typing(claims("maria", "admin"), "ana")
    assert agent.emits == [(["user:ana"], "admin"), (["admins"], "maria")]
    assert agent.must_be_customer == "ana"
    with pytest.raises(MessageRejectedError) as refused:
        route_typing(claims("ana", "user"), "bea")
    assert refused.value.code == "no_permitido"
    with pytest.raises(MessageRejectedError) as refused:
        route_typing(claims("maria", "admin"), None)
    assert refused.value.code == "conversacion"


def test_the_typing_limit_lets_one_signal_per_socket_through_each_interval() -> None:
    now = [100.0]
    limiter = TypingLimiter(1.0, clock=lambda: now[0])
    assert limiter.allow("a") and limiter.allow("b")
    assert not limiter.allow("a")
    now[0] += 0.99
    assert not limiter.allow("a")
    now[0] += 0.01
    assert limiter.allow("a")
    limiter.forget("b")
    assert limiter.allow("b")


@pytest.mark.parametrize(
    ("payload", "con", "codigo"),
    [(None, None, None), ({}, None, None), ({"con": "ana"}, "ana", None)]
    + [({"con": bad}, None, "conversacion") for bad in (5, "", "Ana", "a" * 33)]
    + [(bad, None, "invalido") for bad in ("ana", 5, ["ana"])],
)
def test_typing_payloads(payload: object, con: str | None, codigo: str | None) -> None:
    if codigo is None:
        assert parse_typing(payload) == con
        return
    with pytest.raises(MessageRejectedError) as refused:
        parse_typing(payload)
    assert refused.value.code == codigo


class RecordingTransport(asyncio.Transport):
    """Records what is written to it, as the TCP transport would send it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing


async def test_silence_ends_a_session_only_while_it_waits_for_its_client() -> None:
    """A handler busy past the limit is not silence (as with a timeout around each read);
    a wait as long as the limit is, however long the session ran before."""
    limit = 0.05
    phase = "reading"

    async def session() -> str:
        nonlocal phase
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(None) as deadline:
                with QuietTimer(limit, lambda: deadline.reschedule(loop.time())) as silence:
                    for _ in range(4):  # frames now and then, each well within the limit
                        silence.start()
                        await asyncio.sleep(limit / 4)
                        silence.stop()
                    phase = "handling"  # a handler's work, four times the limit
                    await asyncio.sleep(limit * 4)
                    phase = "silent"
                    silence.start()
                    await asyncio.Event().wait()
        except TimeoutError:
            return phase
        return "never ended"

    assert await asyncio.wait_for(session(), 5) == "silent"


async def test_frames_written_within_the_linger_go_out_in_order_as_one_write() -> None:
    flusher = FrameFlusher(linger=0.01)
    tcp, other = RecordingTransport(), RecordingTransport()
    frames, others = CoalescingTransport(tcp, flusher), CoalescingTransport(other, flusher)
    for frame in (b"\x81\x01a", b"\x81\x01b"):
        frames.write(frame)
    await asyncio.sleep(0)
    others.write(b"\x81\x01x")
    frames.write(b"\x81\x01c")
    assert tcp.writes == other.writes == []  # not yet: they wait for more
    await asyncio.sleep(0.05)
    assert tcp.writes == [b"\x81\x01a\x81\x01b\x81\x01c"]
    assert other.writes == [b"\x81\x01x"]
    frames.write(b"\x81\x01d")
    await asyncio.sleep(0.05)
    assert tcp.writes[1:] == [b"\x81\x01d"]
    tcp.closing = True  # a connection closed meanwhile gets nothing more
    frames.write(b"\x81\x01e")
    await asyncio.sleep(0.05)
    assert len(tcp.writes) == 2
    assert frames.is_closing()


async def test_an_acknowledgement_goes_out_at_once_after_the_frames_before_it() -> None:
    flusher = FrameFlusher(linger=0.01)  # no await before the last part: no timer fires
    tcp, other = RecordingTransport(), RecordingTransport()
    frames, others = CoalescingTransport(tcp, flusher), CoalescingTransport(other, flusher)
    frames.write_now(b"\x81\x01k")  # an acknowledgement, nothing waiting before it
    assert tcp.writes == [b"\x81\x01k"]
    frames.write(b"\x81\x01a")  # an emit, then an acknowledgement: both now, in order
    others.write(b"\x81\x01x")
    frames.write_now(b"\x81\x01l")
    assert tcp.writes == [b"\x81\x01k", b"\x81\x01a\x81\x01l"]
    assert other.writes == []  # another socket's frames still wait for the linger
    await asyncio.sleep(0.05)  # the linger's timer: nothing of this socket's is sent twice
    assert tcp.writes == [b"\x81\x01k", b"\x81\x01a\x81\x01l"]
    assert other.writes == [b"\x81\x01x"]


def test_a_channel_emit_carries_the_packet_python_socketio_would_send(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socketio_packet.Packet, "json", OrjsonForSocketIO)
    data = {"id": "1-0", "mensaje": '¿qué tal? 👋 "x"\n', "n": [1, None]}
    emit = decode_emit(encode_emit("mensaje_recibido", ["admins"], data))
    assert emit is not None
    expected = socketio_packet.Packet(socketio_packet.EVENT, data=["mensaje_recibido", data])
    assert emit.packet == expected.encode()


def test_python_socketios_own_channel_messages_are_not_emits() -> None:
    assert decode_emit(b'{"method":"enter_room","sid":"x","room":"r"}') is None
    with pytest.raises(ValueError, match="not an emit"):
        decode_emit(b'\x1e{"room":["a"],"skip_sid":null,"event":"e"}')  # no packet
    with pytest.raises(ValueError, match="not an emit"):
        decode_emit(b'\x1e{"room":["a"]}\n2["e",{}]')  # a header without its fields


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 200_000])
async def test_an_emits_prebuilt_frame_is_the_one_aiohttp_would_write(size: int) -> None:
    payload = "4" + "ñ" * (size // 2) + "x" * (size % 2)
    tcp = RecordingTransport()
    writer = WebSocketWriter(mock.Mock(), tcp, use_mask=False)
    await writer.send_frame(payload.encode(), WSMsgType.TEXT)
    assert text_frame(payload.encode()) == b"".join(tcp.writes)
    assert FramedPacket(payload[1:]).frame == b"".join(tcp.writes)


class RecordingWebSocket:
    """What a session's writer writes to: each packet's bytes, in the order they go out."""

    idle = False

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.sent_at_once: list[bytes] = []  # without the linger (an acknowledgement)

    def write_frame(self, frame: bytes, *, at_once: bool = False) -> None:
        self.sent.append(frame)
        if at_once:
            self.sent_at_once.append(frame)

    async def send(self, message: str) -> None:
        await asyncio.sleep(0)  # aiohttp's send may wait for the connection to drain
        self.sent.append(text_frame(message.encode()))

    async def close(self) -> None:
        pass


async def test_a_frame_for_a_waiting_writer_goes_out_at_once_and_never_before_what_is_queued() -> (
    None
):
    server = EngineServer(async_mode="aiohttp")
    socket, ws = mock.Mock(closed=False, queue=Outbox()), RecordingWebSocket()
    server.sockets["s"], server.websockets["s"] = socket, ws
    writer = asyncio.create_task(write_queued(socket, ws))
    await asyncio.sleep(0)
    assert ws.idle
    server.enqueue("s", FramedPacket("a"), at_once=True)
    assert ws.sent == ws.sent_at_once == [FramedPacket("a").frame]  # written by the caller
    server.enqueue("s", eio_packet.Packet(eio_packet.MESSAGE, "b"))  # built by its writer
    server.enqueue("s", FramedPacket("c"))  # so this one waits its turn behind it
    assert len(ws.sent) == 1
    await socket.queue.put(None)
    await writer
    assert ws.sent == [FramedPacket(text).frame for text in "abc"]

"""The agents' workflow on two replicas: notes, status changes, assignments, the automatic
rules (reopen, snooze end, round robin), and what customers never receive."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import ConversationStatus
from soporte_common.tokens import Claims
from soporte_realtime.conversation_lua import AutoAssign, WorkflowConfig
from soporte_realtime.workflow import StatusRequest, Workflow
from soporte_stack.testing import eventually

from .conftest import Client, StartReplica, account, claims_of, connected

pytestmark = pytest.mark.integration

WORKFLOW_EVENTS = ("nota_recibida", "conversacion_actualizada")


async def entries(redis: Redis) -> list[dict[str, str]]:
    """The stream's entries, each with its id."""
    return [
        {"id": i.decode(), **{k.decode(): v.decode() for k, v in f.items()}}
        for i, f in await redis.xrange(keys.STREAM)
    ]


async def state(redis: Redis, usuario: str) -> dict[str, str]:
    raw = await redis.hgetall(keys.conversation_state(usuario))
    return {k.decode(): v.decode() for k, v in raw.items()}


async def load(redis: Redis) -> dict[str, int]:
    raw = await redis.hgetall(keys.AGENT_LOAD)
    return {k.decode(): int(v) for k, v in raw.items() if int(v)}


def updates(client: Client) -> list[dict[str, Any]]:
    return client.got("conversacion_actualizada")


def soon(minutes: float = 0, seconds: float = 0) -> str:
    when = datetime.now(UTC) + timedelta(minutes=minutes, seconds=seconds)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def test_a_note_reaches_every_agent_on_every_replica_and_no_customer(
    start_replica: StartReplica, clients: Any, redis: Redis
) -> None:
    one, two = await start_replica(auto_assign="off"), await start_replica(auto_assign="off")
    ana = await account(redis, "ana")
    ana_here, ana_there = await connected(clients, one, ana), await connected(clients, two, ana)
    bob = await connected(clients, two, await account(redis, "bob"))
    maria = await connected(clients, one, await account(redis, "maria", "admin"))
    maria_tab2 = await connected(clients, two, await account(redis, "maria", "admin"))
    juan = await connected(clients, two, await account(redis, "juan", "admin"))

    ack = await maria.call("nota_interna", {"con": "ana", "mensaje": "pide reembolso", "cid": "n1"})
    assert ack["ok"] is True and set(ack) == {"ok", "id", "fecha"}
    note = {"id": ack["id"], "de": "maria", "con": "ana", "mensaje": "pide reembolso"}
    note["fecha"] = ack["fecha"]
    await eventually(lambda: juan.got("nota_recibida") == [note])
    await eventually(lambda: maria_tab2.got("nota_recibida") == [note])
    assert await maria.call("nota_interna", {"con": "ana", "mensaje": "otra", "cid": "n1"}) == ack
    # A later emit on the same channel: once it arrived, the note would have too.
    reply = await maria.send("ana", "hola")
    for tab in (ana_here, ana_there):
        await eventually(lambda tab=tab: tab.log_ids() == [reply["id"]])
    await eventually(lambda: juan.log_ids() == [ack["id"], reply["id"]])
    assert maria.got("nota_recibida") == []  # the sending socket has the acknowledgement
    assert bob.log_ids() == []
    stored = await entries(redis)
    assert stored[0] == {
        "id": ack["id"],
        "tipo": "nota",
        "de": "maria",
        "nombre": "Maria",
        "conversacion": "ana",
        "mensaje": "pide reembolso",
        "fecha": ack["fecha"],
    }


async def test_customers_are_refused_every_workflow_event_and_nothing_is_stored(
    replica: str, clients: Any, redis: Redis
) -> None:
    ana = await connected(clients, replica, await account(redis, "ana"))
    await account(redis, "maria", "admin")
    for event, data in (
        ("nota_interna", {"con": "ana", "mensaje": "hola"}),
        ("cambiar_estado", {"con": "ana", "estado": "resuelta"}),
        ("asignar", {"con": "ana", "agente": "maria"}),
        ("asignar", "basura"),
    ):
        answer = await ana.call(event, data)
        assert answer["ok"] is False and answer["codigo"] == "no_permitido", event
    assert await redis.xlen(keys.STREAM) == 0
    assert ana.sio.connected


@pytest.mark.parametrize(
    ("event", "payload", "code"),
    [
        ("nota_interna", {"con": "bob", "mensaje": "x"}, "conversacion"),  # not a user
        ("nota_interna", {"con": "juan", "mensaje": "x"}, "conversacion"),  # an agent
        ("nota_interna", {"con": "ana", "mensaje": "  "}, "vacio"),
        ("nota_interna", {"con": "ana", "mensaje": "x" * 4001}, "demasiado_largo"),
        ("nota_interna", {"con": "ana"}, "invalido"),
        ("cambiar_estado", {"con": "ana", "estado": "cerrada"}, "invalido"),
        ("cambiar_estado", {"con": "ana", "estado": "pospuesta"}, "invalido"),
        ("cambiar_estado", {"con": "ana", "estado": "pospuesta", "hasta": "mañana"}, "invalido"),
        (
            "cambiar_estado",
            {"con": "ana", "estado": "pospuesta", "hasta": "2020-01-01T00:00:00Z"},
            "invalido",
        ),
        ("cambiar_estado", {"con": "ana", "estado": "resuelta", "hasta": soon(5)}, "invalido"),
        ("cambiar_estado", {"con": "juan", "estado": "resuelta"}, "conversacion"),
        ("asignar", {"con": "ana"}, "invalido"),
        ("asignar", {"con": "ana", "agente": "ana"}, "agente"),  # a customer
        ("asignar", {"con": "ana", "agente": "nadie"}, "agente"),
        ("asignar", {"con": "ana", "agente": 7}, "agente"),
        ("asignar", "basura", "invalido"),
    ],
)
async def test_bad_workflow_events_are_refused_and_change_nothing(
    replica: str, clients: Any, redis: Redis, event: str, payload: Any, code: str
) -> None:
    await account(redis, "ana")
    agent = await connected(clients, replica, await account(redis, "juan", "admin"))
    answer = await agent.call(event, payload)
    assert answer["ok"] is False and answer["codigo"] == code and answer["error"], answer
    assert await redis.xlen(keys.STREAM) == 0
    assert await state(redis, "ana") == {}


async def test_status_changes_reach_every_agent_in_order_with_the_messages(
    start_replica: StartReplica, clients: Any, redis: Redis
) -> None:
    one, two = await start_replica(auto_assign="off"), await start_replica(auto_assign="off")
    ana_token = await account(redis, "ana")
    ana, ana_there = (
        await connected(clients, one, ana_token),
        await connected(clients, two, ana_token),
    )
    maria = await connected(clients, one, await account(redis, "maria", "admin"))
    juan = await connected(clients, two, await account(redis, "juan", "admin"))
    first = await ana.send("admin", "hola")
    opened = await maria.call("cambiar_estado", {"con": "ana", "estado": "pendiente"})
    again = await maria.call("cambiar_estado", {"con": "ana", "estado": "pendiente"})
    assert again == {"ok": True, "id": None, "fecha": None}  # already so: nothing appended
    hasta = soon(minutes=30)
    snoozed = await juan.call(
        "cambiar_estado", {"con": "ana", "estado": "pospuesta", "hasta": hasta}
    )
    second = await ana.send("admin", "¿sigue ahí?")  # reopens the snoozed conversation
    log = await entries(redis)
    assert [(e["tipo"], e.get("estado"), e.get("anterior")) for e in log] == [
        ("mensaje", None, None),
        ("estado", "abierta", ""),  # a new conversation
        ("estado", "pendiente", "abierta"),
        ("estado", "pospuesta", "pendiente"),
        ("mensaje", None, None),
        ("estado", "abierta", "pospuesta"),  # after the message, in the same step
    ]
    assert [log[i]["id"] for i in (0, 2, 3, 4)] == [
        first["id"],
        opened["id"],
        snoozed["id"],
        second["id"],
    ]
    assert log[3]["hasta"] == hasta and log[3]["de"] == "juan"
    expected = [
        {"usuario": "ana", "estado": "abierta", "asignado": None, "pospuesta_hasta": None,
         "id": log[1]["id"], "por": None},
        {"usuario": "ana", "estado": "pendiente", "asignado": None, "pospuesta_hasta": None,
         "id": opened["id"], "por": "maria"},
        {"usuario": "ana", "estado": "pospuesta", "asignado": None, "pospuesta_hasta": hasta,
         "id": snoozed["id"], "por": "juan"},
        {"usuario": "ana", "estado": "abierta", "asignado": None, "pospuesta_hasta": None,
         "id": log[5]["id"], "por": None},
    ]  # fmt: skip
    for agent in (maria, juan):  # the acting agent's sockets too: the update has it all
        await eventually(lambda agent=agent: updates(agent) == expected)
        assert agent.log_ids() == [e["id"] for e in log]  # one order: the stream's
    await eventually(lambda: ana_there.log_ids() == [first["id"], second["id"]])
    for tab in (ana, ana_there):  # the customer, on either replica: only messages
        assert [e for e, _ in tab.events if e in WORKFLOW_EVENTS] == []
    assert await state(redis, "ana") == {
        "estado": "abierta",
        "asignado": "",
        "hasta": "",
        "ciclo": log[1]["id"],
        "respondida": "",
    }
    assert await redis.zcard(keys.SNOOZED) == 0


async def test_a_resolved_conversation_reopens_when_the_customer_writes_and_a_pending_one_stays(
    replica: str, clients: Any, redis: Redis
) -> None:
    ana = await connected(clients, replica, await account(redis, "ana"))
    maria = await connected(clients, replica, await account(redis, "maria", "admin"))
    await ana.send("admin", "hola")
    resolved = await maria.call("cambiar_estado", {"con": "ana", "estado": "resuelta"})
    assert resolved["ok"] and resolved["id"]
    await ana.send("admin", "una cosa más")
    assert (await state(redis, "ana"))["estado"] == "abierta"
    await maria.call("cambiar_estado", {"con": "ana", "estado": "pendiente"})
    await ana.send("admin", "aquí estoy")
    assert (await state(redis, "ana"))["estado"] == "pendiente"
    statuses = [(e["estado"], e["anterior"]) for e in await entries(redis) if e["tipo"] == "estado"]
    assert statuses == [
        ("abierta", ""),
        ("resuelta", "abierta"),
        ("abierta", "resuelta"),
        ("pendiente", "abierta"),
    ]


async def test_the_log_marks_each_cycles_first_response_and_its_resolution(
    replica: str, clients: Any, redis: Redis
) -> None:
    ana = await connected(clients, replica, await account(redis, "ana"))
    maria = await connected(clients, replica, await account(redis, "maria", "admin"))
    await ana.send("admin", "hola")
    await maria.call("nota_interna", {"con": "ana", "mensaje": "una nota no es respuesta"})
    first_reply = await maria.send("ana", "¿en qué te ayudo?")
    await maria.send("ana", "¿sigues ahí?")
    await maria.call("cambiar_estado", {"con": "ana", "estado": "resuelta"})
    await ana.send("admin", "otra vez yo")
    log = await entries(redis)
    opened = [e["id"] for e in log if e["tipo"] == "estado" and e["estado"] == "abierta"]
    marked = [(e["tipo"], e["id"], e.get("ciclo")) for e in log if e.get("ciclo")]
    assert marked == [
        ("mensaje", first_reply["id"], opened[0]),  # only the first agent message
        ("estado", next(e["id"] for e in log if e.get("estado") == "resuelta"), opened[0]),
    ]
    assert (await state(redis, "ana"))["ciclo"] == opened[1]  # a new cycle


async def test_two_agents_assigning_at_once_exactly_one_wins_and_the_other_is_told(
    start_replica: StartReplica, clients: Any, redis: Redis
) -> None:
    one, two = await start_replica(auto_assign="off"), await start_replica(auto_assign="off")
    ana = await connected(clients, one, await account(redis, "ana"))
    maria = await connected(clients, one, await account(redis, "maria", "admin"))
    juan = await connected(clients, two, await account(redis, "juan", "admin"))
    await ana.send("admin", "hola")
    for _ in range(5):  # a race, several times
        answers = await asyncio.gather(
            maria.call("asignar", {"con": "ana", "agente": "maria", "anterior": None}),
            juan.call("asignar", {"con": "ana", "agente": "juan", "anterior": None}),
        )
        winners = [a for a in answers if a["ok"]]
        [lost] = [a for a in answers if not a["ok"]]
        assert len(winners) == 1 and winners[0]["id"]
        holder = (await state(redis, "ana"))["asignado"]
        assert lost["codigo"] == "conflicto" and lost["asignado"] == holder
        assert holder in lost["error"]
        assert await load(redis) == {holder: 1}
        back = await maria.call("asignar", {"con": "ana", "agente": None, "anterior": holder})
        assert back["ok"] and back["id"]
    assignments = [e for e in await entries(redis) if e["tipo"] == "asignacion"]
    assert len(assignments) == 10  # five wins, five unassignments: no loser appended
    assert await load(redis) == {}
    # Without `anterior`, the last word wins; the same assignee again changes nothing.
    assert (await juan.call("asignar", {"con": "ana", "agente": "maria"}))["ok"]
    assert await juan.call("asignar", {"con": "ana", "agente": "maria"}) == {
        "ok": True,
        "id": None,
        "fecha": None,
    }
    last = updates(juan)[-1]
    await eventually(lambda: updates(maria)[-1:] == [last])
    assert last["asignado"] == "maria" and last["por"] == "juan"
    assert [e for e, _ in ana.events if e in WORKFLOW_EVENTS] == []


async def test_round_robin_gives_new_conversations_to_the_least_loaded_agent_online(
    replica: str, clients: Any, redis: Redis
) -> None:
    maria = await connected(clients, replica, await account(redis, "maria", "admin"))
    juan = await connected(clients, replica, await account(redis, "juan", "admin"))
    away = await connected(clients, replica, await account(redis, "pepa", "admin"))
    assert (await away.call("presencia", {"estado": "ausente"}))["ok"]
    for name in ("c1", "c2", "c3", "c4"):
        customer = await connected(clients, replica, await account(redis, name))
        assert (await customer.send("admin", "hola"))["ok"]
    holders = [(await state(redis, name))["asignado"] for name in ("c1", "c2", "c3", "c4")]
    assert sorted(holders) == ["juan", "juan", "maria", "maria"]  # pepa is away
    assert await load(redis) == {"juan": 2, "maria": 2}
    auto = [e for e in await entries(redis) if e["tipo"] == "asignacion"]
    assert {e["de"] for e in auto} == {""}  # automatic
    await eventually(lambda: len(updates(maria)) == 8 and len(updates(juan)) == 8)
    assert [u["por"] for u in updates(maria)] == [None] * 8


async def test_the_queue_waits_in_arrival_order_for_room_and_for_agents_coming_online(
    start_replica: StartReplica, clients: Any, redis: Redis
) -> None:
    url = await start_replica(max_open_per_agent=1)
    names = ["c1", "c2", "c3"]
    customers = [await connected(clients, url, await account(redis, n)) for n in names]
    for customer in customers:  # nobody online: every one waits
        assert (await customer.send("admin", "hola"))["ok"]
    assert [m.decode() for m in await redis.zrange(keys.WAITING_QUEUE, 0, -1)] == names
    maria = await connected(clients, url, await account(redis, "maria", "admin"))
    await eventually(lambda: redis_state_is(redis, "c1", "maria"))
    assert [m.decode() for m in await redis.zrange(keys.WAITING_QUEUE, 0, -1)] == ["c2", "c3"]
    # Resolving gives her room: the next in line is hers.
    assert (await maria.call("cambiar_estado", {"con": "c1", "estado": "resuelta"}))["ok"]
    assert (await state(redis, "c2"))["asignado"] == "maria"
    # Unassigning gives room too; the unassigned conversation itself does not queue again.
    assert (await maria.call("asignar", {"con": "c2", "agente": None, "anterior": "maria"}))["ok"]
    assert (await state(redis, "c3"))["asignado"] == "maria"
    assert (await state(redis, "c2"))["asignado"] == ""
    assert await redis.zcard(keys.WAITING_QUEUE) == 0
    assert await load(redis) == {"maria": 1}


async def redis_state_is(redis: Redis, usuario: str, asignado: str) -> bool:
    return (await state(redis, usuario)).get("asignado") == asignado


async def test_with_auto_assignment_off_nothing_is_assigned(
    start_replica: StartReplica, clients: Any, redis: Redis
) -> None:
    url = await start_replica(auto_assign="off")
    await connected(clients, url, await account(redis, "maria", "admin"))
    ana = await connected(clients, url, await account(redis, "ana"))
    assert (await ana.send("admin", "hola"))["ok"]
    await asyncio.sleep(0.3)  # an upkeep round has run
    assert (await state(redis, "ana"))["asignado"] == ""
    assert [e["tipo"] for e in await entries(redis)] == ["mensaje", "estado"]


async def test_a_snooze_ends_once_at_its_time_even_if_it_passed_while_nobody_ran(
    start_replica: StartReplica, clients: Any, redis: Redis
) -> None:
    await account(redis, "ana")
    await account(redis, "bob")
    maria = claims_of(await account(redis, "maria", "admin"))
    config = WorkflowConfig(auto_assign=AutoAssign.ROUND_ROBIN, max_open_per_agent=0)
    offline = Workflow(redis, config=config, sweep_seconds=60)  # no replica is running
    await snooze(offline, maria, "ana", seconds=0.5)
    await snooze(offline, maria, "bob", seconds=60)
    await asyncio.sleep(0.6)  # ana's snooze ends while no replica runs
    await start_replica()  # both replicas sweep at once
    two = await start_replica()
    watcher = await connected(clients, two, await account(redis, "juan", "admin"))
    await eventually(lambda: redis_state_is_status(redis, "ana", "abierta"))
    woken = [
        e for e in await entries(redis) if e["tipo"] == "estado" and e["conversacion"] == "ana"
    ]
    assert [(e["estado"], e["de"]) for e in woken] == [("pospuesta", "maria"), ("abierta", "")]
    assert (await state(redis, "bob"))["estado"] == "pospuesta"
    assert [m.decode() for m in await redis.zrange(keys.SNOOZED, 0, -1)] == ["bob"]
    # Woken and unassigned: it waits for an agent, who is online now.
    await eventually(lambda: redis_state_is(redis, "ana", "juan"))
    await eventually(lambda: [u["asignado"] for u in updates(watcher)][-1:] == ["juan"])


async def snooze(workflow: Workflow, agent: Claims, con: str, *, seconds: float) -> None:
    hasta = datetime.now(UTC) + timedelta(seconds=seconds)
    status = ConversationStatus.SNOOZED
    changed = await workflow.change_status(
        agent, StatusRequest(con=con, estado=status, hasta=hasta)
    )
    assert changed.id


async def redis_state_is_status(redis: Redis, usuario: str, estado: str) -> bool:
    return (await state(redis, usuario)).get("estado") == estado

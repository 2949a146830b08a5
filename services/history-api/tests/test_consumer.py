"""The stream consumer against real Redis and Postgres: what ends up stored, what is left
pending, what trimming keeps, where bad entries go."""

from __future__ import annotations

import asyncpg
import pytest
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.messages import stream_id_to_db
from soporte_history.app import stop
from soporte_history.consumer import RawEntry
from soporte_history.projections import parse_entries, store
from soporte_history.stream_status import stream_status, wait_until_settled
from soporte_stack.testing import eventually

from .conftest import (
    MakeConsumer,
    StartConsumer,
    append,
    entry,
    pending_count,
    reply,
    say,
    stored_ids,
)

pytestmark = pytest.mark.integration


async def deliver(redis: Redis, consumer: str, count: int = 1000) -> list[RawEntry]:
    """XREADGROUP new entries as `consumer` (they become pending on it)."""
    response = await redis.xreadgroup(
        keys.CONSUMER_GROUP, consumer, {keys.STREAM: ">"}, count=count
    )
    return list(response[0][1]) if response else []


async def pending_of(redis: Redis, consumer: str) -> list[str]:
    rows = await redis.xpending_range(
        keys.STREAM, keys.CONSUMER_GROUP, "-", "+", 10_000, consumername=consumer
    )
    return [r["message_id"].decode() for r in rows]


async def dead_letters(redis: Redis) -> list[dict[str, str]]:
    return [
        {k.decode(errors="replace"): v.decode(errors="replace") for k, v in fields.items()}
        for _, fields in await redis.xrange(keys.DEAD_LETTER_STREAM)
    ]


async def stream_ids(redis: Redis) -> list[str]:
    return [i.decode() for i, _ in await redis.xrange(keys.STREAM)]


async def summary(db: asyncpg.Pool, usuario: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await db.fetchrow(
        "SELECT * FROM conversaciones WHERE usuario = $1", usuario
    )
    return row


async def test_a_batch_processed_twice_is_stored_once(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer
) -> None:
    ids = [await say(redis, "ana", f"hola {n}") for n in range(5)]
    consumer = make_consumer()
    entries = await deliver(redis, consumer.name)
    await consumer.process(entries)
    await consumer.process(entries)  # e.g. re-read after a crash that happened post-commit

    assert await stored_ids(db) == ids
    rows = await db.fetch(
        "SELECT de_usuario, para_usuario, conversacion, mensaje FROM mensajes ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [("ana", "admin", "ana", f"hola {n}") for n in range(5)]
    assert await pending_count(redis) == 0
    assert await dead_letters(redis) == []


async def test_a_consumer_that_died_between_insert_and_ack_leaves_no_duplicate(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer, start_consumer: StartConsumer
) -> None:
    ids = [await say(redis, "ana", f"m{n}") for n in range(3)]
    ids.append(await reply(redis, "maria", "ana", "respuesta"))
    doomed = make_consumer("history-1")
    entries = await deliver(redis, doomed.name)
    # The insert commits, then the process dies before XACK.
    batch, rejected = parse_entries(entries)
    assert rejected == []
    await store(db, batch)
    del doomed
    assert await stored_ids(db) == ids
    assert await pending_of(redis, "history-1") == ids

    # The same consumer name comes back (a restart): it re-reads its own pending entries.
    start_consumer(make_consumer("history-1"))
    later = await say(redis, "ana", "después del reinicio")

    async def drained() -> bool:
        return await pending_count(redis) == 0 and len(await stored_ids(db)) == 5

    await eventually(drained)
    assert await stored_ids(db) == [*ids, later]
    assert await db.fetchval("SELECT count(*) FROM mensajes") == 5


async def test_entries_pending_on_a_dead_consumer_are_claimed_after_the_idle_time(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer, start_consumer: StartConsumer
) -> None:
    ids = [await say(redis, "ana", f"m{n}") for n in range(3)]
    await deliver(redis, "history-muerto")  # delivered, never acknowledged: it died
    assert await pending_of(redis, "history-muerto") == ids

    start_consumer(make_consumer("history-vivo", claim_idle_ms=200))

    async def claimed() -> bool:
        return await pending_count(redis) == 0

    await eventually(claimed)
    assert await stored_ids(db) == ids
    assert await pending_of(redis, "history-muerto") == []


async def test_the_live_loop_stores_new_entries_and_settles_history_reads(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer, start_consumer: StartConsumer
) -> None:
    start_consumer(make_consumer())
    ids = [await say(redis, "ana", f"m{n}") for n in range(20)]
    # What a history read waits for: everything accepted so far is in Postgres.
    assert await wait_until_settled(redis, timeout=10) is True
    assert await stored_ids(db) == ids
    assert await pending_count(redis) == 0


async def test_a_history_read_does_not_settle_while_an_entry_is_unstored(
    redis: Redis, make_consumer: MakeConsumer
) -> None:
    assert await wait_until_settled(redis, timeout=0.2) is True  # nothing sent yet
    await say(redis, "ana", "hola")
    assert await wait_until_settled(redis, timeout=0.2) is False  # never delivered
    await deliver(redis, "history-muerto")
    assert await wait_until_settled(redis, timeout=0.2) is False  # pending, not stored
    consumer = make_consumer("history-muerto")
    await consumer._drain_own_pending()
    assert await wait_until_settled(redis, timeout=0.2) is True


async def test_a_backlog_of_full_batches_is_stored_with_its_bad_entry_set_aside(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer, start_consumer: StartConsumer
) -> None:
    # 95 entries read in batches of 10, each read while the batch before it is stored.
    ids = [await say(redis, f"cliente{n % 7}", f"m{n}") for n in range(50)]
    bad = await append(redis, entry("ana", "fecha rota", fecha="ayer"))  # in the 6th batch
    ids += [await say(redis, f"cliente{n % 7}", f"m{n}") for n in range(50, 94)]
    start_consumer(make_consumer(batch=10))

    assert await wait_until_settled(redis, timeout=10) is True
    assert await stored_ids(db) == ids
    assert await pending_count(redis) == 0
    assert [d["id"] for d in await dead_letters(redis)] == [bad]
    newest = await summary(db, "cliente3")
    assert newest is not None and newest["ultimo_mensaje"] == "m87"  # its newest of all


async def test_a_consumer_stopped_amid_a_backlog_loses_nothing(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer, start_consumer: StartConsumer
) -> None:
    ids = [await say(redis, "ana", f"m{n}") for n in range(1000)]
    first = start_consumer(make_consumer(batch=10))
    await eventually(lambda: _stored_at_least(db, 20))
    await stop(first)  # a batch may be mid-transaction, the next one read and not stored

    start_consumer(make_consumer(batch=10))  # the same name: its own pending entries first
    assert await wait_until_settled(redis, timeout=20) is True
    assert await stored_ids(db) == ids
    assert await pending_count(redis) == 0


async def _stored_at_least(db: asyncpg.Pool, count: int) -> bool:
    return len(await stored_ids(db)) >= count


async def test_trimming_keeps_every_unacknowledged_entry_and_drops_acknowledged_ones(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer
) -> None:
    consumer = make_consumer(batch=1000)
    acked = [await say(redis, "ana", f"ya guardado {n}") for n in range(300)]
    await consumer.process(await deliver(redis, consumer.name))
    pending = [await say(redis, "bea", f"pendiente {n}") for n in range(5)]
    await deliver(redis, "history-muerto")  # pending on a dead consumer
    more_acked = [await say(redis, "ana", f"guardado después {n}") for n in range(5)]
    await consumer.process(await deliver(redis, consumer.name))
    undelivered = [await say(redis, "carla", f"sin entregar {n}") for n in range(5)]

    await consumer.trim()

    left = await stream_ids(redis)
    assert set(pending + more_acked + undelivered) <= set(left)
    assert set(left) - set(acked + pending + more_acked + undelivered) == set()
    assert len(left) < 315, "acknowledged entries below the oldest pending one stay"
    assert await pending_of(redis, "history-muerto") == pending
    assert len(await stored_ids(db)) == 305

    # Once everything pending is stored, a trim drops those entries too (the stored
    # "undelivered" ones along), but still never what has not been delivered.
    await consumer.process(
        await redis.xclaim(keys.STREAM, keys.CONSUMER_GROUP, consumer.name, 0, pending)
    )
    for n in range(300):
        await say(redis, "ana", f"otra tanda {n}")
    await consumer.process(await deliver(redis, consumer.name))
    assert await pending_count(redis) == 0
    last = [await say(redis, "carla", f"la última {n}") for n in range(3)]
    await consumer.trim()
    left = await stream_ids(redis)
    # Exactly the backlog stays: the stream's length is what is not stored yet.
    assert left == last
    assert len(await stored_ids(db)) == 615


async def test_a_malformed_entry_is_dead_lettered_and_does_not_block_the_next_ones(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer, start_consumer: StartConsumer
) -> None:
    good1 = await say(redis, "ana", "antes")
    missing = await redis.xadd(keys.STREAM, {"de": "ana", "mensaje": "sin más campos"})
    bad_date = await append(redis, entry("ana", "fecha rota", fecha="ayer"))
    not_utf8 = await redis.xadd(
        keys.STREAM, {**entry("ana", "x").model_dump(), "mensaje": b"\xff\xfe"}
    )
    good2 = await say(redis, "ana", "después")
    good3 = await say(redis, "ana", "al final")
    # An id that does not fold into the bigint key (Redis itself never assigns one: it
    # would take a million entries in one millisecond). Last, as later "*" ids would
    # continue its sequence within the same millisecond.
    ms = int(good3.split("-")[0])
    bad_id = await append(redis, entry("ana", "id fuera de rango"), entry_id=f"{ms}-1000000")

    start_consumer(make_consumer())

    async def done() -> bool:
        return await pending_count(redis) == 0 and len(await stored_ids(db)) == 3

    await eventually(done)
    assert await stored_ids(db) == [good1, good2, good3]
    letters = await dead_letters(redis)
    assert [d["id"] for d in letters] == [missing.decode(), bad_date, not_utf8.decode(), bad_id]
    assert letters[0]["mensaje"] == "sin más campos"  # kept whole for an operator
    assert letters[1]["fecha"] == "ayer"


async def test_a_row_postgres_refuses_is_dead_lettered_alone(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer
) -> None:
    # Postgres refuses NUL in text. Realtime never accepts it, but an entry from any other
    # writer must not hold back the rest of its batch.
    before = await say(redis, "ana", "antes")
    refused = await say(redis, "bea", "con \x00 dentro")
    after = await say(redis, "ana", "después")
    consumer = make_consumer()
    await consumer.process(await deliver(redis, consumer.name))

    assert await stored_ids(db) == [before, after]
    letters = await dead_letters(redis)
    assert [(d["id"], d["de"], d["mensaje"]) for d in letters] == [
        (refused, "bea", "con \x00 dentro")
    ]
    assert await pending_count(redis) == 0
    assert await summary(db, "bea") is None
    ana = await summary(db, "ana")
    assert ana is not None and ana["ultimo_mensaje"] == "después"


async def test_the_summary_keeps_the_newest_message_when_batches_arrive_out_of_order(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer
) -> None:
    older = [await say(redis, "ana", "primero")]
    older.append(await reply(redis, "maria", "ana", "respuesta antigua"))
    newer = [await say(redis, "ana", "segundo"), await say(redis, "ana", "el último")]
    entries = await deliver(redis, "history-muerto")
    consumer = make_consumer()
    # The newer half is stored first (e.g. the older half was stuck on a dead consumer).
    await consumer.process(entries[2:])
    await consumer.process(entries[:2])

    ana = await summary(db, "ana")
    assert ana is not None
    assert (ana["ultimo_id"], ana["ultimo_de"], ana["ultimo_mensaje"]) == (
        stream_id_to_db(newer[-1]),
        "ana",
        "el último",
    )
    assert ana["nombre"] == "Ana"
    assert await stored_ids(db) == older + newer


async def test_the_summary_names_the_customer_when_an_agent_wrote_last_in_the_batch(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer
) -> None:
    await say(redis, "ana", "hola", nombre="Ana Pérez")
    last = await reply(redis, "maria", "ana", "¿en qué te ayudo?")
    consumer = make_consumer()
    await consumer.process(await deliver(redis, consumer.name))  # one batch, both messages

    ana = await summary(db, "ana")
    assert ana is not None
    assert (ana["ultimo_id"], ana["ultimo_de"], ana["nombre"]) == (
        stream_id_to_db(last),
        "maria",
        "Ana Pérez",
    )


async def test_the_summary_learns_the_customers_name_from_an_older_batch(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer
) -> None:
    await say(redis, "ana", "hola", nombre="Ana Pérez")
    last = await reply(redis, "maria", "ana", "¿en qué te ayudo?")
    entries = await deliver(redis, "history-muerto")
    consumer = make_consumer()
    await consumer.process(entries[1:])  # the agent's reply first: no name known yet
    await consumer.process(entries[:1])

    ana = await summary(db, "ana")
    assert ana is not None
    assert (ana["ultimo_id"], ana["ultimo_mensaje"], ana["nombre"]) == (
        stream_id_to_db(last),
        "¿en qué te ayudo?",
        "Ana Pérez",
    )


async def test_an_entry_deleted_while_pending_does_not_wedge_the_consumer(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer, start_consumer: StartConsumer
) -> None:
    # Only our trim removes entries, and never pending ones; but an operator's XDEL or
    # XTRIM can, and the group must keep going.
    ids = [await say(redis, "ana", f"m{n}") for n in range(3)]
    await deliver(redis, "history-muerto")
    await redis.xdel(keys.STREAM, ids[1])
    mine = await say(redis, "bea", "propio")
    await deliver(redis, "history-vivo")
    gone = await say(redis, "bea", "borrado")
    await deliver(redis, "history-vivo")
    await redis.xdel(keys.STREAM, gone)

    start_consumer(make_consumer("history-vivo", claim_idle_ms=200))
    later = await say(redis, "ana", "más tarde")

    async def done() -> bool:
        return await pending_count(redis) == 0 and len(await stored_ids(db)) == 4

    await eventually(done)
    assert await stored_ids(db) == [ids[0], ids[2], mine, later]
    assert await dead_letters(redis) == []  # nothing was malformed: there was nothing left
    assert await wait_until_settled(redis, timeout=2) is True


async def test_entries_are_stored_by_their_type_and_an_unknown_type_is_dead_lettered(
    redis: Redis, db: asyncpg.Pool, make_consumer: MakeConsumer
) -> None:
    typed = await say(redis, "ana", "con tipo")
    untyped_fields = {k: v for k, v in entry("ana", "sin tipo").model_dump().items() if k != "tipo"}
    untyped = (await redis.xadd(keys.STREAM, untyped_fields)).decode()
    unknown = (
        await redis.xadd(
            keys.STREAM, {**entry("ana", "una encuesta").model_dump(), "tipo": "encuesta"}
        )
    ).decode()
    last = await say(redis, "ana", "después")
    consumer = make_consumer()
    await consumer.process(await deliver(redis, consumer.name))

    assert await stored_ids(db) == [typed, untyped, last]
    letters = await dead_letters(redis)
    assert [(d["id"], d["tipo"], d["mensaje"]) for d in letters] == [
        (unknown, "encuesta", "una encuesta")
    ]
    assert await pending_count(redis) == 0


async def test_the_backlog_is_what_is_not_stored_not_what_is_not_yet_trimmed(
    redis: Redis, make_consumer: MakeConsumer
) -> None:
    consumer = make_consumer()
    for n in range(20):
        await say(redis, "ana", f"guardado {n}")
    await consumer.process(await deliver(redis, consumer.name))  # stored, not yet trimmed
    for n in range(3):
        await say(redis, "bea", f"pendiente {n}")
    await deliver(redis, "history-muerto")  # delivered, not stored
    for n in range(4):
        await say(redis, "carla", f"sin entregar {n}")

    status = await stream_status(redis)
    assert status.length == 27
    assert (status.pending, status.undelivered) == (3, 4)
    assert status.unstored == 7

"""(f) The history API with 1,000,000 stored messages: a conversation page, the agents' list
and full-text search, measured through the gateway."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any, Final

import asyncpg
import httpx

from soporte_auth.settings import AuthSettings
from soporte_bench.scenarios import Scale
from soporte_bench.targets import Soporte

# Words support conversations are made of; each seeded message draws five, the first ones
# far more often (index = n * u³), so a two-word query matches from a few hundred messages
# (two rare words) to most of them (two common ones).
VOCABULARY: Final = (
    "hola",
    "gracias",
    "pedido",
    "envío",
    "ayuda",
    "cuenta",
    "problema",
    "pago",
    "tarjeta",
    "factura",
    "entrega",
    "dirección",
    "contraseña",
    "acceso",
    "devolución",
    "reembolso",
    "producto",
    "talla",
    "cambio",
    "garantía",
    "descuento",
    "código",
    "cupón",
    "suscripción",
    "cancelar",
    "retraso",
    "seguimiento",
    "número",
    "correo",
    "teléfono",
    "aplicación",
    "error",
    "pantalla",
    "móvil",
    "navegador",
    "tienda",
    "almacén",
    "transportista",
    "paquete",
    "dañado",
    "roto",
    "incompleto",
    "cargo",
    "duplicado",
    "transferencia",
    "plazo",
    "semana",
    "urgente",
    "queja",
    "reclamación",
    "devolver",
    "recoger",
    "etiqueta",
    "impresora",
    "caducado",
    "bloqueado",
    "verificación",
    "identidad",
)

SEED_MESSAGES = """
INSERT INTO mensajes (id, conversacion, de_usuario, para_usuario, mensaje, fecha)
SELECT ($3::bigint - $1 + n) * 1000000,
       'cliente' || (n % $2),
       CASE WHEN n % 3 = 0 THEN 'admin' ELSE 'cliente' || (n % $2) END,
       CASE WHEN n % 3 = 0 THEN 'cliente' || (n % $2) ELSE 'admin' END,
       -- `WHERE n > 0` ties the subquery to its row: five fresh words for every message.
       'mensaje ' || n || ': ' || (
           SELECT string_agg(($4::text[])[1 + floor(array_length($4::text[], 1)
                                                    * random() ^ 3)::int], ' ')
             FROM generate_series(1, 5) AS w WHERE n > 0),
       to_timestamp(($3::bigint - $1 + n) / 1000.0)
FROM generate_series(1, $1) AS n
"""
SEED_CONVERSATIONS = """
INSERT INTO conversaciones (usuario, nombre, ultimo_id, ultimo_de, ultimo_mensaje, ultima_fecha)
SELECT DISTINCT ON (conversacion) conversacion, 'Cliente ' || conversacion, id, de_usuario,
       mensaje, fecha
FROM mensajes WHERE conversacion LIKE 'cliente%' ORDER BY conversacion, id DESC
ON CONFLICT (usuario) DO NOTHING
"""


async def _seed_history(stack_db: str, messages: int, conversations: int) -> None:
    conn = await asyncpg.connect(stack_db)
    try:
        start_ms = int(time.time() * 1000) - 30 * 86_400_000  # older than any live message
        await conn.execute("SELECT setseed(0.5)")  # the same text in every run
        await conn.execute(
            SEED_MESSAGES, messages, conversations, start_ms + messages, list(VOCABULARY)
        )
        await conn.execute(SEED_CONVERSATIONS)
        # The agent has read about half of the conversations.
        await conn.execute(
            "INSERT INTO lecturas (lector, conversacion, hasta) SELECT 'admin', usuario,"
            " ultimo_id - 5000000000 FROM conversaciones WHERE random() < 0.5"
            " ON CONFLICT DO NOTHING"
        )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def _latencies(base: str, token: str, paths: list[str], concurrency: int) -> dict[str, float]:
    samples: list[float] = []
    queue = list(paths)

    async def worker(http: httpx.AsyncClient) -> None:
        while queue:
            path = queue.pop()
            start = time.perf_counter()
            response = await http.get(path)
            samples.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()

    async with httpx.AsyncClient(base_url=base, cookies={"token": token}, timeout=30) as http:
        for path in paths[:20]:  # warm the connections and caches
            await http.get(path)
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    samples.sort()

    def pick(q: float) -> float:
        return round(samples[min(len(samples) - 1, int(q * len(samples)))], 2)

    return {
        "n": len(samples),
        "p50": pick(0.5),
        "p90": pick(0.9),
        "p99": pick(0.99),
        "max": round(samples[-1], 2),
    }


async def _hits(base: str, token: str, paths: list[str]) -> dict[str, int]:
    """How many results each search found (at most its limit): the spread measured."""
    counts: list[int] = []
    async with httpx.AsyncClient(base_url=base, cookies={"token": token}, timeout=30) as http:
        for path in paths[:50]:
            counts.append(len((await http.get(path)).json()["resultados"]))
    return {"queries_sampled": len(counts), "with_no_result": counts.count(0)}


def history(target: Soporte, scale: Scale) -> dict[str, Any]:
    """(f) a conversation page, the agents' list and a two-word search, with 1,000,000 stored
    messages across 10,000 conversations, measured through the gateway."""
    stack = target.running
    started = time.monotonic()
    asyncio.run(
        _seed_history(stack.database_url, scale.history_messages, scale.history_conversations)
    )
    seeded_in = round(time.monotonic() - started, 1)
    token = asyncio.run(_agent_token(stack.url))
    rng = random.Random(7)  # noqa: S311 - which conversations to read, not a secret
    pages = [
        f"/api/mensajes?con=cliente{rng.randrange(scale.history_conversations)}&limit=50"
        for _ in range(scale.history_requests)
    ]
    lists = ["/api/usuarios-conversaciones?limit=50"] * (scale.history_requests // 2)
    # Two words, as an agent types them: any pair of the vocabulary, accents left out half
    # of the time (the search ignores them), a page of 20 newest first.
    searches = [
        f"/api/buscar?limit=20&q={_typed(rng, rng.choice(VOCABULARY))}+"
        f"{_typed(rng, rng.choice(VOCABULARY))}"
        for _ in range(scale.history_requests)
    ]
    return {
        "messages": scale.history_messages,
        "conversations": scale.history_conversations,
        "seeded_in_s": seeded_in,
        # One request at a time (an agent opening conversations), and four at once.
        "page_ms": asyncio.run(_latencies(stack.url, token, pages, concurrency=1)),
        "list_ms": asyncio.run(_latencies(stack.url, token, lists, concurrency=1)),
        "search_ms": asyncio.run(_latencies(stack.url, token, searches, concurrency=1)),
        "search_results": asyncio.run(_hits(stack.url, token, searches)),
        "page_ms_4_concurrent": asyncio.run(_latencies(stack.url, token, pages, concurrency=4)),
        "list_ms_4_concurrent": asyncio.run(_latencies(stack.url, token, lists, concurrency=4)),
        "search_ms_4_concurrent": asyncio.run(
            _latencies(stack.url, token, searches, concurrency=4)
        ),
    }


def _typed(rng: random.Random, word: str) -> str:
    plain = word.translate(str.maketrans("áéíóúñ", "aeioun"))
    return plain if rng.random() < 0.5 else word


async def _agent_token(base: str) -> str:
    auth = AuthSettings()  # the stack's first agent, as auth created it
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.post(
            "/api/auth/login",
            json={"usuario": auth.admin_user, "password": auth.admin_password.get_secret_value()},
        )
        response.raise_for_status()
        return response.cookies["token"]

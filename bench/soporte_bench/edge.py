"""(h) The edge under a login flood: people logging in from their own addresses, first on
a calm stack, then while one address (127.0.0.2) floods auth with registrations and wrong
passwords as fast as it can. What one address may cost auth is bounded (its request rate,
one password check at a time), so the others' login latency should barely move."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections import Counter
from typing import Any

import httpx

from soporte_bench.targets import Soporte

FLOODER = "127.0.0.2"
PASSWORD = "bench-secreto-123"


def _others(count: int) -> list[str]:
    """The real people's addresses, 127.0.0.3 onwards: each logs in at most twice a run,
    well within its own per-address budget."""
    return [f"127.0.{3 + i // 250}.{3 + i % 250}" for i in range(count)]


def _client(base: str, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base, transport=transport, timeout=60)


async def _people(base: str, count: int) -> list[tuple[str, str]]:
    """`count` customer accounts, each registered from its own address."""
    people = []
    for address in _others(count):
        usuario = f"bench-{uuid.uuid4().hex[:10]}"
        async with _client(base, address) as http:
            created = await http.post(
                "/api/auth/register",
                json={"usuario": usuario, "nombre": "Bench", "password": PASSWORD},
            )
            created.raise_for_status()
        people.append((address, usuario))
    return people


async def _login_latencies(base: str, people: list[tuple[str, str]]) -> dict[str, float]:
    samples = []
    for address, usuario in people:
        async with _client(base, address) as http:
            started = time.perf_counter()
            response = await http.post(
                "/api/auth/login", json={"usuario": usuario, "password": PASSWORD}
            )
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return _percentiles(samples)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "n": len(ordered),
        "p50": pick(0.5),
        "p90": pick(0.9),
        "p99": pick(0.99),
        "max": round(ordered[-1], 1),
        "mean": round(statistics.fmean(ordered), 1),
    }


async def _flood(base: str, workers: int, stop: asyncio.Event) -> Counter[int]:
    """Registrations and wrong passwords from one address, `workers` at a time."""
    answers: Counter[int] = Counter()
    async with _client(base, FLOODER) as http:

        async def worker(n: int) -> None:
            while not stop.is_set():
                name = f"flood-{uuid.uuid4().hex[:10]}"
                if n % 2:
                    body = {"usuario": name, "nombre": "Flood", "password": PASSWORD}
                    response = await http.post("/api/auth/register", json=body)
                else:
                    body = {"usuario": "admin", "password": name}
                    response = await http.post("/api/auth/login", json=body)
                answers[response.status_code] += 1

        await asyncio.gather(*(worker(n) for n in range(workers)))
    return answers


async def _measure(base: str, logins: int, workers: int) -> dict[str, Any]:
    people = await _people(base, 2 * logins)
    calm = await _login_latencies(base, people[:logins])
    stop = asyncio.Event()
    flood = asyncio.create_task(_flood(base, workers, stop))
    await asyncio.sleep(2)  # the flood is in full swing
    started = time.monotonic()
    flooded = await _login_latencies(base, people[logins:])
    stop.set()
    answers = await flood
    return {
        "logins_per_phase": logins,
        "flood_workers": workers,
        "calm_ms": calm,
        "during_flood_ms": flooded,
        "flood_answers": {str(k): v for k, v in sorted(answers.items())},
        "flood_seconds": round(time.monotonic() - started + 2, 1),
    }


def auth_flood(target: Soporte, *, logins: int, workers: int) -> dict[str, Any]:
    return asyncio.run(_measure(target.running.url, logins, workers))

"""Observability, on the real stack (as `make run` starts it): every service's Prometheus
metrics, readiness that follows Redis and Postgres, a message followed from realtime to
Postgres in the logs, and request ids through the gateway.

Whatever a test stops, it starts again and waits until everything is ready."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import structlog
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from soporte_common.logging import configure_logging, get_logger
from soporte_common.web import install_common
from soporte_stack.testing import RunningStack, eventually

from .conftest import (
    Connect,
    register_and_login,
)
from .resilient import id_key

pytestmark = pytest.mark.e2e

REDIS = "infra:redis"
POSTGRES = "infra:postgres"

# The families each service must expose on its own port (docs/operations.md, "Metrics").
REALTIME_FAMILIES = {
    "soporte_realtime_connections": "gauge",
    "soporte_realtime_connections_refused_total": "counter",
    "soporte_messages_accepted_total": "counter",
    "soporte_messages_refused_total": "counter",
    "soporte_messages_delivered_total": "counter",
    "soporte_stream_length": "gauge",
    "soporte_accept_latency_seconds": "histogram",
}
HISTORY_FAMILIES = {
    "soporte_messages_persisted_total": "counter",
    "soporte_messages_dead_lettered_total": "counter",
    "soporte_persist_latency_seconds": "histogram",
    "soporte_consumer_batch_size": "histogram",
    "soporte_stream_length": "gauge",
    "soporte_stream_pending": "gauge",
    "soporte_consumer_lag_seconds": "gauge",
    "soporte_http_request_duration_seconds": "histogram",
}
AUTH_FAMILIES = {"soporte_http_request_duration_seconds": "histogram"}


def ports(stack: RunningStack) -> dict[str, int]:
    info = stack.info
    return {"auth": info.auth_port, "history-api": info.history_port} | {
        f"realtime-{i}": port for i, port in enumerate(info.realtime_ports, start=1)
    }


async def scrape(port: int) -> str:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def declared(text: str) -> dict[str, str]:
    """{family name as exposed: type}, from the `# TYPE` lines."""
    return {
        parts[2]: parts[3]
        for parts in (line.split() for line in text.splitlines())
        if len(parts) == 4 and parts[:2] == ["#", "TYPE"]
    }


def value(text: str, sample: str, **labels: str) -> float:
    """The sum of the samples of that name whose labels include `labels`."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == sample and labels.items() <= s.labels.items():
                total += s.value
    return total


async def readiness(port: int) -> int:
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            return (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code
    except httpx.HTTPError:
        return 0


async def wait_for_readiness(port: int, expected: int, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (status := await readiness(port)) != expected:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"/readyz on port {port} stayed {status}, not {expected}")
        await asyncio.sleep(0.25)


@pytest.fixture
async def everything_ready_afterwards(stack: RunningStack) -> AsyncIterator[None]:
    """Whatever the test stopped comes back, and every service is ready again."""
    yield
    for component in (REDIS, POSTGRES):
        if not await stack.is_running(component):
            await stack.control("start", component)
    for port in ports(stack).values():
        await wait_for_readiness(port, 200, timeout=90)


async def test_every_service_exposes_its_metric_families(stack: RunningStack) -> None:
    async with httpx.AsyncClient(base_url=stack.url) as http:
        await http.get("/api/auth/me")  # one observed request on auth
        await http.get("/api/mensajes/mios")  # and on history-api
    for name, port in ports(stack).items():
        families = declared(await scrape(port))
        expected = (
            REALTIME_FAMILIES
            if name.startswith("realtime")
            else HISTORY_FAMILIES
            if name == "history-api"
            else AUTH_FAMILIES
        )
        for family, kind in expected.items():
            assert families.get(family) == kind, f"{name}: {family}"


async def test_the_metrics_count_a_message_from_acceptance_to_storage(
    stack: RunningStack, connect: Connect
) -> None:
    person = await register_and_login(stack, "metricas")
    before = {name: await scrape(port) for name, port in ports(stack).items()}
    realtime = [name for name in before if name.startswith("realtime")]

    chat = await connect(person)
    ack = await chat.send("admin", "¿me cuentan?")
    assert ack["ok"], ack
    refused = await chat.send("admin", "   ")
    assert not refused["ok"]

    async def counted() -> bool:
        after = {name: await scrape(ports(stack)[name]) for name in before}

        def grew(name: str, sample: str, **labels: str) -> float:
            return value(after[name], sample, **labels) - value(before[name], sample, **labels)

        accepted = sum(grew(n, "soporte_messages_accepted_total") for n in realtime)
        refused_reasons = sum(
            grew(n, "soporte_messages_refused_total", reason=refused["codigo"]) for n in realtime
        )
        return (
            accepted >= 1
            and refused_reasons >= 1
            # Every replica receives every emit over pub/sub, and counts it once.
            and all(grew(n, "soporte_messages_delivered_total") >= 1 for n in realtime)
            and sum(value(after[n], "soporte_realtime_connections") for n in realtime) >= 1
            and grew("history-api", "soporte_messages_persisted_total") >= 1
            and grew("history-api", "soporte_persist_latency_seconds_count") >= 1
        )

    deadline = asyncio.get_running_loop().time() + 20
    while not await counted():
        assert asyncio.get_running_loop().time() < deadline, "the counters did not move"
        await asyncio.sleep(0.25)


async def test_a_message_can_be_followed_from_realtime_to_postgres_in_the_logs(
    stack: RunningStack, connect: Connect
) -> None:
    """history-api logs one INFO line per stored batch with its first and last message id;
    the id realtime acknowledged (and logs at DEBUG as `message accepted`) falls in one."""
    person = await register_and_login(stack, "rastro")
    chat = await connect(person)
    ack = await chat.send("admin", "sígueme")
    assert ack["ok"], ack
    wanted = id_key(ack["id"])

    def batch_with_the_message() -> bool:
        for line in stack.log("history-api").splitlines():
            if '"batch stored"' not in line:
                continue
            record = json.loads(line)
            if id_key(record["first_id"]) <= wanted <= id_key(record["last_id"]):
                assert record["level"] == "info" and record["service"] == "history-api"
                assert record["count"] >= 1
                return True
        return False

    await eventually(batch_with_the_message, timeout=20)


async def test_readiness_fails_while_redis_is_down_and_recovers(
    stack: RunningStack, everything_ready_afterwards: None
) -> None:
    every = ports(stack)
    for port in every.values():
        assert await readiness(port) == 200
    await stack.control("stop", REDIS)
    for name, port in every.items():
        await wait_for_readiness(port, 503, timeout=30)
        # Liveness is not readiness: the process is fine, it just cannot serve.
        async with httpx.AsyncClient(timeout=5) as http:
            live = await http.get(f"http://127.0.0.1:{port}/healthz")
        assert live.status_code == 200, name
    await stack.control("start", REDIS)
    for port in every.values():
        await wait_for_readiness(port, 200, timeout=60)


async def test_readiness_fails_while_postgres_is_down_and_the_backlog_shows(
    stack: RunningStack, connect: Connect, everything_ready_afterwards: None
) -> None:
    every = ports(stack)
    history = every["history-api"]
    customer = await register_and_login(stack, "respaldo")
    chat = await connect(customer)
    await stack.control("stop", POSTGRES)
    try:
        await wait_for_readiness(every["auth"], 503, timeout=30)
        await wait_for_readiness(history, 503, timeout=30)
        # Realtime never touches Postgres: it stays ready and keeps accepting.
        for name, port in every.items():
            if name.startswith("realtime"):
                assert await readiness(port) == 200, name
        ack = await chat.send("admin", "¿siguen ahí?")
        assert ack["ok"], ack

        async def backlog_visible() -> bool:
            metrics = await scrape(history)
            return (
                value(metrics, "soporte_stream_pending") >= 1
                and value(metrics, "soporte_consumer_lag_seconds") >= 2
            )

        deadline = asyncio.get_running_loop().time() + 30
        while not await backlog_visible():
            assert asyncio.get_running_loop().time() < deadline, "the backlog gauges stayed 0"
            await asyncio.sleep(0.5)
    finally:
        await stack.control("start", POSTGRES)
    for port in every.values():
        await wait_for_readiness(port, 200, timeout=60)

    async def caught_up() -> bool:
        metrics = await scrape(history)
        return (
            value(metrics, "soporte_stream_pending") == 0
            and value(metrics, "soporte_consumer_lag_seconds") == 0
        )

    deadline = asyncio.get_running_loop().time() + 60
    while not await caught_up():
        assert asyncio.get_running_loop().time() < deadline, "the backlog never drained"
        await asyncio.sleep(0.5)


async def test_requests_carry_a_request_id_through_the_gateway(stack: RunningStack) -> None:
    mine = f"prueba-{uuid.uuid4().hex[:12]}"
    async with httpx.AsyncClient(base_url=stack.url) as http:
        for path in ("/api/auth/me", "/api/mensajes/mios", "/api/usuarios-conversaciones"):
            given = await http.get(path, headers={"X-Request-ID": mine})
            assert given.headers["x-request-id"] == mine, path
            made = await http.get(path)
            assert len(made.headers["x-request-id"]) == 32, path
            assert made.headers["x-request-id"] != mine
            # A header that could forge log lines is replaced, not echoed.
            hostile = await http.get(path, headers={"X-Request-ID": "a b<script>"})
            assert hostile.headers["x-request-id"] != "a b<script>"


# ── in process: the request id reaches every log line of its request ────────────────────


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, structlog.get_config())
    stream = io.StringIO()
    configure_logging("prueba", level="INFO", fmt="json")
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    # Leave the test process's logging as it was.
    root.handlers[:], level, config = saved
    root.setLevel(level)
    structlog.configure(**config)
    structlog.contextvars.clear_contextvars()


async def test_the_request_id_is_on_every_log_line_of_the_request_and_only_there(
    captured_logs: io.StringIO,
) -> None:
    app = FastAPI()
    install_common(app, readiness={})
    log = get_logger("prueba")

    @app.get("/eco")
    async def eco() -> dict[str, str]:
        log.info("dentro de la petición")
        return {"ok": "sí"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://prueba") as http:
        response = await http.get("/eco", headers={"X-Request-ID": "abc-123"})
        assert response.headers["x-request-id"] == "abc-123"
        generated = (await http.get("/eco")).headers["x-request-id"]
    log.info("fuera de la petición")

    records = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    inside = [r for r in records if r["event"] == "dentro de la petición"]
    assert [r["request_id"] for r in inside] == ["abc-123", generated]
    outside = next(r for r in records if r["event"] == "fuera de la petición")
    assert "request_id" not in outside

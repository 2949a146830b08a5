"""The measurements of issue 5, (a) to (f). Each returns plain data for the report."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis

from soporte_bench import harness
from soporte_bench.targets import Peer, Soporte, Target
from soporte_common import keys

# py-spy from the project's environment (a dev dependency), next to this interpreter.
PY_SPY = [str(Path(sys.executable).with_name("py-spy"))]


@dataclass(frozen=True)
class Scale:
    """How hard to push: the full run, or a few seconds for CI (`--smoke`)."""

    users: int = 200
    admins: int = 5
    rate_start: int = 1000
    fixed_rate: int = 2000  # the "p99 at 2,000 msg/s" comparison
    # (c) both systems' CPU per message under the same load (find-max's steps differ)
    same_load_rate: int = 1500
    fixed_duration: int = 20
    ramp_conns: int = 21000  # Soporte: over two harness processes (20,000-fd limit each)
    peer_ramp_conns: int = 19000
    ramp_rate: int = 500
    backlog: int = 100_000
    history_messages: int = 1_000_000
    history_conversations: int = 10_000
    history_requests: int = 2000
    workflow_rate: int = 50  # (g) new conversations per second
    workflow_seconds: int = 30
    auth_logins: int = 40  # (h) per phase, each from its own address
    flood_workers: int = 100
    typists: int = 100  # (i) customers typing while the load runs
    # (j) the cluster's CPU per message at one fixed rate, as replicas are added; every
    # count is measured once per round, the rounds one after the other
    scaling_rate: int = 1000
    scaling_replicas: tuple[int, ...] = (1, 2, 4)
    scaling_rounds: int = 3
    smoke: bool = False


SMOKE = Scale(
    users=10,
    admins=2,
    rate_start=50,
    fixed_rate=100,
    same_load_rate=50,
    fixed_duration=3,
    ramp_conns=200,
    peer_ramp_conns=200,
    ramp_rate=200,
    backlog=2000,
    history_messages=20_000,
    history_conversations=200,
    history_requests=100,
    workflow_rate=5,
    workflow_seconds=3,
    auth_logins=4,
    flood_workers=10,
    typists=10,
    scaling_rate=100,
    scaling_replicas=(1, 2),
    scaling_rounds=1,
    smoke=True,
)


def step(text: str) -> None:
    print(f"\n[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def identity_args(target: Target, scale: Scale) -> list[str]:
    args = [
        "--url",
        target.url,
        "--secret",
        target.secret,
        "--users",
        str(scale.users),
        "--admins",
        str(scale.admins),
        "--transport",
        "websocket",
        "--dup-model",
        target.dup_model,
    ]
    if target.sender_echo:
        args += ["--sender-echo", "true"]
    return args


def process_args(target: Target, *, stats: bool = True) -> list[str]:
    pids = ",".join(f"{label}:{pid}" for label, pid in target.pids().items())
    args = ["--pids", pids, "--comm", ",".join(target.comm)]
    if stats:
        args += ["--stats-url", ",".join(target.stats_urls())]
    return args


# ---------------------------------------------------------------- (a) (b) (c)


def find_max(
    target: Target, scale: Scale, out: Path, *, p99_ms: int | None = None
) -> dict[str, Any]:
    """(a) highest sustained rate (p99 < 50 ms, or `p99_ms`; no loss or duplicate, storage
    keeps up), (b) latency at half of it, (c) CPU per message in every passing step."""
    if scale.smoke:
        return fixed_rate(target, scale, out, rate=scale.fixed_rate)
    ceiling = [] if p99_ms is None else ["--p99-ms", str(p99_ms)]
    return harness.run(
        [
            *identity_args(target, scale),
            *process_args(target),
            *harness.FIND_MAX,
            *ceiling,
            "--rate-start",
            str(scale.rate_start),
        ],
        out=out,
    )


def fixed_rate_args(target: Target, scale: Scale, *, rate: int, ack: bool = False) -> list[str]:
    """The harness's arguments for `scale.fixed_duration` seconds at `rate` msg/s; `ack`:
    every message asks for its acknowledgement, as a browser's do (Soporte's contract; the
    peer's clients ask for none)."""
    return [
        *identity_args(target, scale),
        *process_args(target),
        "--mode",
        "load",
        "--rate",
        str(rate),
        "--duration",
        str(scale.fixed_duration),
        "--warmup",
        "2",
        *(["--ack", "true"] if ack else []),
    ]


def fixed_rate(
    target: Target, scale: Scale, out: Path, *, rate: int, ack: bool = False
) -> dict[str, Any]:
    return harness.run(fixed_rate_args(target, scale, rate=rate, ack=ack), out=out)


def cpu_us_per_message(findmax: dict[str, Any]) -> float | None:
    """Median over passing steps at >= half the max of server CPU µs per message
    (CPU% × 10^4 / rate, every measured process but the harness): the peer's method."""
    steps = findmax.get("steps") or ([findmax["result"]] if "result" in findmax else [])
    top = findmax.get("max_sustained_rate") or 0
    values = []
    for st in steps:
        rate = st.get("rate") or st.get("target_rate")
        passed = st.get("pass", not st.get("pass_reasons_failed"))
        if not passed or not rate or rate < top / 2:
            continue
        cpu = st.get("cpu") or {k: v.get("cpu_pct") for k, v in (st.get("procs") or {}).items()}
        server = sum(v for k, v in cpu.items() if k != "harness" and isinstance(v, int | float))
        values.append(server * 1e4 / rate)
    return statistics.median(values) if values else None


# ---------------------------------------------------------------- (j)


def cpu_at_rate(target: Target, scale: Scale, out: Path, *, rate: int) -> dict[str, Any]:
    """The whole cluster's CPU per message (every server process, as (c)) at a fixed `rate`
    with `target.replicas` realtime replicas: (c) under the same load for both systems, and
    each point of (j)'s replica-scaling curve."""
    run = fixed_rate(target, scale, out, rate=rate)
    result = run["result"]
    procs = {name: sample for name, sample in (result.get("procs") or {}).items() if sample}
    return {
        "replicas": target.replicas,
        "rate": rate,
        "cpu_us_per_message": cpu_us_per_message(run),
        "p99_ms": (result.get("latency_ms") or {}).get("p99"),
        "passed": not run.get("pass_reasons_failed"),
        "cpu_pct": {name: sample.get("cpu_pct") for name, sample in procs.items()},
        "wakeups_per_s": {name: sample.get("wakeups_per_s") for name, sample in procs.items()},
    }


def profile(target: Soporte, scale: Scale, out_dir: Path, *, rate: int) -> dict[str, Any]:
    """(p) where the realtime replicas spend their time: py-spy samples each replica for
    the middle of a fixed-rate run and writes a flame graph (SVG) and the collapsed stacks."""
    seconds = max(2, scale.fixed_duration - 8)
    load = harness.start(
        fixed_rate_args(target, scale, rate=rate), out=out_dir / "profile-load.json"
    )
    time.sleep(min(4, scale.fixed_duration / 3))  # connected and warmed up
    samplers = []
    for name, pid in target.pids().items():
        if name.startswith("realtime"):
            for kind, suffix in (("flamegraph", "svg"), ("raw", "txt")):
                samplers.append(
                    subprocess.Popen(
                        [
                            *PY_SPY,
                            "record",
                            "--nonblocking",
                            "--rate",
                            "200",
                            "--duration",
                            str(seconds),
                            "--format",
                            kind,
                            "--output",
                            str(out_dir / f"profile-{name}.{suffix}"),
                            "--pid",
                            str(pid),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
    for sampler in samplers:
        sampler.wait(timeout=seconds + 60)
    result = harness.finish(load)
    return {"rate": rate, "flame_graphs": sorted(p.name for p in out_dir.glob("profile-*.svg"))} | {
        "p99_ms": (result["result"].get("latency_ms") or {}).get("p99")
    }


# ---------------------------------------------------------------- (d)


def ramp(target: Target, scale: Scale, out_dir: Path) -> dict[str, Any]:
    """(d) idle connections held through the gateway, and memory per connection."""
    per_process = scale.peer_ramp_conns if isinstance(target, Peer) else scale.ramp_conns
    processes = 1 if isinstance(target, Peer) else max(1, -(-per_process // 10_500))
    each = per_process // processes
    args = [
        *identity_args(target, scale),
        *process_args(target, stats=False),
        *harness.RAMP,
        "--max-conns",
        str(each),
        "--ramp-rate",
        str(scale.ramp_rate // processes),
    ]
    running = [
        harness.start([*args, "--label", f"ramp{i}"], out=out_dir / f"ramp{i}.json")
        for i in range(processes)
    ]
    results = [harness.finish(p) for p in running]
    live = sum(r.get("live_after_hold") or 0 for r in results)
    before = {p["label"]: p["rss_mb"] for p in results[0].get("per_pid_before", [])}
    after = {p["label"]: p["rss_mb"] for p in results[0].get("per_pid_after", [])}
    delta_kb = {label: (after[label] - before.get(label, 0)) * 1024 for label in after}
    return {
        "harness_processes": processes,
        "attempted": sum(r.get("connections", {}).get("attempted", 0) for r in results),
        "failed": sum(r.get("connections", {}).get("failed", 0) for r in results),
        "stop_reasons": [r.get("stop_reason") for r in results],
        "live_after_hold": live,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "kb_per_connection": {k: round(v / live, 1) for k, v in delta_kb.items()} if live else {},
        "kb_per_connection_total": round(sum(delta_kb.values()) / live, 1) if live else None,
        "connect_setup_ms": results[0].get("connections", {}).get("setup_ms", {}),
        "raw": results,
    }


# ---------------------------------------------------------------- (e)


async def _metric_buckets(url: str, name: str) -> dict[float, float]:
    async with httpx.AsyncClient() as http:
        text = (await http.get(url)).text
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith(f"{name}_bucket{{"):
            bound = line.split('le="')[1].split('"')[0]
            buckets[float("inf") if bound == "+Inf" else float(bound)] = float(line.split()[-1])
    return buckets


def histogram_quantile(
    before: dict[float, float], after: dict[float, float], q: float
) -> float | None:
    """The upper bound of the bucket holding quantile q of what was observed in between."""
    counts = sorted((bound, after[bound] - before.get(bound, 0.0)) for bound in after)
    total = counts[-1][1] if counts else 0
    if not total:
        return None
    for bound, cumulative in counts:
        if cumulative >= q * total:
            return bound
    return None


def persistence(target: Soporte, scale: Scale, out_dir: Path, half_rate: int) -> dict[str, Any]:
    """(e) p99 from acceptance to commit at half load, the messages asking for their
    acknowledgement (which says the entry is durably appended) as a browser's do; then a
    100,000-message backlog built during a history-api outage, and how fast it drains,
    with nothing lost."""
    stack = target.running
    metrics_url = stack.info.history_url + "/metrics"
    name = "soporte_persist_latency_seconds"
    before = asyncio.run(_metric_buckets(metrics_url, name))
    load = fixed_rate(target, scale, out_dir / "persist_half.json", rate=half_rate, ack=True)
    after = asyncio.run(_metric_buckets(metrics_url, name))
    p50 = histogram_quantile(before, after, 0.50)
    p99 = histogram_quantile(before, after, 0.99)

    step(f"(e) backlog: history-api stopped, {scale.backlog} messages sent, then restarted")
    stack.ctl("stop", "services:history-api")
    rate = min(max(half_rate, scale.backlog // 5), 4000)
    duration = max(2, round(scale.backlog / rate))
    built = harness.run(
        [
            *identity_args(target, scale),
            "--mode",
            "load",
            "--rate",
            str(rate),
            "--duration",
            str(duration),
            "--warmup",
            "0",
        ],
        out=out_dir / "backlog_build.json",
    )
    sent = built["result"]["sent"]
    backlog, drain = asyncio.run(
        _drain(stack.redis_url, lambda: stack.ctl("start", "services:history-api"))
    )
    stored = asyncio.run(_count_rows(stack.database_url, built["params"].get("run_id")))
    return {
        "half_rate": half_rate,
        "persist_p50_ms_at_most": p50 * 1000 if p50 is not None else None,
        "persist_p99_ms_at_most": p99 * 1000 if p99 is not None else None,
        "delivery_at_half": load.get("result", {}).get("latency_ms"),
        "acknowledged_at_half": load.get("result", {}).get("acks"),
        "backlog_built": backlog,
        "harness_sent": sent,
        "drain": drain,
        "rows_for_the_run": stored,
    }


async def _drain(redis_url: str, restart: Any) -> tuple[int, dict[str, float]]:
    redis = Redis.from_url(redis_url)
    try:
        backlog = int(await redis.xlen(keys.STREAM))
        started = time.monotonic()
        restart()
        first_progress = None
        while True:
            length = int(await redis.xlen(keys.STREAM))
            now = time.monotonic()
            if first_progress is None and length < backlog:
                first_progress = now
            if length == 0:
                break
            if now - started > 600:
                raise RuntimeError(f"the backlog did not drain: {length} left")
            await asyncio.sleep(0.05)
        consuming = now - (first_progress or started)
        return backlog, {
            "seconds_from_restart": round(now - started, 2),
            "seconds_consuming": round(consuming, 2),
            "messages_per_second": round(backlog / consuming) if consuming else 0.0,
        }
    finally:
        await redis.aclose()


async def _count_rows(database_url: str, run_id: str | None) -> int | None:
    if not run_id:
        return None
    conn = await asyncpg.connect(database_url)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM mensajes WHERE mensaje LIKE $1", f"{run_id}:%"
        )
        return count
    finally:
        await conn.close()

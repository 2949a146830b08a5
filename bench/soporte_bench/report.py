"""The run's results: a JSON file, a Markdown summary with ratios and targets (the measures
compared are comparison.py's), a PNG chart."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from soporte_bench.comparison import lookup, rows


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    mode = "smoke (tiny load, not a measurement)" if meta["smoke"] else "full"
    lines = [
        f"# Benchmark — {meta['date']}",
        "",
        f"Machine: {meta['cpus']} cores, everything on one host (harness, servers, Redis, "
        f"Postgres, Traefik). Python: {meta.get('python', 'not recorded')}. Mode: {mode}. "
        f"Command: `{meta['command']}`. Compare ratios from one run only.",
        "",
        "| measure | Soporte | peer (Node) | Soporte / peer | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows(results):
        ratio = f"{row.ratio:.2f}×" if row.ratio is not None else "—"
        met = {True: "yes", False: "**no**", None: "—"}[row.met]
        lines.append(
            f"| {row.label} | {_fmt(row.soporte, row.unit)} | "
            f"{_fmt(row.peer, row.unit)} | {ratio} | {row.target} | {met} |"
        )
    lines += scaling_table(results)
    for name in ("soporte", "peer"):
        findmax = lookup(results, name, "findmax") or {}
        steps = findmax.get("steps") or []
        if steps:
            lines += [
                "",
                f"## {name}: find-max steps",
                "",
                "| step | rate | pass | p50 ms | p99 ms | CPU% per process |",
                "|---|---|---|---|---|---|",
            ]
            for st in steps:
                cpu = ", ".join(f"{k} {v}" for k, v in (st.get("cpu") or {}).items())
                # The harness's step summary: latencies flat, and why a step failed.
                verdict = "yes" if st.get("pass") else "; ".join(["no", *st.get("fail", [])])
                lines.append(
                    f"| {st.get('label', '')} | {st.get('rate')} | {verdict} | "
                    f"{st.get('p50')} | {st.get('p99')} | {cpu} |"
                )
        workflow = lookup(results, name, "workflow")
        if workflow:
            lines += [
                "",
                f"{name} round robin: {workflow['conversations']} conversations at "
                f"{workflow['rate_per_second']}/s, {workflow['agents']} agents (cap "
                f"{workflow['cap']}): {workflow['assigned_once']} assigned once, "
                f"{workflow['assigned_twice_or_more']} twice or more, "
                f"{workflow['never_assigned']} never; longest queue {workflow['longest_queue']}, "
                f"left {workflow['queue_left']}; wait to assignment "
                f"p50 {workflow['wait_to_assignment_ms']['p50']} ms, "
                f"p99 {workflow['wait_to_assignment_ms']['p99']} ms.",
            ]
        ramp = lookup(results, name, "ramp")
        if ramp:
            per = ", ".join(f"{k} {v}" for k, v in ramp["kb_per_connection"].items())
            lines += [
                "",
                f"{name} ramp: {ramp['live_after_hold']} connections held "
                f"({ramp['failed']} failed, stop: {', '.join(map(str, ramp['stop_reasons']))}); "
                f"KB per connection by process: {per}.",
            ]
    return "\n".join(lines) + "\n"


def scaling_table(results: dict[str, Any]) -> list[str]:
    """(j): CPU per message of the whole cluster by replica count, against the fewest
    replicas and against the peer with as many node processes. A count's figure is the
    median of its rounds; its growth is the median of each round's ratio to the same
    round's fewest replicas (measured minutes apart, so a slower stretch of the host
    weighs on both sides of a ratio), each round's shown after it."""
    ours = _rounds_by_count(lookup(results, "soporte", "scaling"))
    theirs = _rounds_by_count(lookup(results, "peer", "scaling"))
    if not ours:
        return []
    fewest, most = min(ours), max(ours)
    rounds = max(len(points) for points in ours.values())
    lines = [
        "",
        f"## (j) replica scaling: the whole cluster's CPU per message at "
        f"{ours[fewest][0]['rate']:,} msg/s",
        "",
        f"Target: the {most}-replica figure at most 1.1× the {fewest}-replica one. "
        f"Each count measured {rounds} time{'s' if rounds > 1 else ''}, a round at a time; "
        "a figure is the median of its rounds. Wake-ups: how often a second the event "
        "loops of the scaled tier (Soporte's realtime replicas, the peer's node processes) "
        "were woken, summed. More processes handling each message means more wake-ups, "
        "but fewer wake-ups alone did not lower the CPU (docs/performance.md).",
        "",
        "| replicas | Soporte | vs fewest (each round) | p99 | wake-ups/s: Soporte / peer | "
        "peer (node processes) | Soporte / peer |",
        "|---|---|---|---|---|---|---|",
    ]
    base = {point["round"]: point["cpu_us_per_message"] for point in ours[fewest]}
    for count, points in sorted(ours.items()):
        cpu = _median(point["cpu_us_per_message"] for point in points)
        peer = _median(point["cpu_us_per_message"] for point in theirs.get(count, []))
        growths = [
            point["cpu_us_per_message"] / base[point["round"]]
            for point in points
            if point["cpu_us_per_message"] and base.get(point["round"])
        ]
        growth = f"{_median(growths):.2f}×" if growths else "—"
        if len(growths) > 1:
            growth += f" ({', '.join(f'{g:.2f}' for g in growths)})"
        ratio = f"{cpu / peer:.2f}×" if cpu and peer else "—"
        passed = "" if all(point["passed"] for point in points) else " (a run failed a check)"
        p99 = _median(point["p99_ms"] for point in points)
        wakeups = _median(_tier_wakeups(point) for point in points)
        peer_wakeups = _median(_tier_wakeups(point) for point in theirs.get(count, []))
        lines.append(
            f"| {count} | {_fmt(cpu, 'µs')}{passed} | {growth} | {_fmt(p99, 'ms')} | "
            f"{_fmt(wakeups)} / {_fmt(peer_wakeups)} | {_fmt(peer, 'µs')} | {ratio} |"
        )
    return lines


# The processes (j) adds: Soporte's realtime replicas, the peer's node processes.
_SCALED_TIER = ("realtime-", "node")


def _tier_wakeups(point: dict[str, Any]) -> float | None:
    """The scaled tier's wake-ups a second in one (j) point; None for results from before
    the harness counted them."""
    counted = point.get("wakeups_per_s") or {}
    tier = [value for name, value in counted.items() if name.startswith(_SCALED_TIER)]
    return sum(tier) if tier and None not in tier else None


def _rounds_by_count(points: list[dict[str, Any]] | None) -> dict[int, list[dict[str, Any]]]:
    """(j)'s points by replica count, each count's in round order (results from before
    rounds have one point per count: round 1)."""
    counts: dict[int, list[dict[str, Any]]] = {}
    for point in points or []:
        counts.setdefault(point["replicas"], []).append({"round": 1, **point})
    return {count: sorted(rounds, key=lambda p: p["round"]) for count, rounds in counts.items()}


def _median(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def chart(results: dict[str, Any], path: Path) -> None:
    selected = [r for r in rows(results) if r.soporte is not None][:8]
    fig, axes = plt.subplots(2, 4, figsize=(16, 7))
    for ax, row in zip(axes.flat, selected, strict=False):
        values = [row.soporte or 0, row.peer or 0]
        bars = ax.bar(["Soporte", "peer"], values, color=["#1f5fbf", "#9aa5b1"])
        labels = [_fmt(row.soporte), "n/a" if row.peer is None else _fmt(row.peer)]
        ax.bar_label(bars, labels=labels, fontsize=8)
        ax.set_title(row.label.split(") ", 1)[-1][:48], fontsize=9)
        ax.set_ylabel(row.unit, fontsize=8)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(selected) :]:
        ax.axis("off")
    fig.suptitle(
        f"Soporte vs the Node peer — {results['meta']['date']}"
        f"{' (smoke run)' if results['meta']['smoke'] else ''}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "result.json").write_text(json.dumps(results, indent=1, default=str))
    (out_dir / "summary.md").write_text(markdown(results))
    chart(results, out_dir / "chart.png")

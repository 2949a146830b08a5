"""The run's results: a JSON file, a Markdown summary with ratios and targets, a PNG chart."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from soporte_bench.scenarios import Scale, cpu_us_per_message


@dataclass(frozen=True)
class Row:
    label: str
    soporte: float | None
    peer: float | None
    target: str
    better: str  # "higher" or "lower"
    met: bool | None
    unit: str

    @property
    def ratio(self) -> float | None:
        if self.soporte is None or not self.peer:
            return None
        return self.soporte / self.peer


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def _max_rate(findmax: dict[str, Any] | None) -> float | None:
    """The highest rate that passed its confirmation; None when none did (the harness
    then says 0: not a rate to compare with, or to call a target met against)."""
    if not findmax:
        return None
    if "max_sustained_rate" in findmax:
        return float(findmax["max_sustained_rate"]) or None
    result = findmax.get("result") or {}
    return None if findmax.get("pass_reasons_failed") else result.get("achieved_send_rate")


def rows(results: dict[str, Any]) -> list[Row]:
    s, p = results.get("soporte", {}), results.get("peer", {})
    s_max, p_max = _max_rate(s.get("findmax")), _max_rate(p.get("findmax"))
    s_cpu = cpu_us_per_message(s["findmax"]) if s.get("findmax") else None
    p_cpu = cpu_us_per_message(p["findmax"]) if p.get("findmax") else None
    s_same = _get(s, "same_load", "cpu_us_per_message")
    p_same = _get(p, "same_load", "cpu_us_per_message")
    same_rate = (
        _get(s, "same_load", "rate") or _get(p, "same_load", "rate") or Scale().same_load_rate
    )
    s_p99 = _get(s, "fixed", "result", "latency_ms", "p99")
    p_p99 = _get(p, "fixed", "result", "latency_ms", "p99")
    fixed_rate = (
        _get(s, "fixed", "result", "target_rate")
        or _get(p, "fixed", "result", "target_rate")
        or Scale().fixed_rate
    )
    s_half = _get(s, "findmax", "half_of_max", "latency_ms", "p99")
    p_half = _get(p, "findmax", "half_of_max", "latency_ms", "p99")
    s_live = _get(s, "ramp", "live_after_hold")
    p_live = _get(p, "ramp", "live_after_hold")
    s_kb = _get(s, "ramp", "kb_per_connection_total")
    p_kb = _get(p, "ramp", "kb_per_connection_total")
    persist = _get(s, "persistence", "persist_p99_ms_at_most")
    drain = _get(s, "persistence", "drain", "messages_per_second")
    lost = None
    if s.get("persistence"):
        rows_stored = s["persistence"].get("rows_for_the_run")
        lost = None if rows_stored is None else s["persistence"]["harness_sent"] - rows_stored
    calm_login = _get(s, "auth_flood", "calm_ms", "p99")
    flooded_login = _get(s, "auth_flood", "during_flood_ms", "p99")
    page = _get(s, "history", "page_ms", "p99")
    listing = _get(s, "history", "list_ms", "p99")
    search = _get(s, "history", "search_ms", "p99")
    twice = _get(s, "workflow", "assigned_twice_or_more")
    dropped = _get(s, "workflow", "never_assigned")
    rate = _get(s, "workflow", "rate_per_second") or Scale().workflow_rate
    quiet_rate = _max_rate(_get(s, "typing_tax", "quiet"))
    typing_rate = _max_rate(_get(s, "typing_tax", "typing", "findmax"))
    typists = _get(s, "typing_tax", "typing", "typists")

    def at_least(value: float | None, floor: float | None) -> bool | None:
        return None if value is None or floor is None else value >= floor

    def at_most(value: float | None, ceiling: float | None) -> bool | None:
        return None if value is None or ceiling is None else value <= ceiling

    return [
        Row(
            "(a) max sustained msg/s (p99 < 50 ms, no loss, storage keeps up)",
            s_max,
            p_max,
            "≥ peer",
            "higher",
            at_least(s_max, p_max),
            "msg/s",
        ),
        Row(
            f"(c) server CPU per message at {same_rate} msg/s, every server process",
            s_same,
            p_same,
            "≤ peer",
            "lower",
            at_most(s_same, p_same),
            "µs",
        ),
        Row(
            "(c) server CPU per message, median of each system's passing find-max steps",
            s_cpu,
            p_cpu,
            "recorded",
            "lower",
            None,
            "µs",
        ),
        Row(
            f"(b) p99 latency at {fixed_rate} msg/s",
            s_p99,
            p_p99,
            "≤ peer",
            "lower",
            at_most(s_p99, p_p99),
            "ms",
        ),
        Row("(b) p99 latency at half of its own max", s_half, p_half, "—", "lower", None, "ms"),
        Row(
            "(d) idle connections held through the gateway",
            s_live,
            p_live,
            "≥ 20,000",
            "higher",
            at_least(s_live, 20_000),
            "conns",
        ),
        Row(
            "(d) server memory per idle connection (gateway included)",
            s_kb,
            p_kb,
            "recorded",
            "lower",
            None,
            "KB",
        ),
        Row(
            "(e) persistence p99, send → row in Postgres, at half load",
            persist,
            None,
            "< 100 ms",
            "lower",
            at_most(persist, 99.999),
            "ms",
        ),
        Row(
            "(e) backlog drain after a history-api outage",
            drain,
            None,
            "≥ 20,000 msg/s",
            "higher",
            at_least(drain, 20_000),
            "msg/s",
        ),
        Row(
            "(e) messages lost while draining",
            lost,
            None,
            "0",
            "lower",
            None if lost is None else lost == 0,
            "msgs",
        ),
        Row(
            "(f) history page p99 (1M messages, one request at a time)",
            page,
            None,
            "< 10 ms",
            "lower",
            at_most(page, 9.999),
            "ms",
        ),
        Row(
            "(f) conversation list p99 (1M messages, one request at a time)",
            listing,
            None,
            "< 50 ms",
            "lower",
            at_most(listing, 49.999),
            "ms",
        ),
        Row(
            "(f) search p99, two words (1M messages, one request at a time)",
            search,
            None,
            "< 50 ms",
            "lower",
            at_most(search, 49.999),
            "ms",
        ),
        Row(
            f"(g) conversations assigned twice ({rate}/s new, round robin)",
            twice,
            None,
            "0",
            "lower",
            None if twice is None else twice == 0,
            "convs",
        ),
        Row(
            f"(g) conversations dropped from the queue ({rate}/s new, round robin)",
            dropped,
            None,
            "0",
            "lower",
            None if dropped is None else dropped == 0,
            "convs",
        ),
        Row(
            "(h) login p99 from other addresses, calm",
            calm_login,
            None,
            "recorded",
            "lower",
            None,
            "ms",
        ),
        Row(
            "(h) login p99 from other addresses while one address floods auth",
            flooded_login,
            None,
            "< 1 s",
            "lower",
            at_most(flooded_login, 999.999),
            "ms",
        ),
        Row(
            "(i) max sustained msg/s (p99 < 250 ms), nobody typing",
            quiet_rate,
            None,
            "—",
            "higher",
            None,
            "msg/s",
        ),
        Row(
            f"(i) max sustained msg/s (p99 < 250 ms), {typists} customers typing (one / 2 s each)",
            typing_rate,
            None,
            "≥ 95% of quiet",
            "higher",
            None if not quiet_rate else at_least(typing_rate, 0.95 * quiet_rate),
            "msg/s",
        ),
    ]


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
        f"Postgres, Traefik). Mode: {mode}. "
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
        findmax = _get(results, name, "findmax") or {}
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
        workflow = _get(results, name, "workflow")
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
        ramp = _get(results, name, "ramp")
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
    ours = _rounds_by_count(_get(results, "soporte", "scaling"))
    theirs = _rounds_by_count(_get(results, "peer", "scaling"))
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
        "a figure is the median of its rounds.",
        "",
        "| replicas | Soporte | vs fewest (each round) | p99 | peer (node processes) | "
        "Soporte / peer |",
        "|---|---|---|---|---|---|",
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
        lines.append(
            f"| {count} | {_fmt(cpu, 'µs')}{passed} | {growth} | {_fmt(p99, 'ms')} | "
            f"{_fmt(peer, 'µs')} | {ratio} |"
        )
    return lines


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

"""What the summary compares: each measure's figure for Soporte and for the peer, its target
and whether it was met (`rows`), read out of a run's results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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

    @classmethod
    def recorded(cls, label: str, soporte: float | None, peer: float | None, unit: str) -> Row:
        """A figure kept for the record: no target, lower is better."""
        return cls(label, soporte, peer, "recorded", "lower", None, unit)

    @property
    def ratio(self) -> float | None:
        if self.soporte is None or not self.peer:
            return None
        return self.soporte / self.peer


def lookup(data: dict[str, Any], *path: str) -> Any:
    """`data[path[0]][path[1]]...`, or None where the path ends early."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def max_rate(findmax: dict[str, Any] | None) -> float | None:
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
    s_max, p_max = max_rate(s.get("findmax")), max_rate(p.get("findmax"))
    s_cpu = cpu_us_per_message(s["findmax"]) if s.get("findmax") else None
    p_cpu = cpu_us_per_message(p["findmax"]) if p.get("findmax") else None
    s_same = lookup(s, "same_load", "cpu_us_per_message")
    p_same = lookup(p, "same_load", "cpu_us_per_message")
    same_rate = (
        lookup(s, "same_load", "rate") or lookup(p, "same_load", "rate") or Scale().same_load_rate
    )
    s_p99 = lookup(s, "fixed", "result", "latency_ms", "p99")
    p_p99 = lookup(p, "fixed", "result", "latency_ms", "p99")
    fixed_rate = (
        lookup(s, "fixed", "result", "target_rate")
        or lookup(p, "fixed", "result", "target_rate")
        or Scale().fixed_rate
    )
    s_half = lookup(s, "findmax", "half_of_max", "latency_ms", "p99")
    p_half = lookup(p, "findmax", "half_of_max", "latency_ms", "p99")
    s_live = lookup(s, "ramp", "live_after_hold")
    p_live = lookup(p, "ramp", "live_after_hold")
    s_kb = lookup(s, "ramp", "kb_per_connection_total")
    p_kb = lookup(p, "ramp", "kb_per_connection_total")
    persist = lookup(s, "persistence", "persist_p99_ms_at_most")
    acknowledged = lookup(s, "persistence", "acknowledged_at_half", "latency_ms", "p99")
    drain = lookup(s, "persistence", "drain", "messages_per_second")
    lost = None
    if s.get("persistence"):
        rows_stored = s["persistence"].get("rows_for_the_run")
        lost = None if rows_stored is None else s["persistence"]["harness_sent"] - rows_stored
    calm_login = lookup(s, "auth_flood", "calm_ms", "p99")
    flooded_login = lookup(s, "auth_flood", "during_flood_ms", "p99")
    page = lookup(s, "history", "page_ms", "p99")
    listing = lookup(s, "history", "list_ms", "p99")
    search = lookup(s, "history", "search_ms", "p99")
    twice = lookup(s, "workflow", "assigned_twice_or_more")
    dropped = lookup(s, "workflow", "never_assigned")
    rate = lookup(s, "workflow", "rate_per_second") or Scale().workflow_rate
    quiet_rate = max_rate(lookup(s, "typing_tax", "quiet"))
    typing_rate = max_rate(lookup(s, "typing_tax", "typing", "findmax"))
    typists = lookup(s, "typing_tax", "typing", "typists") or Scale().typists

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
        Row.recorded(
            "(c) server CPU per message, median of each system's passing find-max steps",
            s_cpu,
            p_cpu,
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
        Row.recorded("(d) server memory per idle connection (gateway included)", s_kb, p_kb, "KB"),
        Row(
            "(e) persistence p99, send → row in Postgres, at half load",
            persist,
            None,
            "< 100 ms",
            "lower",
            at_most(persist, 99.999),
            "ms",
        ),
        Row.recorded(
            "(e) acknowledgement p99, send → ack (durably appended), at half load",
            acknowledged,
            None,
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
        Row.recorded("(h) login p99 from other addresses, calm", calm_login, None, "ms"),
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

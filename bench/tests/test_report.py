"""The bench report as a reader sees it: the summary's rows and its find-max step tables,
from results shaped as the harness writes them (bench/harness/load.js)."""

from __future__ import annotations

from typing import Any

from soporte_bench.report import markdown


def _step(label: str, rate: int, *, fail: list[str], p50: float, p99: float) -> dict[str, Any]:
    """One find-max step as the harness summarises it: its latencies flat, its failures."""
    return {
        "label": label,
        "rate": rate,
        "pass": not fail,
        "fail": fail,
        "achieved": rate,
        "p50": p50,
        "p99": p99,
        "cpu": {"realtime-1": 35.0, "redis": 18.1},
    }


def _results(*, soporte_max: int, peer_max: int) -> dict[str, Any]:
    return {
        "meta": {
            "date": "2026-11-29 03:28",
            "cpus": 2,
            "python": "3.11.2 (/usr/bin/python3.11)",
            "smoke": False,
            "command": "test",
        },
        "soporte": {
            "findmax": {
                "max_sustained_rate": soporte_max,
                "steps": [
                    _step("step", 1000, fail=[], p50=3.17, p99=44.758),
                    _step("step", 1500, fail=["p99 65.648ms >= 50"], p50=3.016, p99=65.648),
                ],
            }
        },
        "peer": {"findmax": {"max_sustained_rate": peer_max, "steps": []}},
    }


def _row(summary: str, label: str) -> list[str]:
    line = next(line for line in summary.splitlines() if line.startswith(f"| {label}"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_each_find_max_step_shows_its_latencies_and_why_it_failed() -> None:
    summary = markdown(_results(soporte_max=1000, peer_max=1519))

    steps = [line for line in summary.splitlines() if line.startswith("| step |")]
    assert steps[1] == "| step | 1000 | yes | 3.17 | 44.758 | realtime-1 35.0, redis 18.1 |"
    assert steps[2] == (
        "| step | 1500 | no; p99 65.648ms >= 50 | 3.016 | 65.648 | realtime-1 35.0, redis 18.1 |"
    )
    assert "None" not in "\n".join(steps)


def test_the_summary_names_the_interpreter_the_services_ran_on() -> None:
    summary = markdown(_results(soporte_max=1000, peer_max=1519))

    assert "Python: 3.11.2 (/usr/bin/python3.11)." in summary


def test_the_sustained_rate_is_compared_with_the_peer_s() -> None:
    summary = markdown(_results(soporte_max=1188, peer_max=1519))

    assert _row(summary, "(a) max sustained")[1:6] == [
        "1,188 msg/s",
        "1,519 msg/s",
        "0.78×",
        "≥ peer",
        "**no**",
    ]


def test_a_peer_that_confirmed_no_rate_is_not_a_rate_to_beat() -> None:
    summary = markdown(_results(soporte_max=1000, peer_max=0))

    assert _row(summary, "(a) max sustained")[1:6] == ["1,000 msg/s", "—", "—", "≥ peer", "—"]


def test_the_acknowledgement_latency_is_read_from_the_persistence_run() -> None:
    results = _results(soporte_max=1000, peer_max=1519)
    acks = {"ok": 9000, "refused": 0, "missing": 0, "latency_ms": {"p50": 1.9, "p99": 4.37}}
    results["soporte"]["persistence"] = {
        "persist_p99_ms_at_most": 25.0,
        "acknowledged_at_half": acks,
    }

    assert _row(markdown(results), "(e) acknowledgement p99")[1:6] == [
        "4.37 ms",
        "—",
        "—",
        "recorded",
        "—",
    ]


def _scaling_point(
    replicas: int, round_: int, cpu: float, wakeups: dict[str, int | None] | None = None
) -> dict[str, Any]:
    """One (j) run as cli.py records it."""
    return {
        "replicas": replicas,
        "rate": 1000,
        "cpu_us_per_message": cpu,
        "p99_ms": 4.5,
        "passed": True,
        "round": round_,
        **({"wakeups_per_s": wakeups} if wakeups is not None else {}),
    }


def _replicas_waking(replicas: int, each: int) -> dict[str, int | None]:
    """A Soporte point's wake-ups: each replica's, and processes (j) does not scale."""
    return {f"realtime-{i}": each for i in range(1, replicas + 1)} | {
        "redis": 9_999,
        "traefik-1": 7_777,
        "harness": None,
    }


def _scaling_results(soporte: list[dict[str, Any]], peer: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "meta": {"date": "2026-11-29 12:00", "cpus": 2, "smoke": False, "command": "test"},
        "soporte": {"scaling": soporte},
        "peer": {"scaling": peer},
    }


def test_replica_scaling_gives_each_count_s_median_and_each_round_s_ratio() -> None:
    # Each replica's wake-ups a second, by replica count, in rounds 1, 2 and 3.
    each_waking = {1: (1201, 1202, 1203), 2: (640, 650, 660), 4: (325, 350, 375)}
    soporte = [
        _scaling_point(
            replicas, round_, cpu, _replicas_waking(replicas, each_waking[replicas][round_ - 1])
        )
        for round_, cpus in enumerate([(600, 660, 720), (700, 700, 840), (650, 700, 702)], 1)
        for replicas, cpu in zip((1, 2, 4), cpus, strict=True)
    ]
    node_processes = {f"node{i}": 500 for i in range(1, 5)} | {"valkey-server": 77}
    peer = [
        _scaling_point(4, round_, cpu, node_processes)
        for round_, cpu in enumerate([800, 760, 900], 1)
    ]
    summary = markdown(_scaling_results(soporte, peer))

    assert "Each count measured 3 times, a round at a time" in summary
    assert _row(summary, "1 |") == [
        "1",
        "650 µs",
        "1.00× (1.00, 1.00, 1.00)",
        "4.5 ms",
        "1,202 / —",
        "—",
        "—",
    ]
    # 4 against 1 per round: 720/600, 840/700, 702/650; the median of the three is 1.20.
    # Wake-ups: the four replicas' sums 1,300, 1,400, 1,500 (Valkey's and Traefik's left
    # out); the peer's four node processes 2,000.
    assert _row(summary, "4 |") == [
        "4",
        "720 µs",
        "1.20× (1.20, 1.20, 1.08)",
        "4.5 ms",
        "1,400 / 2,000",
        "800 µs",
        "0.90×",
    ]


def test_replica_scaling_from_before_rounds_reads_as_one_round() -> None:
    soporte = [
        {k: v for k, v in _scaling_point(n, 1, cpu).items() if k != "round"}
        for n, cpu in ((1, 772), (4, 927))
    ]
    soporte[1]["passed"] = False
    summary = markdown(_scaling_results(soporte, []))

    assert "Each count measured 1 time," in summary
    assert _row(summary, "4 |")[:3] == ["4", "927 µs (a run failed a check)", "1.20×"]
    assert _row(summary, "4 |")[4] == "— / —"  # the harness did not count wake-ups then

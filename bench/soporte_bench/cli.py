"""`soporte-bench` (what `make bench` runs).

    soporte-bench                  every scenario against Soporte, then the peer if found
    soporte-bench --smoke          a few seconds of tiny load (CI: proves the tooling works)
    soporte-bench --only a,d       a subset: a (find-max, b, c), d (ramp), e, f, g, h, i, j
    soporte-bench --only p         py-spy flame graphs of the realtime replicas under load
    soporte-bench --no-peer        Soporte only

Each measurement starts a fresh stack exactly as `make run` does (two realtime replicas
behind Traefik, Redis stream, consumer, Postgres). Results go to bench/results/<date>/:
result.json, summary.md, chart.png, and the harness's own JSON per step.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from soporte_bench import (
    comparison,
    edge,
    harness,
    history,
    report,
    scenarios,
    signals_load,
    workflow_load,
)
from soporte_bench.scenarios import SMOKE, Scale, step
from soporte_bench.targets import Peer, Soporte, Target

RESULTS = Path(__file__).resolve().parents[1] / "results"
DEFAULT_PEER = Path(__file__).resolve().parents[3] / "shared" / "peer"


def measured(target: Target, scale: Scale, what: str, measure: Callable[[], Any]) -> Any:
    """Start the target fresh, measure, always stop it."""
    step(f"{target.name}: {what}")
    target.start(users=max(scale.users, scale.ramp_conns), admins=scale.admins)
    try:
        return measure()
    finally:
        target.stop()


def run_target(target: Target, scale: Scale, only: set[str], out: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    out.mkdir(parents=True, exist_ok=True)
    if "a" in only:
        results["findmax"] = measured(
            target,
            scale,
            "(a) highest sustained rate, (b) latency at half, (c) CPU/message",
            lambda: scenarios.find_max(target, scale, out / "findmax.json"),
        )
        results["fixed"] = measured(
            target,
            scale,
            f"(b) latency at a fixed {scale.fixed_rate} msg/s",
            lambda: scenarios.fixed_rate(target, scale, out / "fixed.json", rate=scale.fixed_rate),
        )
        results["same_load"] = measured(
            target,
            scale,
            f"(c) CPU per message at a fixed {scale.same_load_rate} msg/s",
            lambda: scenarios.cpu_at_rate(
                target, scale, out / "same_load.json", rate=scale.same_load_rate
            ),
        )
    if "d" in only:
        if isinstance(target, Soporte):
            target.gateway_replicas = 1 if scale.smoke else 3
        results["ramp"] = measured(
            target,
            scale,
            "(d) idle connections and memory",
            lambda: scenarios.ramp(target, scale, out),
        )
        if isinstance(target, Soporte):
            target.gateway_replicas = 1
    if isinstance(target, Soporte) and "e" in only:
        max_rate = comparison.max_rate(results.get("findmax")) or scale.fixed_rate * 2
        half = max(scale.fixed_rate // 2, int(max_rate // 2))
        results["persistence"] = measured(
            target,
            scale,
            "(e) persistence latency at half load, backlog drain",
            lambda: scenarios.persistence(target, scale, out, half),
        )
    if isinstance(target, Soporte) and "f" in only:
        results["history"] = measured(
            target,
            scale,
            f"(f) history API and search with {scale.history_messages:,} messages",
            lambda: history.history(target, scale),
        )
    if isinstance(target, Soporte) and "g" in only:
        target.extra_env = workflow_load.ENV
        results["workflow"] = measured(
            target,
            scale,
            f"(g) round robin: {scale.workflow_rate} new conversations/s, {scale.admins} agents",
            lambda: workflow_load.auto_assignment(target, scale),
        )
        target.extra_env = {}
    if isinstance(target, Soporte) and "h" in only:
        results["auth_flood"] = measured(
            target,
            scale,
            "(h) logins from other addresses, calm and during a login flood from one",
            lambda: edge.auth_flood(target, logins=scale.auth_logins, workers=scale.flood_workers),
        )
    if isinstance(target, Soporte) and "i" in only:
        results["typing_tax"] = {
            "quiet": measured(
                target,
                scale,
                "(i) the typing tax: max sustained msg/s, nobody typing",
                lambda: signals_load.quiet(target, scale, out / "typing_quiet.json"),
            ),
            "typing": measured(
                target,
                scale,
                f"(i) the typing tax: max sustained msg/s, {scale.typists} customers typing",
                lambda: signals_load.typing(target, scale, out / "typing_busy.json"),
            ),
        }
    if isinstance(target, Soporte) and "p" in only:
        rate = scale.scaling_rate * 3 // 2
        results["profile"] = measured(
            target,
            scale,
            f"(p) py-spy flame graphs of the realtime replicas at {rate} msg/s",
            lambda: scenarios.profile(target, scale, out, rate=rate),
        )
    if "j" in only:
        # The peer from two node processes up: with one, run-peer.sh drops Traefik and Redis.
        counts = [n for n in scale.scaling_replicas if isinstance(target, Soporte) or n > 1]
        rounds = scale.scaling_rounds
        points = []
        # Every count once per round: a slower minute of this shared host then lands on one
        # point of each count rather than on all of one (one run per count of the same build
        # put 4 replicas against 1 anywhere from 1.05x to 1.25x: docs/performance.md).
        for round_ in range(1, rounds + 1):
            for count in counts:
                target.replicas = count
                point = measured(
                    target,
                    scale,
                    f"(j) replica scaling, round {round_}/{rounds}: "
                    f"{count} replicas at {scale.scaling_rate} msg/s",
                    partial(
                        scenarios.cpu_at_rate,
                        target,
                        scale,
                        out / f"scaling-{count}-{round_}.json",
                        rate=scale.scaling_rate,
                    ),
                )
                points.append({**point, "round": round_})
        target.replicas = 2
        results["scaling"] = points
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="soporte-bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="a few seconds of tiny load")
    parser.add_argument(
        "--only",
        default="a,d,e,f,g,h,i,j",
        help="scenarios: a (with b, c), d, e, f, g, h, i, j; p (profile)",
    )
    parser.add_argument("--no-peer", action="store_true", help="measure Soporte only")
    parser.add_argument(
        "--peer-only",
        action="store_true",
        help="measure the peer only, adding to the results already in --out",
    )
    parser.add_argument(
        "--peer-dir",
        type=Path,
        default=Path(os.environ.get("SOPORTE_PEER_DIR", DEFAULT_PEER)),
        help="the Node peer (default ../shared/peer or $SOPORTE_PEER_DIR)",
    )
    parser.add_argument("--out", type=Path, default=None, help="results folder")
    args = parser.parse_args(argv)

    scale = SMOKE if args.smoke else Scale()
    only = set(args.only.split(","))
    stamp = time.strftime("%Y-%m-%d-%H%M%S") + ("-smoke" if args.smoke else "")
    out = args.out or RESULTS / stamp
    harness.ensure_installed()
    previous = out / "result.json"  # --peer-only adds the peer to an earlier run's results
    results: dict[str, Any] = json.loads(previous.read_text()) if previous.exists() else {}
    results["meta"] = results.get("meta") or {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "cpus": os.cpu_count(),
        # The services' interpreter is this one (the same environment): its build moves
        # the figures (docs/performance.md, "The interpreter's build").
        "python": f"{platform.python_version()} ({os.path.realpath(sys.executable)})",
        "smoke": args.smoke,
        "command": "soporte-bench " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
        "scale": scale.__dict__,
    }
    targets: list[Target] = [] if args.peer_only else [Soporte()]
    if not args.no_peer and not args.smoke:
        if (args.peer_dir / "run-peer.sh").exists():
            targets.append(Peer(args.peer_dir))
        else:
            print(f"(no peer at {args.peer_dir}: Soporte only; set SOPORTE_PEER_DIR)")
    for target in targets:
        # Added to what an earlier run into the same --out measured (--only, --peer-only).
        results[target.name] = results.get(target.name, {}) | run_target(
            target, scale, only, out / target.name
        )
        report.write(results, out)  # keep what we have if a later target fails
    step(f"done: {out / 'summary.md'}")
    print(report.markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

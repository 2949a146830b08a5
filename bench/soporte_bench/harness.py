"""Running the Node load harness (bench/harness/load.js) and reading its summary."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

HARNESS_DIR = Path(__file__).resolve().parents[1] / "harness"

# The reference run's settings (peer README), so every figure is comparable with it;
# only the number of confirmations differs (bench/harness/README.md).
FIND_MAX = [
    "--mode",
    "find-max",
    "--step-duration",
    "10",
    "--confirm-duration",
    "15",
    # A confirmation that meets a latency burst backs off 10% and tries again: six tries
    # report the rate that held (down to 59% of the bisected one) rather than none.
    "--confirm-attempts",
    "6",
    "--half-duration",
    "20",
    "--bisect",
    "3",
    "--warmup",
    "5",
    "--p99-ms",
    "50",
    "--rate-growth",
    "1.5",
    "--max-run-seconds",
    "900",
]
RAMP = [
    "--mode",
    "ramp",
    "--max-time",
    "120",
    "--hold",
    "10",
    "--max-rss-mb",
    "8192",
    "--max-failures",
    "100",
    "--max-run-seconds",
    "300",
]


def ensure_installed() -> None:
    if not (HARNESS_DIR / "node_modules" / "socket.io-client").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HARNESS_DIR,
            check=True,
        )


def run(args: list[str], *, out: Path, timeout: float = 1200) -> dict[str, Any]:
    """Run the harness; its progress goes to our stderr, its JSON summary is returned."""
    command = ["node", str(HARNESS_DIR / "load.js"), *args, "--out", str(out)]
    result = subprocess.run(
        command, stdout=subprocess.PIPE, text=True, timeout=timeout, check=False
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if not lines:
        raise RuntimeError(f"the harness printed no summary (exit {result.returncode})")
    summary: dict[str, Any] = json.loads(lines[-1])
    return summary


def start(args: list[str], *, out: Path) -> subprocess.Popen[str]:
    """Start a harness in the background (several ramps at once)."""
    command = ["node", str(HARNESS_DIR / "load.js"), *args, "--out", str(out)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str], timeout: float = 600) -> dict[str, Any]:
    stdout, _ = process.communicate(timeout=timeout)
    lines = [line for line in stdout.splitlines() if line.strip()]
    summary: dict[str, Any] = json.loads(lines[-1])
    return summary

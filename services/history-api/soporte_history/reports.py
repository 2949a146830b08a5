"""What a support lead asks for, from the support cycles (soporte_history.cycles): how many
conversations opened and were resolved, and how fast the team answered and resolved them,
overall and per agent. Durations are medians and 90th percentiles over the cycles completed
in the period."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

import asyncpg

from soporte_history.queries import iso
from soporte_history.schemas import AgentReport, Durations, Report, ResponseTime

_KEY_PER_MS: Final = 1_000_000  # ids fold as ms * 1_000_000 + seq
# How far back the customer-facing median first response looks.
RESPONSE_TIME_DAYS: Final = 30

DURATIONS = """
WITH measured AS (
    SELECT 'primera_respuesta' AS medida, respondido_por AS agente,
           (respuesta_id / 1000000 - inicio_id / 1000000) / 1000.0 AS s
      FROM ciclos WHERE respuesta_id >= $1
    UNION ALL
    SELECT 'resolucion', resuelto_por, (resuelto_id / 1000000 - inicio_id / 1000000) / 1000.0
      FROM ciclos WHERE resuelto_id >= $1
)
SELECT medida, agente, GROUPING(agente) = 1 AS todos, count(*) AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS mediana,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY s) AS p90
  FROM measured
 GROUP BY GROUPING SETS ((medida), (medida, agente))
"""

COUNTS = """
SELECT (SELECT count(*) FROM ciclos WHERE inicio_id >= $1) AS abiertas,
       (SELECT count(*) FROM ciclos WHERE resuelto_id >= $1) AS resueltas
"""

MEDIAN_FIRST_RESPONSE = """
SELECT percentile_cont(0.5) WITHIN GROUP (
           ORDER BY (respuesta_id / 1000000 - inicio_id / 1000000) / 1000.0)
  FROM ciclos WHERE respuesta_id >= $1
"""

NONE: Final = Durations(n=0, mediana_segundos=None, p90_segundos=None)


def _since(days: int) -> tuple[int, datetime]:
    """The key of the first possible entry `days` ago, and that moment."""
    ms = int((time.time() - days * 86_400) * 1000)
    return ms * _KEY_PER_MS, datetime.fromtimestamp(ms / 1000, UTC)


async def report(db: asyncpg.Pool, days: int, names: Mapping[str, str]) -> Report:
    """`names`: agents' display names by username (an unknown one is shown as its
    username)."""
    since, moment = _since(days)
    counts = await db.fetchrow(COUNTS, since)
    assert counts is not None  # a SELECT without FROM answers one row
    overall: dict[str, Durations] = {}
    per_agent: dict[str, dict[str, Durations]] = {}
    for row in await db.fetch(DURATIONS, since):
        durations = Durations(n=row["n"], mediana_segundos=row["mediana"], p90_segundos=row["p90"])
        if row["todos"]:
            overall[row["medida"]] = durations
        elif row["agente"] is not None:  # resolved while nobody held it: overall only
            per_agent.setdefault(row["agente"], {})[row["medida"]] = durations
    return Report(
        dias=days,
        desde=iso(moment),
        abiertas=counts["abiertas"],
        resueltas=counts["resueltas"],
        primera_respuesta=overall.get("primera_respuesta", NONE),
        resolucion=overall.get("resolucion", NONE),
        por_agente=[
            AgentReport(
                agente=agente,
                nombre=names.get(agente, agente),
                primera_respuesta=measures.get("primera_respuesta", NONE),
                resolucion=measures.get("resolucion", NONE),
            )
            for agente, measures in sorted(per_agent.items())
        ],
    )


async def response_time(db: asyncpg.Pool) -> ResponseTime:
    since, _ = _since(RESPONSE_TIME_DAYS)
    median = await db.fetchval(MEDIAN_FIRST_RESPONSE, since)
    return ResponseTime(mediana_segundos=median)

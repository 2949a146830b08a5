"""The audit trail's one entry point: any service records what an agent did with `record`,
which appends the entry to the Redis stream `keys.AUDIT_STREAM`. history-api's consumer
group stores each entry once in its append-only table `auditoria`, which agents read at
`GET /api/auditoria` (docs/operations.md, "Audit").

What agents do in a conversation (notes, status changes, assignments) is not recorded here:
history-api projects it into the trail from the conversation log itself. An entry never
holds what a customer or an agent wrote, only who did what to whom: the trail outlives an
erasure and must not keep what was erased.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import orjson
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import AuditAction
from soporte_common.messages import EntryFields, now_iso

# Who `agente` is when no agent acted: Soporte itself (retention), an operator's command.
NOBODY = ""


class AuditEntry(EntryFields):
    """An entry of the audit stream, as history-api parses it."""

    agente: str  # the agent's username; NOBODY when no agent acted
    accion: AuditAction
    objetivo: str  # whom or what it was done to (a customer, an agent, a site)
    detalles: str = "{}"  # a JSON object: counts, the new status... never content
    fecha: str

    def details(self) -> dict[str, object]:
        loaded = orjson.loads(self.detalles)
        if not isinstance(loaded, dict):
            raise ValueError("detalles must be a JSON object")
        return cast(dict[str, object], loaded)


async def record(
    redis: Redis,
    agente: str | None,
    accion: AuditAction,
    objetivo: str,
    detalles: Mapping[str, object] | None = None,
) -> str:
    """Append one entry to the audit trail (`agente` None: no agent acted); returns its id.
    Raises RedisError when Redis fails: a caller that must not act unaudited acts after."""
    entry = AuditEntry(
        agente=agente or NOBODY,
        accion=accion,
        objetivo=objetivo,
        detalles=orjson.dumps(dict(detalles or {})).decode(),
        fecha=now_iso(),
    )
    pairs = entry.fields()
    fields = dict(zip(pairs[::2], pairs[1::2], strict=True))
    entry_id: bytes | str = await redis.xadd(keys.AUDIT_STREAM, fields)  # type: ignore[arg-type]
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id

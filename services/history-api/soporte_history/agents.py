"""Who the agents are and whether they are there, as realtime's presence keeps it in Redis
(keys.KNOWN_AGENTS: every agent who ever connected, with its display name;
keys.PRESENCE: each one's last announced state)."""

from __future__ import annotations

from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import PresenceState
from soporte_history.schemas import AgentStatus


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def agent_names(redis: Redis) -> dict[str, str]:
    names = await redis.hgetall(keys.KNOWN_AGENTS)
    return {_text(usuario): _text(nombre) for usuario, nombre in names.items()}


async def agents(redis: Redis) -> list[AgentStatus]:
    """By display name."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hgetall(keys.KNOWN_AGENTS)
        pipe.hgetall(keys.PRESENCE)
        names, states = await pipe.execute()
    found = [
        AgentStatus(
            usuario=usuario.decode(),
            nombre=nombre.decode(),
            estado=PresenceState(
                states.get(usuario, PresenceState.OFFLINE.value.encode()).decode()
            ),
        )
        for usuario, nombre in names.items()
    ]
    return sorted(found, key=lambda a: (a.nombre.lower(), a.usuario))

"""A test client that behaves like the browser: reconnects by itself, and after every
(re)connect or `sincronizar` fetches what came after the last id it saw, keeping each
message once. The fault tests use it to check "nothing missed" from the outside."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
import socketio

from .conftest import STICKY_COOKIE, Person


def id_key(message_id: str) -> tuple[int, int]:
    ms, _, seq = message_id.partition("-")
    return int(ms), int(seq)


@dataclass
class ResilientChat:
    base_url: str
    person: Person
    conversation: str  # the customer whose conversation this client follows
    replica: str | None = None
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    live_ids: list[str] = field(default_factory=list)
    connects: int = 0
    sio: socketio.AsyncClient = field(
        default_factory=lambda: socketio.AsyncClient(
            reconnection=True,
            reconnection_delay=0.2,
            reconnection_delay_max=1.0,
            randomization_factor=0.0,
        )
    )
    _sync_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.sio.on("connect", self._on_connect)
        self.sio.on("mensaje_recibido", self._on_message)
        self.sio.on("sincronizar", self._on_sync)

    @property
    def last_id(self) -> str | None:
        return max(self.messages, key=id_key) if self.messages else None

    @property
    def ordered_ids(self) -> list[str]:
        return sorted(self.messages, key=id_key)

    async def start(self, transport: str = "websocket") -> None:
        # The token goes in the Socket.IO auth payload, which the client resends on every
        # reconnect (python-engineio drops a custom Cookie header after the first connect);
        # the cookie only pins the first connection to a replica.
        headers = {"Cookie": f"{STICKY_COOKIE}={self.replica}"} if self.replica else {}
        await self.sio.connect(
            self.base_url,
            headers=headers,
            auth={"token": self.person.token},
            transports=[transport],
            wait_timeout=10,
        )

    async def stop(self) -> None:
        await self.sio.disconnect()

    async def send(self, mensaje: str) -> dict[str, Any]:
        para = self.conversation if self.person.rol == "admin" else "admin"
        ack: dict[str, Any] = await self.sio.call(
            "mensaje_privado", {"para": para, "mensaje": mensaje}, timeout=15
        )
        if ack["ok"]:  # our own message comes back as the acknowledgement, not as an emit
            self.messages.setdefault(
                ack["id"],
                {
                    "id": ack["id"],
                    "de": self.person.usuario,
                    "para": para,
                    "mensaje": mensaje,
                    "fecha": ack["fecha"],
                },
            )
        return ack

    async def _on_connect(self) -> None:
        self.connects += 1
        await self.catch_up()

    async def _on_sync(self, _: object) -> None:
        await self.catch_up()

    def _on_message(self, message: dict[str, Any]) -> None:
        self.live_ids.append(message["id"])
        self.messages.setdefault(message["id"], message)

    async def catch_up(self) -> None:
        """Everything after the last id seen (retrying while history is unavailable)."""
        async with self._sync_lock:
            path = "/api/mensajes/mios" if self.person.rol == "user" else "/api/mensajes"
            params = {} if self.person.rol == "user" else {"con": self.conversation}
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=15, cookies={"token": self.person.token}
            ) as http:
                for _ in range(200):
                    query = {**params, "limit": "200"}
                    if self.last_id:
                        query["after"] = self.last_id
                    response = await http.get(path, params=query)
                    if response.status_code in (502, 503, 504):
                        await asyncio.sleep(0.5)
                        continue
                    response.raise_for_status()
                    page = response.json()
                    for message in page["mensajes"]:
                        self.messages.setdefault(message["id"], message)
                    if not page["hay_siguientes"] or not self.last_id:
                        return

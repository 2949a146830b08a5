"""Running an ASGI service the same way everywhere (`make run`, containers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import uvicorn

# Idle keep-alive connections stay open longer than the gateway keeps them (Traefik's
# serversTransport idleConnTimeout, 90 s by default): the gateway closes them first. The
# other way round, a request it sends on a connection the service is closing that very
# moment fails with a 502, and Traefik never retries a POST.
KEEP_ALIVE_SECONDS = 100


def serve(app_factory: Callable[[], Any], *, host: str, port: int, trusted_proxies: str) -> None:
    """`trusted_proxies` (SOPORTE_TRUSTED_PROXIES): the only peers whose X-Forwarded-For
    is believed; the client's address is the last entry that is not one of them."""
    uvicorn.run(
        app_factory,
        factory=True,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        ws="none",
        access_log=False,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=trusted_proxies,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=10,
    )

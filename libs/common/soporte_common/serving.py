"""Running an ASGI service the same way everywhere (`make run`, containers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import uvicorn


def serve(app_factory: Callable[[], Any], *, host: str, port: int) -> None:
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
        forwarded_allow_ips="*",
        timeout_graceful_shutdown=10,
    )

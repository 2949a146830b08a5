"""The heap of a service that has started: what start-up allocated (the app, its models,
clients, pools, the replica's server) lives as long as the process."""

from __future__ import annotations

import gc


def freeze_start_up_heap() -> None:
    """Take what start-up allocated out of the cyclic collector's way, once the service
    has started: a full collection under load would otherwise walk all of it (history-api
    stalled its consumer ~120 ms for one; docs/performance.md), and collections then walk
    only what requests and messages allocate. Start-up's garbage is freed first, not kept
    for good."""
    gc.collect()
    gc.freeze()

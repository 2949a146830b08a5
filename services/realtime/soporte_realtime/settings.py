from __future__ import annotations

from soporte_common.messages import DEFAULT_MAX_MESSAGE_LENGTH
from soporte_common.settings import SoporteSettings


class RealtimeSettings(SoporteSettings):
    max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH
    # Per user, across every replica: at most this many messages per window.
    rate_limit_messages: int = 30
    rate_limit_window_seconds: float = 10.0
    # Largest Socket.IO frame accepted; a bigger one closes that connection.
    max_frame_bytes: int = 64 * 1024
    # How long a client-chosen message id (`cid`) is remembered for deduplicating retries.
    client_id_ttl_seconds: int = 24 * 3600
    # At most this many open sockets per user, across every replica.
    max_sockets_per_user: int = 20
    # A replica renews its sockets in Redis every third of this; a replica that dies
    # without a goodbye stops counting (sockets, presence) within it plus one sweep
    # (the defaults: within 28 s).
    presence_ttl_seconds: float = 25.0
    # How often each replica looks for sockets that stopped counting.
    presence_sweep_seconds: float = 3.0
    # An engine.io session that has not joined with a valid token by then is closed.
    join_timeout_seconds: float = 10.0
    # A socket whose unsent output (queued for a client that does not read) passes this
    # many bytes is closed; its client reconnects and catches up.
    max_unsent_bytes: int = 1024 * 1024
    ping_interval_seconds: int = 25
    ping_timeout_seconds: int = 20

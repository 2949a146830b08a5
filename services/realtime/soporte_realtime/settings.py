from __future__ import annotations

from pydantic import Field

from soporte_common.messages import DEFAULT_MAX_MESSAGE_LENGTH
from soporte_common.settings import SoporteSettings
from soporte_realtime.conversation_lua import AutoAssign, WorkflowConfig


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
    # A replica renews its sockets and its rooms in Redis every third of this; a replica
    # that dies without a goodbye stops counting (sockets, presence, the rooms it receives
    # emits for) within it plus one sweep (the defaults: within 28 s).
    presence_ttl_seconds: float = 25.0
    # How often each replica looks for sockets that stopped counting.
    presence_sweep_seconds: float = 3.0
    # Typing signals (`escribiendo`) relayed per socket: at most one in this many seconds;
    # the rest are dropped silently (clients send one every 2 s while typing).
    typing_min_interval_seconds: float = Field(default=1.0, ge=0)
    # An engine.io session that has not joined with a valid token by then is closed.
    join_timeout_seconds: float = 10.0
    # A socket whose unsent output (queued for a client that does not read) passes this
    # many bytes is closed; its client reconnects and catches up.
    max_unsent_bytes: int = 1024 * 1024
    ping_interval_seconds: int = 25
    ping_timeout_seconds: int = 20
    # Who gets a new or reopened conversation that nobody holds: `round_robin` hands it to
    # the en_linea agent with the fewest open conversations (else it waits in a queue until
    # one comes online or has room); `off` leaves it unassigned.
    auto_assign: AutoAssign = AutoAssign.ROUND_ROBIN
    # Round robin gives an agent no more than this many open (abierta or pendiente)
    # conversations; 0: no cap.
    max_open_per_agent: int = Field(default=0, ge=0)
    # How often each replica ends the snoozes whose time came and serves the queue.
    snooze_sweep_seconds: float = Field(default=1.0, gt=0)

    def workflow(self) -> WorkflowConfig:
        return WorkflowConfig(
            auto_assign=self.auto_assign, max_open_per_agent=self.max_open_per_agent
        )

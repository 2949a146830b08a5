"""Prometheus metrics of one realtime replica (scraped at /metrics on its own port)."""

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge("soporte_realtime_connections", "Open Socket.IO connections on this replica.")
CONNECTIONS_REFUSED = Counter(
    "soporte_realtime_connections_refused_total", "Handshakes refused, by reason.", ["reason"]
)
SOCKETS_CLOSED = Counter(
    "soporte_realtime_sockets_closed_total",
    "Sockets the replica closed itself, by reason: sin_unirse (no valid join in time), "
    "binario (a binary packet), sin_leer (unsent output past the limit).",
    ["reason"],
)
ACCEPTED = Counter("soporte_messages_accepted_total", "Messages appended to the stream.")
REFUSED = Counter("soporte_messages_refused_total", "Messages refused, by reason.", ["reason"])
DELIVERED = Counter(
    "soporte_messages_delivered_total",
    "Messages this replica delivered to its sockets (counted once per message).",
)
SUBSCRIBED = Gauge(
    "soporte_realtime_subscribed",
    "1 while this replica is subscribed to its pub/sub channels, 0 while it resubscribes.",
)
STREAM_LENGTH = Gauge(
    "soporte_stream_length",
    "Entries in the `mensajes` stream: the backlog history-api has not acknowledged yet.",
)
ACCEPT_LATENCY = Histogram(
    "soporte_accept_latency_seconds",
    "From receiving mensaje_privado to its acknowledgement.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
TYPING = Counter(
    "soporte_typing_signals_total",
    "Typing signals (`escribiendo`), by outcome: enviada (relayed), descartada (over the "
    "per-socket limit, dropped silently), rechazada (refused).",
    ["resultado"],
)

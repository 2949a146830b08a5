"""Every Redis key and channel name the services share, in one place."""

# The message log: realtime appends, history-api's consumer group persists.
STREAM = "mensajes"
CONSUMER_GROUP = "history-api"
# Entries the consumer could not store (malformed): kept for an operator, never retried.
DEAD_LETTER_STREAM = "mensajes:rechazados"

# python-socketio's AsyncRedisManager channel (rooms and emits across realtime replicas).
SOCKETIO_CHANNEL = "socketio"

# Who exists and with which role: {usuario: rol}. Auth writes it, every verifier reads it.
USER_DIRECTORY = "soporte:usuarios"
# Set by auth after a full directory sync; its absence (Redis lost data) triggers a resync.
USER_DIRECTORY_SYNCED = "soporte:usuarios:sincronizado"

# The website widget's sites: {site key: JSON {nombre, origenes}} (never the identity
# secret). Auth writes it from its `sitios` table; the pages server (frame-ancestors) and
# realtime (the pages visitors report) read it. The marker works as the directory's does.
SITES = "soporte:sitios"
SITES_SYNCED = "soporte:sitios:sincronizado"

# Channel on which revoked sessions are announced: the payload is a token's jti (auth, at
# logout), or `user_revocation(usuario)` for every session of one user (an erasure).
REVOCATIONS_CHANNEL = "soporte:sesiones-revocadas"
USER_REVOCATION_PREFIX = "usuario:"  # a jti is hex: never mistaken for this

# The audit trail (soporte_common.audit): every service appends what agents do; history-api's
# consumer group (CONSUMER_GROUP) stores it in the `auditoria` table, append-only.
AUDIT_STREAM = "soporte:auditoria"
AUDIT_DEAD_LETTER_STREAM = "soporte:auditoria:rechazados"
# Held by the history-api instance running retention, so only one runs it at a time.
RETENTION_LOCK = "soporte:retencion"


# Open sockets across every replica (realtime's presence module): per user, a sorted set
# of socket ids scored by when each stops counting unless its replica renews it, and the
# set of those that are idle (an agent's hidden tab).
USER_SOCKETS_PREFIX = "soporte:conexiones:"
IDLE_SOCKETS_PREFIX = "soporte:inactivas:"
# Agents who ever connected (usuario -> display name); their last announced state
# (usuario -> en_linea | ausente | desconectado); those who set themselves away; "1" while
# any agent is en_linea.
KNOWN_AGENTS = "soporte:agentes"
PRESENCE = "soporte:presencia"
AWAY_AGENTS = "soporte:ausentes"
SUPPORT_AVAILABLE = "soporte:disponible"

# Which realtime replica needs which room's emits (realtime's room registry): per room, a
# hash replica id -> how many of its sockets are in the room; per replica, the set of rooms
# it registered; and every replica's deadline (Redis ms), renewed by its heartbeat, after
# which any replica's sweep forgets it. A replica's own channel carries the emits for it.
ROOM_REPLICAS_PREFIX = "soporte:sala:"
REALTIME_REPLICAS = "soporte:replicas"


def replica_rooms(replica: str) -> str:
    return f"soporte:replica:{replica}:salas"


def replica_channel(replica: str) -> str:
    return f"{SOCKETIO_CHANNEL}#{replica}"


# Each conversation's live state (realtime's conversation scripts change it, and only they,
# in the same atomic step that appends the change to the stream): a hash per customer
# {estado, asignado, hasta, ciclo, respondida} (soporte_common.conversation_state).
CONVERSATION_STATE_PREFIX = "soporte:conversacion:"
# Snoozed conversations, scored by when they wake (ms).
SNOOZED = "soporte:pospuestas"
# Conversations waiting for auto-assignment, scored by arrival (their entry id).
WAITING_QUEUE = "soporte:cola"
# Agent -> how many abierta or pendiente conversations are assigned to them.
AGENT_LOAD = "soporte:carga"
# Agent -> when auto-assignment last gave them a conversation (Redis µs; ties of load).
LAST_AUTO_ASSIGNED = "soporte:ultima-asignacion"
# Set by history-api after re-seeding the state above from Postgres; its absence (Redis
# lost its data) triggers a re-seed.
CONVERSATION_STATE_SEEDED = "soporte:conversaciones:sembrado"


def conversation_state(usuario: str) -> str:
    return f"{CONVERSATION_STATE_PREFIX}{usuario}"


def user_revocation(usuario: str) -> str:
    """The revocations channel's payload that ends every session of `usuario`."""
    return f"{USER_REVOCATION_PREFIX}{usuario}"


def erased(usuario: str) -> str:
    """Present while `usuario` is being erased, and for a while after (history-api's
    erasure): nothing of theirs is accepted, their account is not published again."""
    return f"soporte:borrado:{usuario}"


def revoked_session(jti: str) -> str:
    """Present while the session `jti` is revoked (expires with the token)."""
    return f"soporte:revocada:{jti}"


def send_rate(usuario: str) -> str:
    """Messages `usuario` sent in the current rate-limit window."""
    return f"soporte:ritmo:{usuario}"


def client_message_id(usuario: str, cid: str) -> str:
    """Remembers a client-chosen message id, so a retried send is stored once."""
    return f"soporte:cid:{usuario}:{cid}"


def login_attempts(usuario: str) -> str:
    """Login attempts for `usuario` from every address in the current lockout window."""
    return f"soporte:login-intentos:{usuario}"


def login_attempts_from(usuario: str, address: str) -> str:
    """Login attempts for `usuario` from one client address in the current lockout window."""
    return f"soporte:login-intentos:{usuario}:{address}"


def login_known_addresses(usuario: str) -> str:
    """Addresses `usuario` logged in from lately (scored by when): they are not locked out
    by the guesses of others."""
    return f"soporte:login-conocidas:{usuario}"


def auth_requests(address: str) -> str:
    """Registrations, logins and visitor creations from one client address this minute."""
    return f"soporte:auth-peticiones:{address}"


def visitor_page(usuario: str) -> str:
    """The page of the company's site a website visitor last reported (JSON {url, titulo,
    fecha}); it expires a day after the report."""
    return f"soporte:pagina:{usuario}"


def visitor_page_rate(usuario: str) -> str:
    """Present for a moment after a visitor's page report: quicker ones are dropped."""
    return f"soporte:pagina-ritmo:{usuario}"

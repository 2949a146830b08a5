// The socket's life: connecting, catching up after every (re)connection, saying what is
// happening (the banner, body[data-conexion]), going back to the login page when the
// session is gone, and closing at once when the browser goes offline.

import { goToLogin } from "./api.js";
import { CONNECT_REFUSALS } from "./contract.js";
import { t } from "./i18n.js";
import { CONNECTION } from "./ui/status.js";

/** Handshake refusals that no retry can cure: the page needs a new sign-in. */
const SIGN_IN_AGAIN = new Set([CONNECT_REFUSALS.NO_COOKIES, CONNECT_REFUSALS.NO_TOKEN, CONNECT_REFUSALS.BAD_TOKEN]);
// socket.io's reason when the server closed the socket (a revoked session): no reconnection.
const CLOSED_BY_SERVER = "io server disconnect";

// The pages' own socket: same origin, so the session cookie (and the gateway's replica
// cookie) go with every request.
export const PAGE_SOCKET_OPTIONS = { withCredentials: true };

/** Opens the socket and keeps it open. `handlers`: the server's events (dispatch.js);
 * `resync()`: fetches what was missed, after each connection; `options`: socket.io's (the
 * website widget's carry its token); `signedOut()`: the session is gone. */
export function connect(client, { handlers, resync, options = PAGE_SOCKET_OPTIONS, signedOut = goToLogin }) {
  const { status } = client.ui;
  const socket = io({ ...options }); // a copy: socket.io writes its defaults into it
  client.socket = socket;
  let everConnected = false;

  socket.on("connect", async () => {
    if (everConnected) status.show(t("conn.back"), { autoHide: true });
    else status.show("");
    everConnected = true;
    status.connection(CONNECTION.CONNECTING);
    // Connected (rooms joined) first, then fetch: nothing falls between the two.
    await resync();
    if (socket.connected) status.connection(CONNECTION.IN_SYNC);
  });
  socket.on("disconnect", (reason) => {
    status.connection(CONNECTION.LOST);
    if (reason === CLOSED_BY_SERVER) return signedOut();
    status.show(t("conn.lost"));
  });
  socket.on("connect_error", (err) => {
    if (SIGN_IN_AGAIN.has(err.message)) return signedOut();
    status.show(navigator.onLine ? t("conn.unavailable") : t("conn.lost"));
  });
  // The browser knows at once when the network goes away; the socket would only notice at
  // the next missed heartbeat, most of a minute later, and meanwhile sends would vanish
  // into the dead connection. Close it now: the banner shows, sends wait for the
  // reconnection, and socket.io keeps retrying until the network is back.
  window.addEventListener("offline", () => {
    if (socket.connected) socket.io.engine.close();
    status.show(t("conn.lost"));
  });
  for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
}

// Reading the history API: a conversation's pages and the agent's list. A read that fails
// is tried again with a growing pause (the history may be catching up, or restarting);
// without a session the page goes back to the login page.

import { api, ApiError, goToLogin } from "./api.js";
import { t } from "./i18n.js";

const PAGE = 50;
const CATCH_UP_PAGE = 200;
const LIST_LIMIT = 200; // the newest conversations; the filter asks the server for the rest
const RETRIES = 20; // after the first try
const FIRST_PAUSE_MS = 500;
const LONGEST_PAUSE_MS = 5000;

/** `agent`: reads name the customer's conversation (customers read their own);
 * `status`: where "the history is not there yet" is said; `read(usuario, params)`: a
 * page of a conversation (the website widget's carries its token); `signedOut()`: the
 * session is gone. */
export function createHistory({ agent, status, read = api.conversation, signedOut = goToLogin }) {
  async function withRetry(call) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return signedOut();
        if (attempt >= RETRIES) throw err;
        if (err instanceof ApiError && err.status === 503) status.show(t("history.retry"));
        await new Promise((resolve) => setTimeout(resolve, Math.min(FIRST_PAUSE_MS * 2 ** attempt, LONGEST_PAUSE_MS)));
      }
    }
  }

  const page = (conv, params) => withRetry(() => read(agent ? conv.usuario : null, params));

  // Each resolves to the API's answer, or to nothing when the page is leaving for login.
  return {
    /** The newest page of a conversation. */
    latest: (conv) => page(conv, { limit: PAGE }),
    /** What came after `id`, oldest first (what was missed while disconnected). */
    after: (conv, id) => page(conv, { after: id, limit: CATCH_UP_PAGE }),
    /** The page just older than `id` (scrolling up). */
    before: (conv, id) => page(conv, { before: id, limit: PAGE }),
    /** The agent's newest conversations; `filter`: a tab's (`{estado}` or `{asignado}`). */
    list: (filter = {}) => withRetry(() => api.conversations({ ...filter, limit: LIST_LIMIT })),
    /** Conversations matching the filter box, older ones too; one try (the local filter
     * has already done what it can). */
    search: (query) => api.conversations({ q: query, limit: PAGE }),
  };
}

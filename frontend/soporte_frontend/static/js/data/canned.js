// Canned replies: the team's saved answers (`{id, atajo, texto}`), and what the composer
// offers when the agent types "/" followed by part of a shortcut.
// Pure data.

import { fold } from "./text.js";

const SUGGESTIONS_SHOWN = 8;

/** The "/word" being typed: `{start, query}` when the caret ends a word that starts with
 * "/" (at the start of the text or after a space), else null. */
export function slashQuery(text, caret) {
  const before = text.slice(0, caret);
  const match = /(^|\s)\/(\S*)$/u.exec(before);
  if (!match) return null;
  return { start: before.length - match[2].length - 1, query: match[2] };
}

/** The replies that fit `query`: shortcuts that start with it first, then shortcuts and
 * texts that contain it; each group by shortcut. At most a handful. */
export function filterReplies(replies, query) {
  const wanted = fold(query);
  const ranked = [];
  for (const reply of replies) {
    const atajo = fold(reply.atajo);
    let rank = null;
    if (atajo.startsWith(wanted)) rank = 0;
    else if (atajo.includes(wanted)) rank = 1;
    else if (fold(reply.texto).includes(wanted)) rank = 2;
    if (rank !== null) ranked.push({ rank, reply });
  }
  ranked.sort((a, b) => a.rank - b.rank || byShortcut(a.reply, b.reply));
  return ranked.slice(0, SUGGESTIONS_SHOWN).map(({ reply }) => reply);
}

/** The composer's text with the "/word" replaced by the reply: `{text, caret}` (the caret
 * after the inserted reply). */
export function insertReply(text, slash, caret, reply) {
  const inserted = text.slice(0, slash.start) + reply.texto;
  return { text: inserted + text.slice(caret), caret: inserted.length };
}

function byShortcut(a, b) {
  return a.atajo.localeCompare(b.atajo);
}

/** The team's library as this page knows it, in shortcut order. */
export class CannedReplies {
  #byId = new Map();

  /** Everything, as `GET /api/respuestas` answers. */
  replace(replies) {
    this.#byId = new Map(replies.map((reply) => [reply.id, reply]));
  }

  /** One created or edited. */
  put(reply) {
    this.#byId.set(reply.id, reply);
  }

  remove(id) {
    this.#byId.delete(id);
  }

  all() {
    return [...this.#byId.values()].sort(byShortcut);
  }
}

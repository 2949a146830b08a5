// Who is typing where (`escribiendo {de, con}` from the server), and when this page tells
// the server that its person is typing. Nothing of it is ever stored.
// Pure data: no DOM, no network; the signal itself is the `send` function the page passes.

/** How long someone shows as typing after their last signal: senders repeat it every
 * TYPING_EVERY_MS while they type, so a few missed signals do not blink the line. */
export const TYPING_SHOWN_MS = 6000;
/** At most one signal this often while typing (the server drops faster ones anyway). */
export const TYPING_EVERY_MS = 2000;

export class Typing {
  #typists = new Map(); // conversation key → Map(de → expiry timer)

  /** `onChange(key)`: who types in the conversation `key` changed. */
  constructor({ shownMs = TYPING_SHOWN_MS, onChange = () => {} } = {}) {
    this.shownMs = shownMs;
    this.onChange = onChange;
  }

  /** Who is typing in `key` now, in the order they started. */
  who(key) {
    return [...(this.#typists.get(key)?.keys() ?? [])];
  }

  /** A signal: `de` is typing in `key` (again: their time starts over). */
  seen(key, de) {
    const typists = this.#typists.get(key) ?? new Map();
    this.#typists.set(key, typists);
    const fresh = !typists.has(de);
    clearTimeout(typists.get(de));
    typists.set(
      de,
      setTimeout(() => this.stopped(key, de), this.shownMs),
    );
    if (fresh) this.onChange(key);
  }

  /** `de` stopped typing in `key` (their message arrived, or their time ran out). */
  stopped(key, de) {
    const typists = this.#typists.get(key);
    if (!typists?.has(de)) return;
    clearTimeout(typists.get(de));
    typists.delete(de);
    if (!typists.size) this.#typists.delete(key);
    this.onChange(key);
  }

  /** Forget everyone (the page lost its connection: signals may have been missed). */
  clear() {
    const keys = [...this.#typists.keys()];
    for (const key of keys) for (const de of this.who(key)) this.stopped(key, de);
  }
}

/** When to tell the server "I am typing in `key`": on the first keystroke, then at most
 * once every `everyMs` while the person keeps typing. */
export class TypingSender {
  #last = new Map(); // conversation key → when the last signal went

  constructor({ send, everyMs = TYPING_EVERY_MS, now = () => Date.now() }) {
    this.send = send;
    this.everyMs = everyMs;
    this.now = now;
  }

  /** The person typed in `key`. */
  typed(key) {
    const now = this.now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.everyMs) return;
    this.#last.set(key, now);
    this.send(key);
  }

  /** The message went: the other side stops showing the typing line when it arrives,
   * so the next keystroke signals at once. */
  sent(key) {
    this.#last.delete(key);
  }
}

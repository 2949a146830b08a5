// Ids of a conversation's entries and of sends waiting for their acknowledgement.
// Pure data: no DOM, no network (node's test runner imports it as it is).

/** Orders entry ids: "<ms>-<seq>" (a Redis stream id). The two numbers are compared, not
 * the strings: "10-0" comes after "9-0". */
export function compareIds(a, b) {
  const [am, as] = a.split("-").map(Number);
  const [bm, bs] = b.split("-").map(Number);
  return am - bm || as - bs;
}

/** A client-chosen id for a send (`cid`): sending it again never stores a second copy. */
export function newClientId() {
  if (globalThis.crypto.randomUUID) return globalThis.crypto.randomUUID();
  // randomUUID needs a secure context; plain-http pages on another host than localhost
  // still have getRandomValues.
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The smallest id after `id` ("5-0" → "5-1"): asking for the page `before` it gives the
 * page that ends with `id` itself. */
export function nextId(id) {
  const [ms, seq] = id.split("-").map(Number);
  return `${ms}-${seq + 1}`;
}

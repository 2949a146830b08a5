// Matching text the way people type it: case and accents do not matter ("envio" finds
// "Envío"), as in the server's search.
// Pure data.

const COMBINING_MARKS = /\p{M}/gu;

/** Lower case without accents. */
export function fold(text) {
  return text.normalize("NFD").replace(COMBINING_MARKS, "").toLowerCase();
}

/** The words of a query, folded. */
export function queryWords(query) {
  return fold(query)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** `text` cut into pieces, `{text, match}`, where the words of `query` occur (case- and
 * accent-insensitive; a plural query word also marks its singular). Joined, the pieces
 * are `text` exactly: they are put on the page as text nodes, marked ones in <mark>. */
export function highlight(text, query) {
  const { folded, starts } = foldWithPositions(text);
  const ranges = [];
  for (const word of queryWords(query)) {
    for (const form of new Set([word, singular(word)])) {
      for (let at = folded.indexOf(form); at !== -1; at = folded.indexOf(form, at + form.length)) {
        ranges.push([starts[at], starts[at + form.length]]);
      }
    }
  }
  return piecesOf(text, merge(ranges));
}

function singular(word) {
  if (word.length > 4 && word.endsWith("es")) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith("s")) return word.slice(0, -1);
  return word;
}

/** The folded text, and for each of its positions (and its end) where that is in `text`. */
function foldWithPositions(text) {
  let folded = "";
  const starts = [];
  let at = 0;
  for (const char of text) {
    const piece = fold(char);
    for (let i = 0; i < piece.length; i++) starts.push(at);
    folded += piece;
    at += char.length;
  }
  starts.push(at);
  return { folded, starts };
}

function merge(ranges) {
  const merged = [];
  for (const [start, end] of ranges.sort((a, b) => a[0] - b[0])) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

function piecesOf(text, ranges) {
  const pieces = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (start > at) pieces.push({ text: text.slice(at, start), match: false });
    pieces.push({ text: text.slice(start, end), match: true });
    at = end;
  }
  if (at < text.length || !pieces.length) pieces.push({ text: text.slice(at), match: false });
  return pieces;
}

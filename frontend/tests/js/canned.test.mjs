import assert from "node:assert/strict";
import { test } from "node:test";

import { CannedReplies, filterReplies, insertReply, slashQuery } from "../../soporte_frontend/static/js/data/canned.js";

const replies = [
  { id: 1, atajo: "saludo", texto: "¡Hola! ¿En qué te puedo ayudar?" },
  { id: 2, atajo: "envio", texto: "Tu pedido sale en 24 horas." },
  { id: 3, atajo: "reembolso", texto: "Te devolvemos el importe del envío en 5 días." },
  { id: 4, atajo: "despedida", texto: "Gracias por escribirnos." },
];

test("a slash starts a shortcut at the start of the text or after a space, up to the caret", () => {
  assert.deepEqual(slashQuery("/", 1), { start: 0, query: "" });
  assert.deepEqual(slashQuery("/env", 4), { start: 0, query: "env" });
  assert.deepEqual(slashQuery("Hola /sal", 9), { start: 5, query: "sal" });
  assert.deepEqual(slashQuery("Hola\n/sal y más", 9), { start: 5, query: "sal" });
  assert.equal(slashQuery("Hola /sal y", 11), null); // the word is over
  assert.equal(slashQuery("http://x", 8), null); // not at a word's start
  assert.equal(slashQuery("Hola", 4), null);
});

test("replies are filtered as the agent types: shortcut starts first, then contains, then text; accents ignored", () => {
  assert.deepEqual(filterReplies(replies, "").map((r) => r.atajo), ["despedida", "envio", "reembolso", "saludo"]);
  assert.deepEqual(filterReplies(replies, "e").map((r) => r.atajo), ["envio", "despedida", "reembolso", "saludo"]);
  assert.deepEqual(filterReplies(replies, "ENVÍ").map((r) => r.atajo), ["envio", "reembolso"]);
  assert.deepEqual(filterReplies(replies, "hola").map((r) => r.atajo), ["saludo"]);
  assert.deepEqual(filterReplies(replies, "zzz"), []);
});

test("choosing a reply replaces the slash word, keeps the rest, and puts the caret after it", () => {
  const text = "Hola /sal, gracias";
  const slash = slashQuery(text, 9);
  assert.deepEqual(insertReply(text, slash, 9, replies[0]), {
    text: "Hola ¡Hola! ¿En qué te puedo ayudar?, gracias",
    caret: "Hola ¡Hola! ¿En qué te puedo ayudar?".length,
  });
});

test("the library keeps one copy of each reply, in shortcut order", () => {
  const library = new CannedReplies();
  library.replace(replies);
  library.put({ id: 2, atajo: "envio", texto: "Sale hoy." });
  library.put({ id: 5, atajo: "abono", texto: "Abonado." });
  library.remove(4);
  assert.deepEqual(library.all().map((r) => `${r.atajo}:${r.id}`), ["abono:5", "envio:2", "reembolso:3", "saludo:1"]);
  assert.equal(library.all()[1].texto, "Sale hoy.");
});

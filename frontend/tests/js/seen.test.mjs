import assert from "node:assert/strict";
import { test } from "node:test";

import { Conversation } from "../../soporte_frontend/static/js/data/conversations.js";
import { SeenMarks, seenEntryId } from "../../soporte_frontend/static/js/data/seen.js";

function conversation() {
  const conv = new Conversation("ana", "Ana");
  conv.add({ id: "1-0", de: "ana", para: "admin", mensaje: "hola" });
  conv.add({ id: "2-0", de: "luis", para: "ana", mensaje: "dime" });
  conv.add({ id: "3-0", tipo: "nota", de: "luis", mensaje: "cliente nuevo" });
  conv.add({ id: "4-0", de: "ana", para: "admin", mensaje: "no me llega" });
  conv.add({ id: "5-0", de: "marta", para: "ana", mensaje: "lo miro" });
  conv.add({ id: "10-0", de: "ana", para: "admin", mensaje: "gracias" });
  return conv;
}

test("marks only move forward, whatever order they arrive in", () => {
  const marks = new SeenMarks();
  assert.equal(marks.get("ana"), null);
  assert.equal(marks.set("ana", "4-0"), true);
  assert.equal(marks.set("ana", "2-0"), false); // late
  assert.equal(marks.set("ana", "4-0"), false); // repeated
  assert.equal(marks.set("ana", "10-0"), true); // "10-0" comes after "4-0"
  assert.equal(marks.set("ana", null), false);
  assert.equal(marks.get("ana"), "10-0");
  assert.equal(marks.get("bruno"), null);
});

test("the customer's Seen goes under their last message the team has read", () => {
  const conv = conversation();
  assert.equal(seenEntryId(conv, "4-0", { fromCustomer: true }), "4-0");
  assert.equal(seenEntryId(conv, "5-0", { fromCustomer: true }), "4-0");
  assert.equal(seenEntryId(conv, "10-0", { fromCustomer: true }), "10-0");
  assert.equal(seenEntryId(conv, "0-5", { fromCustomer: true }), null);
  assert.equal(seenEntryId(conv, null, { fromCustomer: true }), null);
});

test("the agent's Seen goes under the team's last message the customer has read, never a note", () => {
  const conv = conversation();
  assert.equal(seenEntryId(conv, "3-0", { fromCustomer: false }), "2-0");
  assert.equal(seenEntryId(conv, "9-0", { fromCustomer: false }), "5-0");
  assert.equal(seenEntryId(conv, "1-0", { fromCustomer: false }), null);
});

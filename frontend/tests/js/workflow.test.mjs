import assert from "node:assert/strict";
import { test } from "node:test";

import { ConversationStore, STATUS } from "../../soporte_frontend/static/js/data/conversations.js";
import { nextId } from "../../soporte_frontend/static/js/data/ids.js";
import { PendingSends } from "../../soporte_frontend/static/js/data/pending.js";
import { TabCounts, TABS, tabOf } from "../../soporte_frontend/static/js/data/tabs.js";

const agentStore = () => new ConversationStore({ me: "luis", agent: true, supportTeam: "admin" });
const item = (usuario, fields) => ({
  usuario,
  nombre: usuario,
  ultimo_id: "1-0",
  ultimo_mensaje: "Hola",
  fecha: "2025-01-01T00:00:00Z",
  no_leidos: 0,
  ...fields,
});

test("a conversation nobody has changed yet is open and unassigned", () => {
  const conv = agentStore().ensure("ana");
  assert.equal(conv.status, STATUS.OPEN);
  assert.equal(conv.asignado, null);
});

test("live updates set the state in entry order: a repeated or older one changes nothing", () => {
  const store = agentStore();
  const update = (id, fields) => store.applyUpdate({ usuario: "ana", id, pospuesta_hasta: null, ...fields });
  assert.equal(update("5-0", { estado: "resuelta", asignado: "luis" }), store.get("ana"));
  assert.equal(update("5-0", { estado: "resuelta", asignado: "luis" }), null); // seen twice
  assert.equal(update("4-9", { estado: "abierta", asignado: null }), null); // late
  const conv = store.get("ana");
  assert.deepEqual([conv.status, conv.asignado], ["resuelta", "luis"]);
  assert.equal(update("10-0", { estado: "pospuesta", asignado: "marta", pospuesta_hasta: "2030-01-01T09:00:00Z" }), conv);
  assert.deepEqual([conv.status, conv.asignado, conv.pospuestaHasta], ["pospuesta", "marta", "2030-01-01T09:00:00Z"]);
});

test("the list brings each conversation's state, unless a live update came after it was asked for", () => {
  const store = agentStore();
  const { restated } = store.mergeList([item("ana", { estado: "pendiente", asignado: "luis", pospuesta_hasta: null })]);
  assert.deepEqual(restated.map((c) => c.usuario), ["ana"]);
  assert.equal(store.get("ana").status, "pendiente");

  const askedAt = store.tick; // a list request leaves...
  store.applyUpdate({ usuario: "ana", id: "9-0", estado: "resuelta", asignado: "luis", pospuesta_hasta: null });
  // ...and answers with what was true before the live change: the live change stays.
  const late = store.mergeList([item("ana", { estado: "pendiente", asignado: "luis", pospuesta_hasta: null })], askedAt);
  assert.deepEqual(late.restated, []);
  assert.equal(store.get("ana").status, "resuelta");

  // A list asked for after it is the newer truth.
  store.mergeList([item("ana", { estado: "abierta", asignado: null, pospuesta_hasta: null })]);
  assert.deepEqual([store.get("ana").status, store.get("ana").asignado], ["abierta", null]);
});

test("a list without states (an older server) leaves them alone", () => {
  const store = agentStore();
  store.applyUpdate({ usuario: "ana", id: "2-0", estado: "pendiente", asignado: "luis", pospuesta_hasta: null });
  const { restated } = store.mergeList([item("ana", {})], store.tick);
  assert.deepEqual(restated, []);
  assert.equal(store.get("ana").status, "pendiente");
});

test("every kind of entry sits in the thread in id order; only messages make the preview", () => {
  const conv = agentStore().ensure("ana");
  conv.add({ id: "1-0", de: "ana", para: "admin", mensaje: "Hola", fecha: "f1" });
  conv.add({ id: "3-0", tipo: "nota", de: "luis", mensaje: "Cliente VIP", fecha: "f3" });
  conv.add({ id: "2-0", tipo: "asignacion", de: "luis", asignado: "luis", fecha: "f2" });
  conv.add({ id: "4-0", tipo: "estado", de: null, estado: "resuelta", hasta: null, fecha: "f4" });
  assert.deepEqual(conv.entries.map((e) => e.tipo), ["mensaje", "asignacion", "nota", "estado"]);
  assert.equal(conv.preview.mensaje, "Hola");
});

test("a live note belongs to the conversation it names", () => {
  const store = agentStore();
  assert.equal(store.keyOf({ id: "5-0", de: "marta", con: "ana", mensaje: "Ojo" }), "ana");
  assert.equal(store.keyOf({ id: "6-0", de: "ana", para: "admin", mensaje: "Hola" }), "ana");
});

test("a note waiting for its acknowledgement settles by its echo (notes have no recipient)", () => {
  const pending = new PendingSends({ me: "luis", newId: () => "cid-1" });
  const note = pending.create("ana", { mensaje: "Llamar mañana", tipo: "nota" });
  assert.equal(pending.settleByEcho("ana", { de: "luis", tipo: "mensaje", para: "ana", mensaje: "Llamar mañana" }), null);
  assert.equal(pending.settleByEcho("ana", { de: "luis", tipo: "nota", para: null, mensaje: "Llamar mañana" }), note);
  assert.deepEqual(pending.of("ana"), []);
  const entry = pending.settleByAck(pending.create("ana", { mensaje: "Otra", tipo: "nota" }), { id: "7-0", fecha: "f" });
  assert.equal(entry.tipo, "nota");
});

test("tabs: mine and unassigned leave out resolved conversations; the others go by status", () => {
  const store = agentStore();
  const set = (usuario, estado, asignado) => {
    store.mergeList([item(usuario, { estado, asignado, pospuesta_hasta: null })]);
    return store.get(usuario);
  };
  const mineOpen = set("a", "abierta", "luis");
  const mineResolved = set("b", "resuelta", "luis");
  const nobodyPending = set("c", "pendiente", null);
  const martaSnoozed = set("d", "pospuesta", "marta");
  const unknown = store.ensure("e"); // not in the list yet: a new conversation
  const members = (key) => [mineOpen, mineResolved, nobodyPending, martaSnoozed, unknown].filter((c) => tabOf(key).has(c, "luis")).map((c) => c.usuario);
  assert.deepEqual(members("mias"), ["a"]);
  assert.deepEqual(members("sin_asignar"), ["c", "e"]);
  assert.deepEqual(members("abierta"), ["a", "e"]);
  assert.deepEqual(members("pendiente"), ["c"]);
  assert.deepEqual(members("pospuesta"), ["d"]);
  assert.deepEqual(members("resuelta"), ["b"]);
  assert.deepEqual(TABS.map((tab) => tab.key), ["mias", "sin_asignar", "abierta", "pendiente", "pospuesta", "resuelta"]);
  assert.deepEqual(tabOf("mias").query, { asignado: "yo" });
  assert.deepEqual(tabOf("pospuesta").query, { estado: "pospuesta" });
  assert.equal(tabOf("nada"), null);
});

test("counts: a burst of changes makes one request; a slow earlier answer never replaces a later one", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const answers = [];
  const shown = [];
  const counts = new TabCounts({
    fetch: () => new Promise((resolve) => answers.push(resolve)),
    onChange: (c) => shown.push(c.abierta),
    delayMs: 100,
  });
  assert.equal(counts.of("abierta"), null);
  counts.changed();
  counts.changed();
  counts.changed();
  t.mock.timers.tick(100);
  assert.equal(answers.length, 1);
  counts.changed();
  t.mock.timers.tick(100);
  assert.equal(answers.length, 2);
  answers[1]({ abierta: 7 });
  await Promise.resolve();
  await Promise.resolve();
  answers[0]({ abierta: 5 }); // the earlier request answers last
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(shown, [7]);
  assert.equal(counts.of("abierta"), 7);
});

test("counts: a failed request keeps the counts shown", async () => {
  let fail = false;
  const counts = new TabCounts({
    fetch: async () => {
      if (fail) throw new Error("503");
      return { mias: 2 };
    },
    onChange: () => {},
  });
  await counts.refresh();
  fail = true;
  await counts.refresh();
  assert.equal(counts.of("mias"), 2);
});

test("the id just after another: the page before it ends with that entry", () => {
  assert.equal(nextId("1764120000000-0"), "1764120000000-1");
  assert.equal(nextId("9-41"), "9-42");
});

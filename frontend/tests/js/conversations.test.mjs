import assert from "node:assert/strict";
import { test } from "node:test";

import { ConversationStore, Conversation, MESSAGE } from "../../soporte_frontend/static/js/data/conversations.js";

const message = (id, de, para, mensaje = `texto ${id}`) => ({
  id,
  de,
  para,
  mensaje,
  fecha: `2025-01-01T00:00:0${id[0]}Z`,
});
const ids = (conv) => conv.entries.map((e) => e.id);

test("entries are kept in id order, whatever order they arrive in", () => {
  const conv = new Conversation("ana");
  for (const id of ["5-0", "2-0", "10-0", "2-1", "9-0"]) conv.add(message(id, "ana", "admin"));
  assert.deepEqual(ids(conv), ["2-0", "2-1", "5-0", "9-0", "10-0"]);
  assert.equal(conv.firstId, "2-0");
  assert.equal(conv.lastId, "10-0");
  assert.equal(conv.indexOf("9-0"), 3);
  assert.equal(conv.indexOf("3-0"), -1);
});

test("an entry seen twice (live, then in a page of history) is kept once", () => {
  const conv = new Conversation("ana");
  assert.ok(conv.add(message("1-0", "ana", "admin")));
  assert.equal(conv.add(message("1-0", "ana", "admin")), null);
  assert.deepEqual(ids(conv), ["1-0"]);
  assert.ok(conv.has("1-0"));
});

test("entries carry their tipo: a message unless they say otherwise", () => {
  const conv = new Conversation("ana");
  assert.equal(conv.add(message("1-0", "ana", "admin")).tipo, MESSAGE);
  assert.equal(conv.add({ ...message("2-0", "agente", "ana"), tipo: "nota" }).tipo, "nota");
  assert.deepEqual(conv.entries.map((e) => e.tipo), ["mensaje", "nota"]);
});

test("the preview is the newest message, even when older ones load later", () => {
  const conv = new Conversation("ana");
  conv.add(message("5-0", "ana", "admin", "nuevo"));
  conv.add(message("1-0", "ana", "admin", "viejo"));
  conv.add({ id: "6-0", tipo: "estado", de: null, estado: "abierta", fecha: "f" }); // not something said
  assert.deepEqual(conv.preview, { id: "5-0", mensaje: "nuevo", fecha: "2025-01-01T00:00:05Z" });
});

test("a customer has one conversation; an agent one per customer, whoever wrote", () => {
  const customer = new ConversationStore({ me: "ana", agent: false, supportTeam: "admin" });
  assert.equal(customer.keyOf(message("1-0", "ana", "admin")), "ana");
  assert.equal(customer.keyOf(message("2-0", "luis", "ana")), "ana");

  const agent = new ConversationStore({ me: "luis", agent: true, supportTeam: "admin" });
  assert.equal(agent.keyOf(message("1-0", "ana", "admin")), "ana");
  assert.equal(agent.keyOf(message("2-0", "luis", "ana")), "ana");
  assert.equal(agent.keyOf(message("3-0", "marta", "bruno")), "bruno");
});

test("a conversation first seen live is named when the list brings the name", () => {
  const store = new ConversationStore({ me: "luis", agent: true, supportTeam: "admin" });
  const conv = store.ensure("ana");
  assert.equal(conv.nombre, "ana");
  assert.equal(conv.named, false);
  const { touched, renamed } = store.mergeList([
    { usuario: "ana", nombre: "Ana Ortega", ultimo_id: "3-0", ultimo_mensaje: "Hola", fecha: "f", no_leidos: 1 },
    { usuario: "bruno", nombre: "Bruno", ultimo_id: "7-0", ultimo_mensaje: "Buenas", fecha: "g", no_leidos: 0 },
  ]);
  assert.deepEqual(touched.map((c) => c.usuario), ["ana", "bruno"]);
  assert.deepEqual(renamed, [conv]); // bruno is new: named from the start, not renamed
  assert.equal(conv.nombre, "Ana Ortega");
  assert.ok(conv.named);
  assert.equal(store.get("bruno").preview.mensaje, "Buenas");
});

test("the list does not replace a newer preview seen live", () => {
  const store = new ConversationStore({ me: "luis", agent: true, supportTeam: "admin" });
  store.ensure("ana").add(message("9-0", "ana", "admin", "en vivo"));
  store.mergeList([{ usuario: "ana", nombre: "Ana", ultimo_id: "4-0", ultimo_mensaje: "antiguo", fecha: "f" }]);
  assert.equal(store.get("ana").preview.mensaje, "en vivo");
});

test("conversations with something to show come newest activity first", () => {
  const store = new ConversationStore({ me: "luis", agent: true, supportTeam: "admin" });
  store.ensure("ana").add(message("3-0", "ana", "admin"));
  store.ensure("bruno").add(message("10-0", "bruno", "admin"));
  store.ensure("carla"); // nothing yet
  store.ensure("ana").add(message("11-0", "luis", "ana"));
  assert.deepEqual(store.byRecency().map((c) => c.usuario), ["ana", "bruno"]);
});

test("the open conversation is the one its key names", () => {
  const store = new ConversationStore({ me: "luis", agent: true, supportTeam: "admin" });
  assert.equal(store.open, null);
  const conv = store.ensure("ana");
  store.openKey = "ana";
  assert.equal(store.open, conv);
});

test("the filter matches the username or the name, ignoring the name's case", () => {
  const conv = new Conversation("lucia-f", "Lucía Fernández");
  assert.ok(conv.matches(""));
  assert.ok(conv.matches("lucía fern"));
  assert.ok(conv.matches("lucia-f"));
  assert.ok(!conv.matches("marco"));
});

test("a website visitor's details come with the list, and their page follows them live", () => {
  const store = new ConversationStore({ me: "luis", agent: true, supportTeam: "admin" });
  const visitante = { sitio: "tienda", sitio_nombre: "Tienda", verificado: false, email: null, pagina: null };
  store.mergeList([{ usuario: "v-1", nombre: "Visitante 1", ultimo_id: "3-0", ultimo_mensaje: "Hola", fecha: "f", visitante }]);
  const conv = store.get("v-1");
  assert.equal(conv.visitante.sitio, "tienda");
  assert.ok(conv.pageSeen({ url: "https://t.example/a", titulo: "A", fecha: "2026-01-01T10:00:02Z" }));
  assert.ok(!conv.pageSeen({ url: "https://t.example/old", titulo: "Old", fecha: "2026-01-01T10:00:01Z" }));
  // A list read before the live report does not take the page back.
  store.mergeList([{ usuario: "v-1", nombre: "Visitante 1", ultimo_id: "3-0", ultimo_mensaje: "Hola", fecha: "f", visitante }]);
  assert.equal(conv.visitante.pagina.titulo, "A");
  // An account has no visitor details, and no page to follow.
  store.mergeList([{ usuario: "ana", nombre: "Ana", ultimo_id: "4-0", ultimo_mensaje: "Hola", fecha: "f", visitante: null }]);
  assert.equal(store.get("ana").visitante, null);
  assert.ok(!store.get("ana").pageSeen({ url: "https://t.example/a", titulo: "A", fecha: "x" }));
});

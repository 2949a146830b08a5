import assert from "node:assert/strict";
import { test } from "node:test";

import { FAILED, PendingSends, SENDING } from "../../soporte_frontend/static/js/data/pending.js";

function sends() {
  let n = 0;
  return new PendingSends({ me: "ana", newId: () => `cid-${++n}`, now: () => "2025-01-01T00:00:00.000Z" });
}

test("a new send waits, as being sent, with its own client id", () => {
  const pending = sends();
  const first = pending.create("ana", { para: "admin", mensaje: "Hola" });
  const second = pending.create("ana", { para: "admin", mensaje: "¿Hay alguien?" });
  assert.deepEqual(first, {
    cid: "cid-1",
    key: "ana",
    de: "ana",
    para: "admin",
    mensaje: "Hola",
    tipo: "mensaje",
    fecha: "2025-01-01T00:00:00.000Z",
    estado: SENDING,
    error: null,
  });
  assert.equal(second.cid, "cid-2");
  assert.deepEqual(pending.of("ana"), [first, second]);
  assert.deepEqual(pending.of("bruno"), []);
});

test("a failed send keeps its reason until it is retried with the same client id", () => {
  const pending = sends();
  const send = pending.create("ana", { para: "admin", mensaje: "Hola" });
  assert.ok(pending.failed(send, "Estás enviando demasiados mensajes"));
  assert.equal(send.estado, FAILED);
  assert.equal(send.error, "Estás enviando demasiados mensajes");
  assert.ok(pending.sending(send));
  assert.equal(send.estado, SENDING);
  assert.equal(send.error, null);
  assert.equal(send.cid, "cid-1");
});

test("the acknowledgement settles the send and gives the confirmed entry", () => {
  const pending = sends();
  const send = pending.create("ana", { para: "admin", mensaje: "Hola" });
  const entry = pending.settleByAck(send, { ok: true, id: "5-0", fecha: "2025-01-01T00:00:01.000Z" });
  assert.deepEqual(entry, {
    id: "5-0",
    de: "ana",
    para: "admin",
    mensaje: "Hola",
    fecha: "2025-01-01T00:00:01.000Z",
    tipo: "mensaje",
  });
  assert.deepEqual(pending.of("ana"), []);
  // Settled: a late timeout of the same send changes nothing.
  assert.equal(pending.failed(send, "sin respuesta"), false);
  assert.equal(pending.sending(send), false);
});

test("an own entry coming back first settles the oldest send with the same text", () => {
  const pending = sends();
  const one = pending.create("ana", { para: "admin", mensaje: "Hola" });
  const other = pending.create("ana", { para: "admin", mensaje: "Otra cosa" });
  const again = pending.create("ana", { para: "admin", mensaje: "Hola" });
  const echo = { id: "5-0", de: "ana", para: "admin", mensaje: "Hola", fecha: "f", tipo: "mensaje" };
  assert.equal(pending.settleByEcho("ana", echo), one);
  assert.deepEqual(pending.of("ana"), [other, again]);
  // Someone else's words never settle one's own sends.
  assert.equal(pending.settleByEcho("ana", { ...echo, id: "6-0", de: "luis", mensaje: "Otra cosa" }), null);
  assert.deepEqual(pending.of("ana"), [other, again]);
  // The acknowledgement of a send the echo already settled still gives its entry.
  assert.equal(pending.settleByAck(one, { id: "5-0", fecha: "f" }).id, "5-0");
  assert.deepEqual(pending.of("ana"), [other, again]);
});

test("a send carried over from a dropped context waits again with its own client id, and is listed", () => {
  const before = sends();
  const written = before.create("ana", { para: "admin", mensaje: "Escrito desde el portátil" });
  const after = sends();
  const adopted = after.adopt("ana", before.all()[0]);
  assert.equal(adopted.cid, written.cid); // sent again, stored once
  assert.equal(adopted.mensaje, "Escrito desde el portátil");
  assert.equal(adopted.estado, SENDING);
  assert.deepEqual(after.all(), [adopted]);
  assert.ok(after.sending(adopted));
  after.settleByAck(adopted, { id: "1-0", fecha: "2025-01-01T00:00:01.000Z" });
  assert.deepEqual(after.all(), []);
});

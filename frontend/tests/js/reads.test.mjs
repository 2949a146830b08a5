import assert from "node:assert/strict";
import { mock, test } from "node:test";

import { Conversation } from "../../soporte_frontend/static/js/data/conversations.js";
import { Reads, countsAsUnread } from "../../soporte_frontend/static/js/data/reads.js";

test("what waits to be read: others' words; for an agent, only the customer's", () => {
  const conv = new Conversation("ana");
  const customer = { me: "ana", agent: false };
  const agent = { me: "luis", agent: true };
  assert.equal(countsAsUnread({ de: "luis" }, conv, customer), true);
  assert.equal(countsAsUnread({ de: "ana" }, conv, customer), false);
  assert.equal(countsAsUnread({ de: "ana" }, conv, agent), true);
  assert.equal(countsAsUnread({ de: "marta" }, conv, agent), false); // another agent's reply
  assert.equal(countsAsUnread({ de: "luis" }, conv, agent), false);
});

test("unread counts add up per conversation and in total, and clear when read", () => {
  const reads = new Reads({ send: () => {} });
  reads.arrived("ana");
  reads.arrived("ana");
  reads.arrived("bruno");
  assert.equal(reads.unread("ana"), 2);
  assert.equal(reads.total(), 3);
  reads.clear("ana");
  assert.equal(reads.unread("ana"), 0);
  assert.equal(reads.total(), 1);
});

test("the list's counts replace the local ones, except for the conversation in view", () => {
  const reads = new Reads({ send: () => {} });
  reads.arrived("ana");
  reads.mergeList(
    [
      { usuario: "ana", no_leidos: 4 },
      { usuario: "bruno", no_leidos: 2 },
    ],
    "bruno",
  );
  assert.equal(reads.unread("ana"), 4);
  assert.equal(reads.unread("bruno"), 0);
});

test("a burst of reads makes one request, with the newest id", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const sent = [];
  const reads = new Reads({ send: (key, hasta, options) => sent.push([key, hasta, options]) });
  reads.markRead("ana", "1-0");
  reads.markRead("ana", "2-0");
  reads.markRead("bruno", "7-0");
  reads.markRead("ana", null); // nothing shown yet: nothing to mark
  assert.deepEqual(sent, []);
  t.mock.timers.tick(400);
  assert.deepEqual(sent, [
    ["ana", "2-0", {}],
    ["bruno", "7-0", {}],
  ]);
});

test("leaving the page sends the marks still waiting, at once, outliving the page", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const send = mock.fn();
  const reads = new Reads({ send });
  reads.markRead("ana", "3-0");
  reads.flush();
  assert.deepEqual(send.mock.calls.map((c) => c.arguments), [["ana", "3-0", { keepalive: true }]]);
  t.mock.timers.tick(1000);
  assert.equal(send.mock.callCount(), 1); // not sent a second time
});

test("a customer back later: the team's words after their read mark wait to be read", () => {
  const conv = new Conversation("ana");
  const customer = { me: "ana", agent: false };
  const entries = [
    { id: "100-0", de: "ana" },
    { id: "200-0", de: "admin" },
    { id: "300-0", de: "ana" },
    { id: "400-0", de: "admin" },
    { id: "1000-0", de: "admin" }, // ids compare as numbers, not as text
  ];
  const reads = new Reads({ send: () => {} });
  reads.unreadSince(conv, entries, "200-0", customer);
  assert.equal(reads.unread("ana"), 2);
  reads.unreadSince(conv, entries, null, customer); // never read anything
  assert.equal(reads.total(), 3);
  reads.unreadSince(conv, entries, "1000-0", customer);
  assert.equal(reads.total(), 0);
});

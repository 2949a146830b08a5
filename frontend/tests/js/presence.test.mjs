import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AwayWhenHidden,
  PRESENCE,
  responseTime,
  SupportAvailability,
  Team,
} from "../../soporte_frontend/static/js/data/presence.js";

const agent = (usuario, nombre, estado) => ({ usuario, nombre, estado });

test("the team lists online agents first, then away, then offline, by name", () => {
  const team = new Team();
  team.set([
    agent("zoe", "Zoe", PRESENCE.OFFLINE),
    agent("luis", "Luis", PRESENCE.AWAY),
    agent("marta", "Marta", PRESENCE.ONLINE),
    agent("ana", "Ana", PRESENCE.ONLINE),
  ]);
  assert.deepEqual(
    team.all().map((a) => a.usuario),
    ["ana", "marta", "luis", "zoe"],
  );
  assert.equal(team.online(), 2);
  assert.equal(team.get("luis").nombre, "Luis");
  assert.equal(team.get("nadie"), null);
  assert.equal(team.stateOf("nadie"), PRESENCE.OFFLINE);
});

test("a presence change updates one agent, and says whether anything changed", () => {
  const team = new Team();
  team.set([agent("ana", "Ana", PRESENCE.ONLINE)]);
  assert.equal(team.seen(agent("ana", "Ana", PRESENCE.ONLINE)), false);
  assert.equal(team.seen(agent("ana", "Ana", PRESENCE.AWAY)), true);
  assert.equal(team.stateOf("ana"), PRESENCE.AWAY);
  assert.equal(team.seen(agent("luis", "Luis", PRESENCE.ONLINE)), true); // a new agent
  assert.deepEqual(
    team.all().map((a) => [a.usuario, a.estado]),
    [
      ["luis", PRESENCE.ONLINE],
      ["ana", PRESENCE.AWAY],
    ],
  );
});

test("a tab hidden for the idle time says so once; shown again, it says it is back", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const sent = [];
  const away = new AwayWhenHidden({ delayMs: 300_000, send: (idle) => sent.push(idle) });
  away.hidden();
  t.mock.timers.tick(299_999);
  away.hidden(); // another hidden event does not start the count again
  assert.deepEqual(sent, []);
  t.mock.timers.tick(1);
  assert.deepEqual(sent, [true]);
  away.hidden();
  t.mock.timers.tick(300_000);
  assert.deepEqual(sent, [true]);
  away.visible();
  away.visible();
  assert.deepEqual(sent, [true, false]);
});

test("a tab shown before the idle time says nothing", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const sent = [];
  const away = new AwayWhenHidden({ delayMs: 1000, send: (idle) => sent.push(idle) });
  away.hidden();
  t.mock.timers.tick(999);
  away.visible();
  t.mock.timers.tick(5000);
  assert.deepEqual(sent, []);
});

test("a new connection starts active; a hidden page counts the idle time again", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const sent = [];
  const away = new AwayWhenHidden({ delayMs: 1000, send: (idle) => sent.push(idle) });
  away.hidden();
  t.mock.timers.tick(1000);
  away.connected(true); // reconnected while hidden: the server counts a fresh socket
  t.mock.timers.tick(999);
  assert.deepEqual(sent, [true]);
  t.mock.timers.tick(1);
  assert.deepEqual(sent, [true, true]);
  away.connected(false);
  away.visible(); // the new socket was never told it is idle
  t.mock.timers.tick(5000);
  assert.deepEqual(sent, [true, true]);
});

test("support availability is worth telling only when it changes from something known", () => {
  const support = new SupportAvailability();
  assert.equal(support.online, null);
  assert.equal(support.set(false), false); // the first word on connecting
  assert.equal(support.set(false), false);
  assert.equal(support.set(true), true);
  assert.equal(support.online, true);
});

test("the usual response time reads in the largest sensible unit; no measure says nothing", () => {
  const cases = [
    [null, null],
    [undefined, null],
    [Number.NaN, null],
    [-1, null],
    [0, { unit: "under", n: 0 }],
    [59.9, { unit: "under", n: 0 }],
    [60, { unit: "minute", n: 1 }],
    [89, { unit: "minute", n: 1 }],
    [90, { unit: "minutes", n: 2 }],
    [312, { unit: "minutes", n: 5 }],
    [3569, { unit: "minutes", n: 59 }],
    [3570, { unit: "hour", n: 1 }],
    [5400, { unit: "hours", n: 2 }],
    [84_599, { unit: "hours", n: 23 }],
    [84_600, { unit: "day", n: 1 }],
    [3 * 86_400, { unit: "days", n: 3 }],
  ];
  for (const [seconds, expected] of cases) assert.deepEqual(responseTime(seconds), expected, String(seconds));
});

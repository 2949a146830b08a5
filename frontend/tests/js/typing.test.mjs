import assert from "node:assert/strict";
import { test } from "node:test";

import { Typing, TypingSender, TYPING_EVERY_MS, TYPING_SHOWN_MS } from "../../soporte_frontend/static/js/data/typing.js";

function tracker() {
  const changes = [];
  const typing = new Typing({ onChange: (key) => changes.push(key) });
  return { typing, changes };
}

test("someone shows as typing for six seconds after their last signal", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { typing, changes } = tracker();
  typing.seen("ana", "ana");
  assert.deepEqual(typing.who("ana"), ["ana"]);
  assert.deepEqual(changes, ["ana"]);
  t.mock.timers.tick(TYPING_SHOWN_MS - 1);
  assert.deepEqual(typing.who("ana"), ["ana"]);
  t.mock.timers.tick(1);
  assert.deepEqual(typing.who("ana"), []);
  assert.deepEqual(changes, ["ana", "ana"]);
});

test("a repeated signal starts the time over and changes nothing shown", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { typing, changes } = tracker();
  typing.seen("ana", "luis");
  t.mock.timers.tick(TYPING_EVERY_MS);
  typing.seen("ana", "luis");
  t.mock.timers.tick(TYPING_SHOWN_MS - 1);
  assert.deepEqual(typing.who("ana"), ["luis"]);
  assert.deepEqual(changes, ["ana"]); // one change: started (not again on every signal)
  t.mock.timers.tick(1);
  assert.deepEqual(typing.who("ana"), []);
});

test("typists are kept per conversation, in the order they started", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { typing } = tracker();
  typing.seen("ana", "ana");
  typing.seen("ana", "luis");
  typing.seen("bruno", "marta");
  assert.deepEqual(typing.who("ana"), ["ana", "luis"]);
  assert.deepEqual(typing.who("bruno"), ["marta"]);
  assert.deepEqual(typing.who("carla"), []);
});

test("a message from the typist ends their typing at once; clear forgets everyone", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { typing, changes } = tracker();
  typing.seen("ana", "ana");
  typing.seen("ana", "luis");
  typing.seen("bruno", "bruno");
  typing.stopped("ana", "ana");
  assert.deepEqual(typing.who("ana"), ["luis"]);
  typing.stopped("ana", "nadie"); // not typing: nothing changes
  assert.deepEqual(changes, ["ana", "ana", "bruno", "ana"]);
  typing.clear();
  assert.deepEqual([typing.who("ana"), typing.who("bruno")], [[], []]);
  t.mock.timers.tick(TYPING_SHOWN_MS); // the old timers do nothing more
  assert.equal(changes.length, 6);
});

test("typing sends one signal at the first keystroke, then at most one every 2 s", () => {
  let now = 1000;
  const sent = [];
  const sender = new TypingSender({ send: (key) => sent.push([key, now]), now: () => now });
  sender.typed("ana");
  now += 500;
  sender.typed("ana");
  now += TYPING_EVERY_MS - 500 - 1;
  sender.typed("ana");
  assert.deepEqual(sent, [["ana", 1000]]);
  now += 1;
  sender.typed("ana");
  sender.typed("bruno"); // another conversation counts on its own
  assert.deepEqual(sent, [
    ["ana", 1000],
    ["ana", 1000 + TYPING_EVERY_MS],
    ["bruno", 1000 + TYPING_EVERY_MS],
  ]);
});

test("after a message is sent, the next keystroke signals at once", () => {
  let now = 0;
  const sent = [];
  const sender = new TypingSender({ send: () => sent.push(now), now: () => now });
  sender.typed("ana");
  now += 100;
  sender.sent("ana");
  sender.typed("ana");
  assert.deepEqual(sent, [0, 100]);
});

test("the sender runs on the real clock by default", () => {
  const sent = [];
  const sender = new TypingSender({ send: (key) => sent.push(key) });
  sender.typed("ana");
  sender.typed("ana");
  assert.deepEqual(sent, ["ana"]);
});

import assert from "node:assert/strict";
import { test } from "node:test";

import { compareIds, newClientId } from "../../soporte_frontend/static/js/data/ids.js";

test("ids compare by their two numbers, not as strings", () => {
  assert.ok(compareIds("10-0", "9-0") > 0);
  assert.ok(compareIds("1764120000000-2", "1764120000000-10") < 0);
  assert.equal(compareIds("5-1", "5-1"), 0);
  const ids = ["10-0", "9-5", "9-10", "100-0"];
  assert.deepEqual(ids.sort(compareIds), ["9-5", "9-10", "10-0", "100-0"]);
});

test("client ids are new each time and short enough for the server (≤ 64 ASCII)", () => {
  const ids = new Set(Array.from({ length: 100 }, newClientId));
  assert.equal(ids.size, 100);
  for (const id of ids) assert.match(id, /^[\x21-\x7e]{1,64}$/);
});

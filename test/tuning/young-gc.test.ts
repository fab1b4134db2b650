// The scavenge on demand: fails if this Node's V8 stops handing out `gc` or stops taking its options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectYoungGarbage } from '../../tuning/young-gc.js';

test('this Node lets the program ask for a scavenge, without a global gc', () => {
  assert.equal(collectYoungGarbage(), true);
  assert.equal(collectYoungGarbage(), true, 'and again, from the function it kept');
  assert.equal((globalThis as { gc?: unknown }).gc, undefined);
});

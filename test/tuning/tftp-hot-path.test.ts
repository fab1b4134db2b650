// The tftp client's hot path: pinned to the library it patches (fails if that changes), and its polling between blocks.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import tftp, { type GetStream } from 'tftp';
import { ROOT } from '../../lab/paths.js';
import { BlockPoller, type PollerClock, TFTP_POLL_MS, tightenHotPath } from '../../tuning/tftp-hot-path.js';

/**
 * The files of tftp 0.1.2 whose private fields the hot path replaces, as they were when it was
 * written and measured. Another version, or the same version changed, fails here first: read the
 * library again, then record the new digests.
 */
const PATCHED_FILES: Readonly<Record<string, string>> = {
  'lib/protocol/request.js': '05266c46e5661cf71177aba234172598da354c9d91ac27dd96e734eacdbe62c2',
  'lib/protocol/reader.js': '941c70dc4adee92466f86ac1a7aae5747bc0d8c1cd76a0d6ed6fb8d7a6d9a510',
  'lib/protocol/client/client-request.js': '4a7b6f109c369b9627d20da9511022d7ad9fd06bf7ea5c0833d20b83c6392b4a',
  'lib/streams/client/get-stream.js': 'b70c8a7a04025386b248129c35374fb914cb1082ec049628bd8bd6ea3aa13c4b',
};

describe('the library under the patch', () => {
  const library = dirname(createRequire(import.meta.url).resolve('tftp/package.json'));

  test('package.json pins tftp to exactly the version installed, 0.1.2', () => {
    const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const installed = JSON.parse(readFileSync(join(library, 'package.json'), 'utf8')) as { version: string };
    assert.equal(ours.dependencies.tftp, '0.1.2');
    assert.equal(installed.version, '0.1.2');
  });

  test('the files whose private fields it replaces are the ones it was written against', () => {
    for (const [file, digest] of Object.entries(PATCHED_FILES)) {
      const actual = createHash('sha256')
        .update(readFileSync(join(library, file)))
        .digest('hex');
      assert.equal(actual, digest, `tftp ${file} changed`);
    }
  });

  test('a real request of the library has the shape tightenHotPath expects', async () => {
    // Nothing listens on this loopback port: the request fails by itself after one short retry.
    const client = tftp.createClient({ host: '127.0.0.1', port: 9, retries: 1, timeout: 50 });
    const get: GetStream = client.createGetStream('probe.wmopkg');
    const failed = new Promise<void>((resolve) => get.on('error', () => resolve()));
    assert.equal(tightenHotPath(get), true);
    await failed;
  });
});

/** A clock moved by hand, whose next-turn queue runs one turn at a time. */
function manualClock(): PollerClock & { at: number; queued: (() => void)[]; turn(): void } {
  const clock = {
    at: 1000,
    queued: [] as (() => void)[],
    now: () => clock.at,
    next: (fn: () => void) => {
      clock.queued.push(fn);
    },
    turn: () => {
      const fns = clock.queued.splice(0);
      for (const fn of fns) fn();
    },
  };
  return clock;
}

describe('tftp block poller', () => {
  test('after an ACK the loop is kept awake until the deadline, then sleeps', () => {
    const clock = manualClock();
    const poller = new BlockPoller(() => false, clock, 2);
    poller.sent();
    assert.equal(poller.polling, true);
    assert.equal(clock.queued.length, 1);
    clock.at += TFTP_POLL_MS / 2;
    clock.turn();
    assert.equal(poller.polling, true, 'still within the poll time');
    assert.equal(clock.queued.length, 1);
    clock.at += TFTP_POLL_MS;
    clock.turn();
    assert.equal(poller.polling, false, 'past the poll time');
    assert.equal(clock.queued.length, 0);
  });

  test('a quick answer keeps polling on; a slow one stops it until answers are quick again', () => {
    const clock = manualClock();
    const poller = new BlockPoller(() => false, clock, 2);
    poller.sent();
    clock.at += TFTP_POLL_MS / 4;
    poller.arrived();
    poller.sent();
    assert.equal(poller.polling, true);
    // The server takes ten times the poll time: the loop sleeps through the next wait.
    clock.at += TFTP_POLL_MS * 10;
    clock.turn();
    assert.equal(poller.polling, false);
    poller.arrived();
    poller.sent();
    assert.equal(poller.polling, false, 'no polling after a slow answer');
    assert.equal(clock.queued.length, 0);
    // The next answer is quick again: the wait after it is polled.
    clock.at += TFTP_POLL_MS / 4;
    poller.arrived();
    poller.sent();
    assert.equal(poller.polling, true);
  });

  test('one ACK after another extends the same polling, without a second chain of turns', () => {
    const clock = manualClock();
    const poller = new BlockPoller(() => false, clock, 2);
    poller.sent();
    clock.at += TFTP_POLL_MS / 4;
    poller.arrived();
    poller.sent();
    assert.equal(clock.queued.length, 1);
    clock.at += TFTP_POLL_MS * 0.9;
    clock.turn();
    assert.equal(poller.polling, true, 'the deadline moved with the second ACK');
  });

  test('the end of the request stops the polling at the next turn', () => {
    const clock = manualClock();
    let over = false;
    const poller = new BlockPoller(() => over, clock, 2);
    poller.sent();
    over = true;
    clock.turn();
    assert.equal(poller.polling, false);
    assert.equal(clock.queued.length, 0);
  });

  test('never on a single CPU', () => {
    const clock = manualClock();
    const poller = new BlockPoller(() => false, clock, 1);
    poller.sent();
    assert.equal(poller.polling, false);
    assert.equal(clock.queued.length, 0);
  });
});

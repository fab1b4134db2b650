// The tftp client's polling between blocks: when it keeps the event loop awake, and when it stops.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BlockPoller, type PollerClock, TFTP_POLL_MS } from '../../transports/tftp-hot-path.js';

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

// Backoff timing: doubling from 100 ms to the 10 s cap, jitter that only shortens, reset after success.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.js';

test('backoff doubles from 100 ms to a 10 s cap and starts over after reset', () => {
  const b = new Backoff({ random: () => 0 });
  const delays = Array.from({ length: 10 }, () => b.next());
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]);
  assert.equal(b.attempts, 10);
  b.reset();
  assert.equal(b.next(), 100);
});

test('jitter takes up to half of each delay off, never adding to it', () => {
  const high = new Backoff({ random: () => 0.999999 });
  assert.equal(high.next(), 50);
  const mid = new Backoff({ minMs: 1000, maxMs: 1000, jitter: 0.2, random: () => 0.5 });
  assert.equal(mid.next(), 900);
  for (let i = 0; i < 100; i++) {
    const d = new Backoff().next();
    assert.ok(d >= 50 && d <= 100, `${d}`);
  }
});

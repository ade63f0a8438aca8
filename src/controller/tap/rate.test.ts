// The tap rate limit: max-rps split evenly across pods, and each pod observed with that limit at most once
// per window, failures retried a window later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObserveRequest } from '../../api/gen/fathom/tap.js';
import { observeLoop, podRate } from './rate.js';
import type { PodTap } from './source.js';

test('max-rps is split evenly across pods: limit = share × 1 s, or one request per longer window', () => {
  const cases: Array<[number, number, { limit: number; windowMs: number }]> = [
    [100, 1, { limit: 100, windowMs: 1000 }],
    [100, 4, { limit: 25, windowMs: 1000 }],
    [100, 3, { limit: 33, windowMs: 1000 }],
    [10, 10, { limit: 1, windowMs: 1000 }],
    [1, 4, { limit: 1, windowMs: 4000 }],
    [0.5, 1, { limit: 1, windowMs: 2000 }],
    [100, 0, { limit: 100, windowMs: 1000 }],
  ];
  for (const [rps, pods, expected] of cases) assert.deepEqual(podRate(rps, pods), expected, `${rps} rps over ${pods} pods`);
});

/** A PodTap whose calls end at once (as when the proxy's limit is reached), recording each request. */
function recordingTap(fail = false): PodTap & { calls: Array<{ at: number; request: ObserveRequest }> } {
  const calls: Array<{ at: number; request: ObserveRequest }> = [];
  return {
    calls,
    async observe(request) {
      calls.push({ at: Date.now(), request });
      if (fail) throw new Error('cannot tap: UNAVAILABLE');
    },
    close() {},
  };
}

test('each pod is observed at most once per window, with its limit and the match', async () => {
  const tap = recordingTap();
  const abort = new AbortController();
  const match = { match: { $case: 'destinationLabel' as const, value: { key: 'deployment', value: 'voting' } } };
  const loop = observeLoop({ tap, rate: { limit: 7, windowMs: 100 }, match, signal: abort.signal, onEvent: () => {}, onError: () => {} });
  await new Promise((r) => setTimeout(r, 350));
  abort.abort();
  await loop;
  assert.ok(tap.calls.length >= 3 && tap.calls.length <= 4, `3 or 4 calls in 350 ms, got ${tap.calls.length}`);
  for (let i = 1; i < tap.calls.length; i++) assert.ok(tap.calls[i]!.at - tap.calls[i - 1]!.at >= 95, 'a window apart');
  for (const c of tap.calls) assert.deepEqual(c.request, { limit: 7, match, extract: undefined });
});

test('a failing pod is reported and tried again next window; abort ends the loop', async () => {
  const tap = recordingTap(true);
  const abort = new AbortController();
  const errors: string[] = [];
  const loop = observeLoop({ tap, rate: { limit: 1, windowMs: 50 }, match: undefined, signal: abort.signal, onEvent: () => {}, onError: (e) => errors.push(e.message) });
  await new Promise((r) => setTimeout(r, 120));
  abort.abort();
  await loop;
  assert.ok(errors.length >= 2, 'retried');
  assert.equal(errors.length, tap.calls.length);
  assert.equal(errors[0], 'cannot tap: UNAVAILABLE');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenLoop, type Sender } from './open-loop.js';

/** A sender with `slots` requests in flight at most, each answered after `serviceMs`. */
function fakeSender(slots: number, serviceMs: number, loop: OpenLoop): Sender & { sent: number } {
  let busy = 0;
  const s = {
    sent: 0,
    trySend(due: number, done: (due: number, ok: boolean) => void): boolean {
      if (busy >= slots) return false;
      busy++;
      s.sent++;
      setTimeout(() => {
        busy--;
        done(due, true);
        loop.pump();
      }, serviceMs);
      return true;
    },
  };
  return s;
}

test('sends the planned number of requests at the rate, records only the measured window', async () => {
  const phases: string[] = [];
  const loop = new OpenLoop({ rate: 500, warmupMs: 100, durationMs: 400, drainMs: 500, onPhase: (p) => phases.push(p) });
  const sender = fakeSender(100, 2, loop);
  loop.addSender(sender);
  const began = Date.now();
  const r = await loop.run();
  assert.equal(sender.sent, 250); // (0.1 + 0.4 s) × 500/s
  assert.equal(r.ok, 200);
  assert.equal(r.errors, 0);
  assert.equal(r.latency.count, 200);
  assert.deepEqual(phases, ['measuring', 'measured']);
  assert.ok(Date.now() - began < 5000, 'bounded by the schedule and the drain');
  assert.ok(r.latency.percentile(50) >= 2, 'latency includes the service time');
});

test('a stalled server shows as latency from the due time (no coordinated omission)', async () => {
  // One slot, 20 ms per request, 200 requests/s offered: the queue grows and latencies with it.
  const loop = new OpenLoop({ rate: 200, warmupMs: 0, durationMs: 300, drainMs: 3000 });
  loop.addSender(fakeSender(1, 20, loop));
  const r = await loop.run();
  assert.equal(r.ok + r.errors, 60);
  // The last request is due at ~295 ms and served after 60 × 20 ms = 1200 ms: ~900 ms late.
  assert.ok(r.latency.maxMs > 800, `max ${r.latency.maxMs}`);
  assert.ok(r.latency.percentile(50) > 200, `p50 ${r.latency.percentile(50)}`);
});

test('requests still outstanding at the drain deadline count as errors', async () => {
  const loop = new OpenLoop({ rate: 100, warmupMs: 0, durationMs: 200, drainMs: 100 });
  loop.addSender({ trySend: () => true }); // never answers
  const r = await loop.run();
  assert.equal(r.ok, 0);
  assert.equal(r.errors, 20);
  assert.equal(r.timeouts, 20);
});

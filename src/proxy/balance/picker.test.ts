import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Balancer } from './balancer.js';
import type { Slot } from './picker.js';
import { FakeClock, scriptedRandom, seededRandom } from './testing.js';

interface Ep {
  addr: string;
}
const ep = (addr: string): Ep => ({ addr });
const keyOf = (e: Ep) => e.addr;

function balancerOf(addrs: string[], random = seededRandom(1), clock = new FakeClock()) {
  const b = new Balancer<Ep>(keyOf, { clock, random });
  b.update(addrs.map(ep));
  return { b, clock };
}

test('no endpoints: pick() is undefined', () => {
  assert.equal(new Balancer<Ep>(keyOf).picker.pick(), undefined);
});

test('one endpoint is returned as is, even when marked unavailable', () => {
  const { b } = balancerOf(['a:1']);
  const pick = b.picker.pick()!;
  assert.equal(pick.endpoint.addr, 'a:1');
  pick.markUnavailable();
  assert.equal(b.picker.pick()?.key, 'a:1');
});

test('P2C returns the cheaper of the two sampled endpoints, in either order', () => {
  // 0.25 → index 0 of 2; second draw 0.0 → 0, bumped past i to 1: the pair (0, 1). And (1, 0) next.
  const { b } = balancerOf(['a:1', 'b:1'], scriptedRandom([0.25, 0.0, 0.75, 0.0]));
  const loaded = b.picker.pick()!;
  assert.equal(loaded.key, 'a:1');
  loaded.start(); // a now costs 2 × 30 ms
  assert.equal(b.picker.pick()?.key, 'b:1'); // pair (1, 0)
  assert.equal(b.picker.pick()?.key, 'b:1'); // pair (0, 1)
});

test('P2C compares only the sampled pair, not every endpoint', () => {
  const { b } = balancerOf(['a:1', 'b:1', 'c:1'], scriptedRandom([0.4, 0.6]));
  // Load b once and c twice; a (cheapest) is not in the sampled pair (1, 2), so b wins.
  b.picker.find('b:1')!.start();
  b.picker.find('c:1')!.start();
  b.picker.find('c:1')!.start();
  for (let i = 0; i < 5; i++) assert.equal(b.picker.pick()?.key, 'b:1');
});

test('equal endpoints share picks roughly evenly', () => {
  const { b, clock } = balancerOf(['a:1', 'b:1', 'c:1', 'd:1'], seededRandom(42));
  const counts = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    const pick = b.picker.pick()!;
    const h = pick.start();
    clock.advance(1);
    h.done(10);
    counts.set(pick.key, (counts.get(pick.key) ?? 0) + 1);
  }
  for (const [key, n] of counts) assert.ok(n > 2_200 && n < 2_800, `${key} got ${n} of 10000`);
});

test('done() without an RTT measures the time since start() on the clock; done twice counts once', () => {
  const { b, clock } = balancerOf(['a:1']);
  const pick = b.picker.pick()! as Slot<Ep>;
  const h1 = pick.start();
  const h2 = pick.start();
  assert.equal(pick.state.ewma.pending, 2);
  clock.advance(500);
  h1.done();
  assert.equal(pick.state.ewma.rttEstimate(), 500);
  h1.done();
  h1.cancel();
  assert.equal(pick.state.ewma.pending, 1);
  h2.cancel();
  assert.equal(pick.state.ewma.pending, 0);
  assert.equal(pick.state.ewma.rttEstimate(), 500, 'cancel does not feed the estimate');
});

test('an unavailable endpoint is skipped while others are available, then comes back', () => {
  const { b, clock } = balancerOf(['a:1', 'b:1', 'c:1'], seededRandom(7));
  b.picker.find('a:1')!.markUnavailable();
  const seen = new Set<string>();
  for (let i = 0; i < 1_000; i++) seen.add(b.picker.pick()!.key);
  assert.deepEqual([...seen].sort(), ['b:1', 'c:1']);
  clock.advance(1_000); // the default 1 s is over
  let pickedA = 0;
  for (let i = 0; i < 1_000; i++) if (b.picker.pick()!.key === 'a:1') pickedA++;
  assert.ok(pickedA > 200, `a picked ${pickedA} times after recovering`);
});

test('with one endpoint left available, it takes every pick; with none, one is still picked', () => {
  const { b, clock } = balancerOf(['a:1', 'b:1', 'c:1'], seededRandom(3));
  b.picker.find('a:1')!.markUnavailable(5_000);
  b.picker.find('c:1')!.markUnavailable(5_000);
  for (let i = 0; i < 100; i++) assert.equal(b.picker.pick()?.key, 'b:1');
  b.picker.find('b:1')!.markUnavailable(5_000);
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) seen.add(b.picker.pick()!.key);
  assert.equal(seen.size, 3, 'all unavailable: P2C over all of them');
  clock.advance(5_000);
  assert.ok(b.picker.pick());
});

test('with three endpoints of which one is slow, at least 80% of 10,000 requests go to the fast ones', () => {
  const clock = new FakeClock();
  const b = new Balancer<Ep>(keyOf, { clock, random: seededRandom(2024) });
  b.update([ep('fast-1:80'), ep('slow:80'), ep('fast-2:80')]);
  const latencyMs: Record<string, number> = { 'fast-1:80': 10, 'fast-2:80': 10, 'slow:80': 200 };
  // One request per simulated millisecond; each endpoint answers in a fixed time, so its completions are FIFO.
  const inflight = new Map<string, Array<{ at: number; done: () => void }>>();
  const counts = new Map<string, number>();
  for (let t = 0; t < 10_000; t++) {
    clock.ms = t;
    for (const queue of inflight.values()) {
      while (queue.length > 0 && queue[0]!.at <= t) queue.shift()!.done();
    }
    const pick = b.picker.pick()!;
    const handle = pick.start();
    const queue = inflight.get(pick.key) ?? [];
    inflight.set(pick.key, queue);
    queue.push({ at: t + latencyMs[pick.key]!, done: () => handle.done() });
    counts.set(pick.key, (counts.get(pick.key) ?? 0) + 1);
  }
  const slow = counts.get('slow:80') ?? 0;
  const fastShare = (10_000 - slow) / 10_000;
  assert.ok(fastShare >= 0.8, `fast endpoints got ${(fastShare * 100).toFixed(1)}%`);
  // Both fast endpoints carry load, not just one of them.
  assert.ok((counts.get('fast-1:80') ?? 0) > 3_000 && (counts.get('fast-2:80') ?? 0) > 3_000, JSON.stringify([...counts]));
});

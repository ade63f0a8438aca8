import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Balancer, DEFAULT_FAILFAST_MS } from './balancer.js';
import type { Slot } from './picker.js';
import { FakeClock, seededRandom } from './testing.js';

interface Ep {
  addr: string;
  pod?: string;
}
const keyOf = (e: Ep) => e.addr;
const stateOf = (b: Balancer<Ep>, key: string) => (b.picker.find(key) as Slot<Ep>).state;

test('update keeps the load of endpoints that persist and takes their new metadata', () => {
  const clock = new FakeClock();
  const b = new Balancer<Ep>(keyOf, { clock, random: seededRandom(1) });
  b.update([{ addr: 'a:1', pod: 'web-1' }, { addr: 'b:1' }]);
  const a = b.picker.find('a:1')!;
  a.start().done(400);
  const inflight = a.start();
  b.update([{ addr: 'b:1' }, { addr: 'a:1', pod: 'web-1-renamed' }, { addr: 'c:1' }]);
  assert.equal(b.picker.size, 3);
  assert.equal(b.picker.find('a:1')!.endpoint.pod, 'web-1-renamed');
  const state = stateOf(b, 'a:1');
  assert.equal(state.ewma.rttEstimate(), 400);
  assert.equal(state.ewma.pending, 1);
  inflight.done(400);
  assert.equal(state.ewma.pending, 0, 'a handle from the old snapshot completes against the kept state');
  assert.equal(stateOf(b, 'c:1').ewma.rttEstimate(), 30, 'new endpoints start at the initial RTT');
});

test('removed endpoints are no longer picked; their in-flight requests complete normally', () => {
  const b = new Balancer<Ep>(keyOf, { clock: new FakeClock(), random: seededRandom(5) });
  b.update([{ addr: 'a:1' }, { addr: 'b:1' }]);
  const old = b.picker;
  const onA = old.find('a:1')!;
  const handle = onA.start();
  b.update([{ addr: 'b:1' }, { addr: 'c:1' }]);
  for (let i = 0; i < 500; i++) assert.notEqual(b.picker.pick()!.key, 'a:1');
  assert.doesNotThrow(() => handle.done(12));
  assert.equal((onA as Slot<Ep>).state.ewma.pending, 0);
  // A snapshot read before the update is unchanged: it is immutable.
  assert.deepEqual(old.endpoints().map(keyOf), ['a:1', 'b:1']);
  // Re-adding a removed key starts afresh.
  b.update([{ addr: 'a:1' }]);
  assert.equal(stateOf(b, 'a:1').ewma.rttEstimate(), 30);
});

test('unavailability survives an update for endpoints that persist', () => {
  const b = new Balancer<Ep>(keyOf, { clock: new FakeClock(), random: seededRandom(9), unavailableMs: 2_000 });
  b.update([{ addr: 'a:1' }, { addr: 'b:1' }]);
  b.picker.find('a:1')!.markUnavailable();
  b.update([{ addr: 'a:1' }, { addr: 'b:1' }, { addr: 'c:1' }]);
  for (let i = 0; i < 300; i++) assert.notEqual(b.picker.pick()!.key, 'a:1');
  assert.equal(stateOf(b, 'a:1').unavailableUntil, 2_000);
});

test('a key listed twice counts once', () => {
  const b = new Balancer<Ep>(keyOf);
  b.update([{ addr: 'a:1', pod: 'first' }, { addr: 'a:1', pod: 'second' }]);
  assert.equal(b.picker.size, 1);
  assert.equal(b.picker.find('a:1')!.endpoint.pod, 'first');
});

test('waitForEndpoints resolves at once when there are endpoints', async () => {
  const b = new Balancer<Ep>(keyOf);
  b.update([{ addr: 'a:1' }]);
  const picker = await b.waitForEndpoints();
  assert.equal(picker?.pick()?.key, 'a:1');
});

test('waitForEndpoints resolves with the picker of the first update that brings endpoints', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const b = new Balancer<Ep>(keyOf);
    const first = b.waitForEndpoints();
    const second = b.waitForEndpoints(10_000);
    assert.equal(b.waiting, 2);
    b.update([]); // "no endpoints" keeps the requests waiting
    mock.timers.tick(1_000);
    assert.equal(b.waiting, 2);
    b.update([{ addr: 'a:1' }]);
    assert.equal(b.waiting, 0);
    assert.equal((await first)?.pick()?.key, 'a:1');
    assert.equal((await second)?.size, 1);
  } finally {
    mock.timers.reset();
  }
});

test('waitForEndpoints gives undefined after the failfast timeout (3 s by default)', async () => {
  assert.equal(DEFAULT_FAILFAST_MS, 3_000);
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const b = new Balancer<Ep>(keyOf);
    let settled = false;
    const waiting = b.waitForEndpoints().then((p) => ((settled = true), p));
    mock.timers.tick(2_999);
    await Promise.resolve();
    assert.equal(settled, false);
    mock.timers.tick(1);
    assert.equal(await waiting, undefined);
    assert.equal(b.waiting, 0);
    b.update([{ addr: 'a:1' }]); // a late update finds nobody waiting
  } finally {
    mock.timers.reset();
  }
});

test('waitForEndpoints gives undefined when the caller aborts or the balancer closes', async () => {
  const b = new Balancer<Ep>(keyOf);
  const ac = new AbortController();
  const aborted = b.waitForEndpoints(60_000, ac.signal);
  const closed = b.waitForEndpoints(60_000);
  ac.abort();
  assert.equal(await aborted, undefined);
  assert.equal(b.waiting, 1);
  b.close();
  assert.equal(await closed, undefined);
  assert.equal(await b.waitForEndpoints(60_000), undefined, 'a closed balancer does not wait');
  b.update([{ addr: 'a:1' }]);
  assert.equal(b.picker.size, 0, 'updates after close are ignored');
  const pre = new AbortController();
  pre.abort();
  assert.equal(await new Balancer<Ep>(keyOf).waitForEndpoints(60_000, pre.signal), undefined);
});

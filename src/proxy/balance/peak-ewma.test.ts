import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DECAY_MS, DEFAULT_RTT_MS, PeakEwma } from './peak-ewma.js';
import { FakeClock } from './testing.js';

const close = (got: number, want: number) => assert.ok(Math.abs(got - want) < 1e-9, `got ${got}, want ${want}`);

test("Linkerd's defaults: 30 ms initial RTT, 10 s decay", () => {
  assert.equal(DEFAULT_RTT_MS, 30);
  assert.equal(DEFAULT_DECAY_MS, 10_000);
  const ewma = new PeakEwma(new FakeClock());
  assert.equal(ewma.load(), 30);
});

test('cost is the RTT estimate times (pending + 1)', () => {
  const ewma = new PeakEwma(new FakeClock());
  ewma.start();
  ewma.start();
  assert.equal(ewma.pending, 2);
  assert.equal(ewma.load(), 90);
  ewma.abandon();
  assert.equal(ewma.load(), 60);
});

test('a slower response raises the estimate to it at once (peak)', () => {
  const clock = new FakeClock();
  const ewma = new PeakEwma(clock);
  ewma.start();
  clock.advance(1);
  ewma.complete(250);
  assert.equal(ewma.rttEstimate(), 250);
  assert.equal(ewma.pending, 0);
});

test('a faster response moves the estimate by w = exp(-elapsed/decay)', () => {
  const clock = new FakeClock();
  const ewma = new PeakEwma(clock, 100);
  clock.advance(10_000); // one time constant
  ewma.complete(20);
  close(ewma.rttEstimate(), 100 * Math.exp(-1) + 20 * (1 - Math.exp(-1)));
});

test('a faster response with no time elapsed leaves the estimate unchanged', () => {
  const clock = new FakeClock(5);
  const ewma = new PeakEwma(clock, 100);
  ewma.complete(1);
  assert.equal(ewma.rttEstimate(), 100);
});

test('reading the load decays the estimate toward 0 with idle time', () => {
  const clock = new FakeClock();
  const ewma = new PeakEwma(clock, 100);
  clock.advance(10_000);
  close(ewma.load(), 100 * Math.exp(-1));
  clock.advance(10_000);
  close(ewma.rttEstimate(), 100 * Math.exp(-2));
  clock.advance(1_000_000);
  assert.ok(ewma.load() < 1e-9);
});

test('with a custom decay the same elapsed time weighs more', () => {
  const clock = new FakeClock();
  const ewma = new PeakEwma(clock, 100, 1_000);
  clock.advance(1_000);
  close(ewma.rttEstimate(), 100 * Math.exp(-1));
});

test('a clock stepping backwards does not change the estimate', () => {
  const clock = new FakeClock(1_000);
  const ewma = new PeakEwma(clock, 100);
  clock.ms = 0;
  ewma.complete(10);
  assert.equal(ewma.rttEstimate(), 100);
});

test('pending never goes below zero', () => {
  const ewma = new PeakEwma(new FakeClock());
  ewma.complete(10);
  ewma.abandon();
  assert.equal(ewma.pending, 0);
});

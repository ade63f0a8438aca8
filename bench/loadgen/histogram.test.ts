import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from './histogram.js';

test('percentiles are within 1 % of the exact values over six decades', () => {
  const values: number[] = [];
  let seed = 7;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 20_000; i++) values.push(10 ** (random() * 6 - 3)); // 1 µs .. 1 s, in ms
  const h = new Histogram();
  for (const v of values) h.record(v);
  values.sort((a, b) => a - b);
  for (const p of [1, 10, 50, 90, 99, 99.9, 99.99]) {
    const exact = values[Math.ceil((p / 100) * values.length) - 1]!;
    const got = h.percentile(p);
    // Below 25.6 µs the histogram is exact to its 100 ns unit; above, to 1/256 of the value.
    assert.ok(Math.abs(got - exact) <= Math.max(exact * 0.01, 0.0001), `p${p}: got ${got}, exact ${exact}`);
  }
  assert.equal(h.percentile(100), values[values.length - 1]);
  assert.equal(h.maxMs, values[values.length - 1]);
});

test('merge through the serialised form gives the same percentiles', () => {
  const a = new Histogram();
  const b = new Histogram();
  for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).record(i / 10);
  const merged = Histogram.from(JSON.parse(JSON.stringify(a.toJSON())));
  merged.merge(JSON.parse(JSON.stringify(b.toJSON())));
  assert.equal(merged.count, 1000);
  assert.ok(Math.abs(merged.percentile(50) - 50) < 0.5);
  assert.ok(Math.abs(merged.percentile(99) - 99) < 1);
  assert.equal(merged.maxMs, 100);
});

test('an empty histogram reports NaN, huge values are clamped not lost', () => {
  const h = new Histogram();
  assert.ok(Number.isNaN(h.percentile(50)));
  h.record(10 * 60_000);
  h.record(-1);
  assert.equal(h.count, 2);
  assert.equal(h.maxMs, 600_000);
});

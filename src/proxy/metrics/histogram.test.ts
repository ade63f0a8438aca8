import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, LATENCY_BUCKETS_MS } from './histogram.js';

test('latency buckets are Linkerd\'s', () => {
  assert.deepEqual(LATENCY_BUCKETS_MS, [
    1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000,
    40000, 50000,
  ]);
});

test('observe puts a value in the first bucket whose bound is at least the value', () => {
  const cases: [number, string][] = [
    [0, '1'],
    [0.3, '1'],
    [1, '1'],
    [1.01, '2'],
    [5, '5'],
    [7, '10'],
    [10, '10'],
    [999, '1000'],
    [50000, '50000'],
    [50001, '+Inf'],
    [1e12, '+Inf'],
    [-3, '1'], // a clock step back counts as zero
    [NaN, '1'],
  ];
  const bounds = [...LATENCY_BUCKETS_MS.map(String), '+Inf'];
  for (const [value, le] of cases) {
    const h = new Histogram();
    h.observe(value);
    assert.equal(h.counts[bounds.indexOf(le)], 1, `${value} → le=${le}`);
    assert.equal(h.count, 1);
  }
});

test('render writes cumulative buckets, sum and count', () => {
  const h = new Histogram([10, 100]);
  for (const v of [5, 10, 50, 500]) h.observe(v);
  assert.equal(
    h.render('lat_ms', 'a="1"'),
    [
      'lat_ms_bucket{a="1",le="10"} 2',
      'lat_ms_bucket{a="1",le="100"} 3',
      'lat_ms_bucket{a="1",le="+Inf"} 4',
      'lat_ms_sum{a="1"} 565',
      'lat_ms_count{a="1"} 4',
      '',
    ].join('\n'),
  );
  assert.equal(new Histogram([1]).render('x', ''), 'x_bucket{le="1"} 0\nx_bucket{le="+Inf"} 0\nx_sum 0\nx_count 0\n');
});

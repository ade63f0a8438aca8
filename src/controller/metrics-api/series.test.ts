// series: its PromQL (stat's selection, rates over a window of several scrapes) and the columns built from
// canned range answers, including the gaps and the TLS split.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FathomError } from '../../lib/errors.js';
import type { RangeSeries } from './prometheus.js';
import { parseResource, type ResourceRef } from './resources.js';
import { parseRange, series, seriesColumns, seriesPlan } from './series.js';

const ref = (text: string) => parseResource(text) as ResourceRef;

test('deploy/web over 15m: 5 s steps, 30 s rate window, inbound selection as stat makes it', () => {
  const plan = seriesPlan({ resource: ref('deploy/web'), namespace: 'nodevoto', rangeSeconds: 900 });
  assert.equal(plan.step, 5);
  assert.equal(plan.rateWindow, '30s');
  const sel = '{deployment="web", direction="inbound", namespace="nodevoto"}';
  assert.equal(plan.responses, `sum(rate(response_total${sel}[30s])) by (classification, tls)`);
  assert.equal(plan.latency[2], `histogram_quantile(0.99, sum(rate(response_latency_ms_bucket${sel}[30s])) by (le))`);
  assert.equal(plan.tcpConnections, 'sum(tcp_open_connections{deployment="web", direction="inbound", namespace="nodevoto", peer="src"})');
});

test('6h: about 180 points, the rate window grows with the step', () => {
  const plan = seriesPlan({ resource: ref('po/web-0'), namespace: 'nodevoto', rangeSeconds: 6 * 3600 });
  assert.equal(plan.step, 120);
  assert.equal(plan.rateWindow, '480s');
});

test('bad requests name what is wrong', () => {
  assert.throws(() => seriesPlan({ resource: ref('deploy'), namespace: 'x', rangeSeconds: 60 }), (e: unknown) => e instanceof FathomError && /one resource/.test(e.message));
  assert.throws(() => seriesPlan({ resource: ref('svc/web'), namespace: 'x', rangeSeconds: 60 }), /deployments, pods and namespaces/);
  assert.match(String(parseRange('10s')), /between 1m and 6h/);
  assert.match(String(parseRange('7h')), /between 1m and 6h/);
  assert.match(String(parseRange('soon')), /not a duration/);
  assert.equal(parseRange('1h'), 3600);
});

const rs = (labels: Record<string, string>, points: [number, number][]): RangeSeries => ({ labels, points });

test('columns: success over all classes, rps split by tls, gaps stay null, NaN quantiles are null', () => {
  const cols = seriesColumns(100, 120, 5, {
    responses: [
      rs({ classification: 'success', tls: 'true' }, [[105, 8], [110, 9], [115, 10]]),
      rs({ classification: 'failure', tls: 'true' }, [[105, 2], [110, 1]]),
      rs({ classification: 'success', tls: 'no_identity' }, [[115, 5]]),
    ],
    latency: [[rs({}, [[105, 3], [110, NaN]])], [], []],
    tcpConnections: [rs({}, [[100, 4], [120, 6]])],
  });
  assert.deepEqual(cols.timestamps, [100, 105, 110, 115, 120]);
  assert.deepEqual(cols.success, [null, 0.8, 0.9, 1, null]);
  assert.deepEqual(cols.rps_tls, [null, 10, 10, 10, null]);
  assert.deepEqual(cols.rps_plain, [null, 0, 0, 5, null]);
  assert.deepEqual(cols.latency_ms_p50, [null, 3, null, null, null]);
  assert.deepEqual(cols.latency_ms_p95, [null, null, null, null, null]);
  assert.deepEqual(cols.tcp_open_connections, [4, null, null, null, 6]);
});

test('series asks Prometheus for a grid aligned to the step, ending at now', async () => {
  const calls: [string, number, number, number][] = [];
  const res = await series(
    { resource: ref('deploy/web'), namespace: 'nodevoto', rangeSeconds: 300 },
    {
      queryRange: async (q, start, end, step) => {
        calls.push([q, start, end, step]);
        return [];
      },
    },
    1_000_003_000,
  );
  assert.equal(calls.length, 5);
  for (const [, start, end, step] of calls) {
    assert.equal(step, 5);
    assert.equal(end, 1_000_000);
    assert.equal(start, 1_000_000 - 300);
  }
  assert.equal(res.timestamps.length, 61);
  assert.equal(res.queries.length, 5);
  assert.ok(res.success.every((v) => v === null));
});

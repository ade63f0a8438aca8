import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETRY_BUDGET, toResponseMatch, toRoute, translateProfile, weightFromQuantity } from './profile-translator.js';

test('no profile gives no routes and the default retry budget', () => {
  const got = translateProfile(undefined, 80);
  assert.deepEqual(got, { routes: [], retryBudget: DEFAULT_RETRY_BUDGET, dstOverrides: [], problems: [] });
});

test('weights are Kubernetes quantities in ten-thousandths', () => {
  assert.equal(weightFromQuantity(1), 10000);
  assert.equal(weightFromQuantity('500m'), 5000);
  assert.equal(weightFromQuantity('0.25'), 2500);
  assert.throws(() => weightFromQuantity('lots'), /weight "lots" is not a quantity/);
});

test('status ranges: a single bound is a single status; out-of-range is refused', () => {
  assert.deepEqual(toResponseMatch({ status: { min: 500 } }), { match: { $case: 'status', value: { min: 500, max: 500 } } });
  assert.deepEqual(toResponseMatch({ status: { min: 500, max: 599 } }), { match: { $case: 'status', value: { min: 500, max: 599 } } });
  assert.throws(() => toResponseMatch({ status: { min: 600, max: 700 } }), /not within 100-599/);
  assert.throws(() => toResponseMatch({ status: { min: 599, max: 500 } }), /not within 100-599 in order/);
  assert.throws(() => toResponseMatch({}), /needs at least one of/);
});

test('a route keeps its name as the route label, its classes and its timeout', () => {
  const route = toRoute({
    name: 'POST /vote',
    condition: { method: 'post', pathRegex: '/vote/.*' },
    responseClasses: [{ condition: { status: { min: 500, max: 599 } }, isFailure: true }],
    timeout: '1m30s',
  });
  assert.deepEqual(route.metricsLabels, { route: 'POST /vote' });
  assert.equal(route.responseClasses[0]?.isFailure, true);
  assert.deepEqual(route.timeout, { seconds: 90n, nanos: 0 });
  assert.equal(route.isRetryable, false);
  const nested = toRoute({ name: 'odd', condition: { not: { method: 'BREW' } } });
  assert.deepEqual(nested.condition?.match, { $case: 'not', value: { match: { $case: 'method', value: { type: { $case: 'unregistered', value: 'BREW' } } } } });
});

test('bad parts of a profile are left out and reported; the rest stays', () => {
  const got = translateProfile(
    {
      routes: [
        { name: 'good', condition: { pathRegex: '/ok' } },
        { name: 'bad-regex', condition: { pathRegex: '(' } },
        { name: 'bad-timeout', condition: { pathRegex: '/x' }, timeout: 'soon' },
      ],
      retryBudget: { retryRatio: 0.1, minRetriesPerSecond: 5, ttl: 'never' },
      dstOverrides: [{ authority: 'web-v2.nodevoto.svc.cluster.local', weight: '250m' }, { authority: 'x', weight: '?' }],
    },
    8080,
  );
  assert.deepEqual(got.routes.map((r) => r.metricsLabels.route), ['good']);
  assert.equal(got.retryBudget, DEFAULT_RETRY_BUDGET);
  assert.deepEqual(got.dstOverrides, [{ authority: 'web-v2.nodevoto.svc.cluster.local:8080', weight: 2500, backendRef: undefined }]);
  assert.equal(got.problems.length, 4);
  assert.match(got.problems.join('\n'), /route 1 \(bad-regex\)/);
  assert.match(got.problems.join('\n'), /route 2 \(bad-timeout\): timeout "soon" is not a duration/);
  assert.match(got.problems.join('\n'), /retryBudget\.ttl/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from './duration.js';

test('parseDuration reads Go-style durations', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['250ms', 250],
    ['20s', 20_000],
    ['1.5s', 1500],
    ['1m30s', 90_000],
    ['24h', 86_400_000],
    ['24h0m0s', 86_400_000],
    ['500us', 0.5],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('parseDuration names the bad input', () => {
  for (const text of ['', '10', '-1s', '1x', 's', '1h 2m']) {
    const got = parseDuration(text);
    assert.equal(typeof got, 'string', text);
    assert.match(got as string, /is not a duration/);
  }
});

test('formatDuration prints like Go', () => {
  assert.equal(formatDuration(86_400_000), '24h0m0s');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(20_000), '20s');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(0), '0s');
});

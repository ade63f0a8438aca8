// The PromQL building blocks: selectors as Prometheus prints label sets, escaping, and the time window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eq, parseWindow, quote, re, regexLiteral, selector } from './promql.js';

test('selectors sort by label name and quote values; an empty selector is empty', () => {
  assert.equal(selector([eq('namespace', 'a'), re('dst', 'x.*'), eq('direction', 'inbound')]), '{direction="inbound", dst=~"x.*", namespace="a"}');
  assert.equal(selector([]), '');
  assert.equal(quote('a"b\\c\nd'), '"a\\"b\\\\c\\nd"');
  assert.equal(regexLiteral('web-svc.ns.svc'), 'web-svc\\.ns\\.svc');
});

test('windows: at least 15 s, whole seconds, written in the largest whole unit', () => {
  const cases: [string, string | RegExp][] = [
    ['1m', '1m'],
    ['15s', '15s'],
    ['60s', '1m'],
    ['1m30s', '90s'],
    ['2h', '2h'],
    ['14s', /too short: at least 15s/],
    ['15.5s', /whole number of seconds/],
    ['soon', /not a duration/],
  ];
  for (const [input, expected] of cases) {
    const w = parseWindow(input);
    if (expected instanceof RegExp) assert.match(w as string, expected, input);
    else assert.equal(typeof w === 'string' ? w : w.text, expected, input);
  }
  assert.deepEqual(parseWindow('1m30s'), { text: '90s', seconds: 90 });
});

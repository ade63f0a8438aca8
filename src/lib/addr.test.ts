import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSocketAddr, parsePortList, parseSocketAddr } from './addr.js';

const good: Array<[string, { host: string; port: number }]> = [
  ['127.0.0.1:4140', { host: '127.0.0.1', port: 4140 }],
  [':4191', { host: '0.0.0.0', port: 4191 }],
  ['[::1]:4143', { host: '::1', port: 4143 }],
  ['web-svc.nodevoto:80', { host: 'web-svc.nodevoto', port: 80 }],
];
for (const [text, want] of good) test(`parseSocketAddr ${text}`, () => assert.deepEqual(parseSocketAddr(text), want));

for (const bad of ['', '4140', '::1:4143', 'host:port', 'a:70000', '[1.2.3.4]:80', 'a b:80', 'h:-1']) {
  test(`parseSocketAddr rejects "${bad}"`, () => assert.equal(typeof parseSocketAddr(bad), 'string'));
}

test('parsePortList', () => {
  assert.deepEqual([...(parsePortList('25, 587,4000-4002') as Set<number>)], [25, 587, 4000, 4001, 4002]);
  assert.equal(typeof parsePortList('5-1'), 'string');
  assert.equal(typeof parsePortList('x'), 'string');
  assert.equal((parsePortList('') as Set<number>).size, 0);
});

test('formatSocketAddr brackets IPv6', () => {
  assert.equal(formatSocketAddr('::1', 80), '[::1]:80');
  assert.equal(formatSocketAddr('10.0.0.1', 80), '10.0.0.1:80');
});

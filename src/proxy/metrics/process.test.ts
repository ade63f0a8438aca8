import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readProcessSnapshot } from './process.js';

test('process figures come from /proc on Linux', { skip: !existsSync('/proc/self/stat') && 'no /proc here' }, () => {
  const p = readProcessSnapshot();
  assert.ok(p.cpuSeconds >= 0);
  assert.ok(p.residentBytes > 1_000_000, `rss ${p.residentBytes}`);
  assert.ok(p.virtualBytes !== undefined && p.virtualBytes >= p.residentBytes);
  assert.ok(p.openFds !== undefined && p.openFds >= 3, `open fds ${p.openFds}`);
  assert.ok(p.maxFds === undefined || p.maxFds >= p.openFds);
  const nowSeconds = Date.now() / 1000;
  assert.ok(p.startTimeSeconds <= nowSeconds && p.startTimeSeconds > nowSeconds - 3600);
});

test('without /proc, CPU and memory come from Node and the rest is left out', () => {
  const p = readProcessSnapshot('/nonexistent/proc/self');
  assert.ok(p.cpuSeconds > 0);
  assert.ok(p.residentBytes > 0);
  assert.equal(p.virtualBytes, undefined);
  assert.equal(p.openFds, undefined);
  assert.equal(p.maxFds, undefined);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type ControllerConfig } from './config.js';

test('defaults follow Linkerd: 24h leaves, 20s skew, cluster.local, port 8086', () => {
  const config = parseConfig([]) as ControllerConfig;
  assert.deepEqual(config.addr, { host: '127.0.0.1', port: 8086 });
  assert.equal(config.issuanceLifetimeMs, 86_400_000);
  assert.equal(config.clockSkewMs, 20_000);
  assert.equal(config.trustDomain, 'cluster.local');
  assert.equal(config.controlNamespace, 'fathom');
  assert.equal(config.platform, 'memory');
  assert.equal(config.caFiles, undefined);
  assert.deepEqual([...config.defaultOpaquePorts], [25, 587, 3306, 4444, 5432, 6379, 9300, 11211]);
});

test('flags are parsed into typed values', () => {
  const config = parseConfig([
    '--addr', '0.0.0.0:9000', '--issuance-lifetime', '1h30m', '--clock-skew', '5s', '--trust-domain', 'example.org',
    '--trust-anchor', 'a.pem', '--issuer-cert', 'i.pem', '--issuer-key', 'k.pem', '--default-opaque-ports', '3306,6000-6001',
  ]) as ControllerConfig;
  assert.deepEqual(config.addr, { host: '0.0.0.0', port: 9000 });
  assert.equal(config.issuanceLifetimeMs, 5_400_000);
  assert.equal(config.clockSkewMs, 5000);
  assert.equal(config.trustDomain, 'example.org');
  assert.match(config.caFiles!.issuerKey, /\/k\.pem$/);
  assert.deepEqual([...config.defaultOpaquePorts], [3306, 6000, 6001]);
});

test('bad values name the flag', () => {
  assert.deepEqual(parseConfig(['--clock-skew', 'abit']), { error: '--clock-skew: "abit" is not a duration (examples: 250ms, 20s, 1m30s, 24h)' });
  assert.deepEqual(parseConfig(['--issuance-lifetime', '10s']), { error: '--issuance-lifetime: 10s is too short (at least 1m)' });
  assert.match((parseConfig(['--log-level', 'loud']) as { error: string }).error, /^--log-level: "loud" is not one of/);
  assert.equal(parseConfig(['--help']), 'help');
});

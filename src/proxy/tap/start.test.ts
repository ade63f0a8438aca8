// The tap's configuration and start: FATHOM_PROXY_TAP_ADDR (4190 by default), and no Tap server for a
// standalone proxy, whose hub is never active.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProxyConfig, type ProxyConfig } from '../config.js';
import { recordingLogger } from '../discover/testing.js';
import { startTap } from './start.js';

test('FATHOM_PROXY_TAP_ADDR: Linkerd\'s 4190 on every interface by default; a bad value is named', () => {
  assert.deepEqual((parseProxyConfig({}) as ProxyConfig).tapAddr, { host: '0.0.0.0', port: 4190 });
  assert.deepEqual((parseProxyConfig({ FATHOM_PROXY_TAP_ADDR: '127.0.0.1:5190' }) as ProxyConfig).tapAddr, { host: '127.0.0.1', port: 5190 });
  const bad = parseProxyConfig({ FATHOM_PROXY_TAP_ADDR: 'nope' }) as { errors: string[] };
  assert.ok(bad.errors.some((e) => e.startsWith('FATHOM_PROXY_TAP_ADDR: ')), bad.errors.join('; '));
});

test('a standalone proxy serves no tap; its hub exists and is never active', async () => {
  const config = parseProxyConfig({}) as ProxyConfig;
  const tap = await startTap(config, undefined, recordingLogger());
  assert.equal(tap.addr, undefined);
  assert.equal(tap.hub.active, false);
  await tap.close();
});

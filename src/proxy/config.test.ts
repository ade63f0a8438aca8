import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationMs, parseProxyConfig, type ProxyConfig } from './config.js';

test('defaults follow Linkerd: ports, detect timeout, opaque ports', () => {
  const c = parseProxyConfig({}) as ProxyConfig;
  assert.deepEqual(c.inboundAddr, { host: '0.0.0.0', port: 4143 });
  assert.deepEqual(c.outboundAddr, { host: '127.0.0.1', port: 4140 });
  assert.deepEqual(c.adminAddr, { host: '0.0.0.0', port: 4191 });
  assert.equal(c.controllerAddr, undefined);
  assert.equal(c.detectTimeoutMs, 10_000);
  assert.equal(c.outboundConnectTimeoutMs, 1000);
  assert.equal(c.inboundConnectTimeoutMs, 300);
  assert.deepEqual([...c.opaquePorts].sort((a, b) => a - b), [25, 587, 3306, 4444, 5432, 6379, 9300, 11211]);
});

test('variables override defaults', () => {
  const c = parseProxyConfig({
    FATHOM_PROXY_INBOUND_ADDR: '127.0.0.1:5143',
    FATHOM_PROXY_CONTROLLER_ADDR: '198.18.0.2:8086',
    FATHOM_PROXY_IDENTITY_NAME: 'web.nodevoto.serviceaccount.identity.fathom.cluster.local',
    FATHOM_PROXY_IDENTITY_TOKEN_FILE: '/var/run/fathom/token',
    FATHOM_PROXY_TRUST_ANCHORS_FILE: '/var/lib/fathom/trust-anchors.pem',
    FATHOM_PROXY_DISCOVERY_NETWORKS: '10.0.0.0/8, fd00::/8',
    FATHOM_PROXY_LOG_LEVEL: 'debug',
    FATHOM_PROXY_OPAQUE_PORTS: '1000-1002, 7000',
    FATHOM_PROXY_DETECT_TIMEOUT: '250ms',
    FATHOM_PROXY_SHUTDOWN_GRACE_PERIOD: '5s',
  }) as ProxyConfig;
  assert.deepEqual(c.inboundAddr, { host: '127.0.0.1', port: 5143 });
  assert.deepEqual(c.controllerAddr, { host: '198.18.0.2', port: 8086 });
  assert.equal(c.identityName, 'web.nodevoto.serviceaccount.identity.fathom.cluster.local');
  assert.deepEqual(c.discoveryNetworks, ['10.0.0.0/8', 'fd00::/8']);
  assert.equal(c.logLevel, 'debug');
  assert.deepEqual([...c.opaquePorts], [1000, 1001, 1002, 7000]);
  assert.equal(c.detectTimeoutMs, 250);
  assert.equal(c.shutdownGraceMs, 5000);
});

test('every bad variable is reported by name', () => {
  const r = parseProxyConfig({
    FATHOM_PROXY_INBOUND_ADDR: 'nope',
    FATHOM_PROXY_LOG_LEVEL: 'loud',
    FATHOM_PROXY_OPAQUE_PORTS: '70000',
    FATHOM_PROXY_DETECT_TIMEOUT: 'soon',
    FATHOM_PROXY_MAX_HEADER_BYTES: '12',
  });
  assert.ok('errors' in r);
  const text = r.errors.join('\n');
  for (const name of ['INBOUND_ADDR', 'LOG_LEVEL', 'OPAQUE_PORTS', 'DETECT_TIMEOUT', 'MAX_HEADER_BYTES']) {
    assert.match(text, new RegExp(`FATHOM_PROXY_${name}`));
  }
});

test('a controller needs an identity, a token and trust anchors', () => {
  const r = parseProxyConfig({ FATHOM_PROXY_CONTROLLER_ADDR: '198.18.0.2:8086', FATHOM_PROXY_DISCOVERY_NETWORKS: '10.0.0.0/40' });
  assert.ok('errors' in r);
  for (const name of ['IDENTITY_NAME', 'IDENTITY_TOKEN_FILE', 'TRUST_ANCHORS_FILE', 'DISCOVERY_NETWORKS']) {
    assert.match(r.errors.join('\n'), new RegExp(`FATHOM_PROXY_${name}`));
  }
});

test('durations', () => {
  assert.equal(parseDurationMs('10s'), 10_000);
  assert.equal(parseDurationMs('1.5s'), 1500);
  assert.equal(parseDurationMs('2m'), 120_000);
  assert.equal(parseDurationMs('300'), 300);
  assert.equal(typeof parseDurationMs('-1s'), 'string');
});

test('HTTP/2 limits: 64 KiB header lists and 250 streams by default, overridable, validated', () => {
  const d = parseProxyConfig({}) as ProxyConfig;
  assert.equal(d.http2MaxHeaderListSize, 65_536);
  assert.equal(d.http2MaxConcurrentStreams, 250);
  const c = parseProxyConfig({ FATHOM_PROXY_HTTP2_MAX_HEADER_LIST_SIZE: '131072', FATHOM_PROXY_HTTP2_MAX_CONCURRENT_STREAMS: '1000' }) as ProxyConfig;
  assert.equal(c.http2MaxHeaderListSize, 131_072);
  assert.equal(c.http2MaxConcurrentStreams, 1000);
  const bad = parseProxyConfig({ FATHOM_PROXY_HTTP2_MAX_HEADER_LIST_SIZE: '100', FATHOM_PROXY_HTTP2_MAX_CONCURRENT_STREAMS: '0' });
  assert.ok('errors' in bad);
  assert.match(bad.errors.join('\n'), /HTTP2_MAX_HEADER_LIST_SIZE[\s\S]*HTTP2_MAX_CONCURRENT_STREAMS/);
});

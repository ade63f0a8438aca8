import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sample } from '../../src/lib/prom-text.js';
import { verifyMtls } from './fathom-mesh.js';

const CLIENT = 'client.bench.serviceaccount.identity.fathom.cluster.local';
const SERVER = 'server.bench.serviceaccount.identity.fathom.cluster.local';
const pod = (identity: string, samples: Sample[]) => ({ identity, metrics: async () => samples });
const requests = (direction: string, labels: Record<string, string>, value: number): Sample => ({ name: 'request_total', labels: { direction, ...labels }, value });
const outMtls = requests('outbound', { tls: 'true', server_id: SERVER, dst_service: 'server' }, 50);
const inMtls = requests('inbound', { tls: 'true', client_id: CLIENT }, 50);

test('the mesh path is verified when both proxies counted every request over mTLS between the two identities', async () => {
  await verifyMtls(pod(CLIENT, [outMtls]), pod(SERVER, [inMtls]));
});

test('a hop in clear, or requests on both paths, fail loudly with the TLS labels seen', async () => {
  const plain = [requests('outbound', { tls: 'no_identity', no_tls_reason: 'not_provided_by_service_discovery', dst_service: 'server' }, 50)];
  const fromPlain = [requests('inbound', { tls: 'no_identity', no_tls_reason: 'no_tls_from_remote' }, 50)];
  await assert.rejects(verifyMtls(pod(CLIENT, plain), pod(SERVER, fromPlain)), /not the mesh path — client proxy's outbound requests: tls=no_identity,no_tls_reason=not_provided_by_service_discovery: 50;.*expected all with tls=true/);
  await assert.rejects(verifyMtls(pod(CLIENT, [outMtls, ...plain]), pod(SERVER, [inMtls])), /not the mesh path/);
  // mTLS, but from another identity.
  const stranger = [requests('inbound', { tls: 'true', client_id: 'other.bench.serviceaccount.identity.fathom.cluster.local' }, 50)];
  await assert.rejects(verifyMtls(pod(CLIENT, [outMtls]), pod(SERVER, stranger)), /client_id=other\.bench/);
  await assert.rejects(verifyMtls(pod(CLIENT, []), pod(SERVER, [])), /outbound requests: none/);
});

// The API over HTTP: JSON answers, and errors as JSON with a stable code and a fitting status.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CheckContext } from '../checks/check.js';
import { MetricsApi, MetricsApiServer } from './server.js';

let server: MetricsApiServer;
let base: string;
const seen: string[] = [];

before(async () => {
  const api = new MetricsApi({
    prometheus: {
      query: async (q) => {
        seen.push(q);
        return [];
      },
    },
    inventory: { pods: () => [], servicePods: () => undefined },
    clusterDomain: 'cluster.local',
    platformKind: 'memory',
    version: '1.2.3',
    // The one category below looks at nothing.
    checkContext: (client) => ({ client }) as unknown as CheckContext,
    categories: [{ name: 'only', checks: [{ description: 'always fine', hint: '', run: async () => undefined }] }],
  });
  server = await MetricsApiServer.listen({ host: '127.0.0.1', port: 0 }, api);
  base = `http://127.0.0.1:${server.port}`;
});
after(() => server.close());

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(base + path);
  assert.match(res.headers.get('content-type')!, /^application\/json/);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('stat, routes, edges, checks and version answer JSON', async () => {
  const stat = await get('/api/v1/stat?resource=deploy&namespace=nodevoto&window=15s');
  assert.equal(stat.status, 200);
  assert.deepEqual(stat.body['rows'], []);
  assert.equal(stat.body['window'], '15s');
  assert.equal((stat.body['queries'] as string[]).length, 7);
  assert.equal((await get('/api/v1/routes?resource=deploy/web')).status, 200);
  assert.equal((await get('/api/v1/edges?resource=deploy&all-namespaces=true')).status, 200);
  assert.deepEqual((await get('/api/v1/checks')).body, { success: true, categories: [{ name: 'only', checks: [{ description: 'always fine', result: 'success' }] }] });
  assert.deepEqual((await get('/api/v1/version')).body, { version: '1.2.3', platform: 'memory' });
});

test('bad parameters are 400 with a message naming the parameter; unknown paths 404', async () => {
  const cases: [string, number, RegExp][] = [
    ['/api/v1/stat', 400, /missing parameter "resource"/],
    ['/api/v1/stat?resource=deployz', 400, /parameter "resource": "deployz" is not a resource/],
    ['/api/v1/stat?resource=deploy&window=5s', 400, /parameter "window": time window "5s" is too short/],
    ['/api/v1/stat?resource=deploy&namespace=Bad_NS', 400, /parameter "namespace"/],
    ['/api/v1/stat?resource=svc&to=deploy/x', 400, /--to does not apply to services/],
    ['/api/v1/edges?resource=svc', 400, /edges are between deployments or pods/],
    ['/api/v1/stat?resource=deploy&all-namespaces=maybe', 400, /expected true or false/],
    ['/api/v1/nothing', 404, /no such endpoint/],
  ];
  for (const [path, status, message] of cases) {
    const res = await get(path);
    assert.equal(res.status, status, path);
    assert.match((res.body['error'] as { message: string }).message, message, path);
  }
  const post = await fetch(`${base}/api/v1/stat`, { method: 'POST' });
  assert.equal(post.status, 405);
  await post.arrayBuffer();
});

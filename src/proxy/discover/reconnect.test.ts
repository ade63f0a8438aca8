// Control-plane loss (hardening §1.4): while the controller is away the last known endpoints stay; once it
// is back the client reconnects, and the first answer replaces the cache, even when it is empty or "no such
// service". A relay on a fixed port stands for the controller's address across restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type InProcessController } from '../../../test/helpers/controller.js';
import { DiscoveryClient } from './client.js';
import type { EndpointSnapshot } from './endpoints.js';
import { eventually, recordingLogger, Relay } from './testing.js';

const NS = 'nodevoto';
const WEB = `web.${NS}.svc.cluster.local:80`;

function seed(c: InProcessController, podNumbers: number[]): void {
  c.platform.applyService({ namespace: NS, name: 'web', clusterIP: '198.19.0.10', ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'web' } });
  for (const n of podNumbers) {
    c.platform.applyPod({ namespace: NS, name: `web-${n}`, ip: `198.18.0.${10 + n}`, labels: { app: 'web' }, serviceAccount: 'web', meshed: true });
  }
}

const keys = (s: EndpointSnapshot | undefined) => [...(s?.endpoints.keys() ?? [])].sort();

test('controller restart: last known endpoints kept while it is down, replaced by the first answer after', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'fathom-reconnect-'));
  const log = recordingLogger();
  let c = await startController({ stateDir });
  const relay = await Relay.start(c.controller.port);
  const d = new DiscoveryClient({
    controller: { addr: { host: '127.0.0.1', port: relay.port }, identity: c.controller.identity, trustAnchorsPem: c.controller.trustAnchorsPem },
    backoff: { maxMs: 300 },
    log,
  });
  try {
    seed(c, [1, 2]);
    const w = d.endpoints(WEB);
    assert.deepEqual(keys(await w.ready()), ['198.18.0.11:8080', '198.18.0.12:8080']);

    // The controller goes away: its streams end, and reconnecting finds nothing at its address.
    relay.target = undefined;
    await c.close();
    await eventually('the client to notice', () => log.lines.some((l) => l.startsWith('warn discovery stream lost')));
    const lostAt = log.lines.length;
    await eventually('a failed reconnection', () => log.lines.length > lostAt + 1);
    assert.deepEqual(keys(w.current), ['198.18.0.11:8080', '198.18.0.12:8080'], 'last known good while the controller is down');
    const ready = await w.ready(50);
    assert.equal(ready, w.current, 'ready() answers at once from the last known snapshot');

    // It comes back (same CA) with another endpoint set: the first answer replaces, it does not merge.
    c = await startController({ stateDir });
    seed(c, [3]);
    relay.target = c.controller.port;
    await eventually('the new endpoint set', () => keys(w.current).join() === '198.18.0.13:8080', 5_000);
    assert.ok(log.lines.some((l) => l.startsWith('info discovery stream restored')));

    // The connection breaks again; meanwhile the service is deleted. The reconnect says "no such service",
    // and the old endpoints are dropped (Linkerd: outbound_destinations_reset_on_reconnect_followed_by_dne).
    relay.target = undefined;
    relay.cut();
    c.platform.deleteService(NS, 'web');
    relay.target = c.controller.port;
    await eventually('the reset to "does not exist"', () => w.current?.exists === false, 5_000);
    assert.deepEqual(keys(w.current), []);

    // And once more, the service back (web-3 with it) and its pods gone while the connection is down:
    // "exists, empty" replaces the cache.
    c.platform.applyService({ namespace: NS, name: 'web', clusterIP: '198.19.0.10', ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'web' } });
    await eventually('the service to exist again', () => w.current?.exists === true);
    seed(c, [4]);
    await eventually('web-4', () => keys(w.current).join() === '198.18.0.13:8080,198.18.0.14:8080');
    relay.target = undefined;
    relay.cut();
    c.platform.deletePod(NS, 'web-3');
    c.platform.deletePod(NS, 'web-4');
    relay.target = c.controller.port;
    await eventually('the reset to "exists, empty"', () => w.current?.exists === true && w.current.endpoints.size === 0, 5_000);
    w.release();
  } finally {
    d.close();
    await relay.close();
    await c.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});

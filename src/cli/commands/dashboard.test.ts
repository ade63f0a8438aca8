// `fathom dashboard` without a mesh: where the dashboard is, the page of a resource, and the error when
// nothing answers.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { FathomError } from '../../lib/errors.js';
import { UsageError } from '../command.js';
import { dashboardAddrFrom, pagePath, run } from './dashboard.js';

const io = (env: Record<string, string> = {}) => ({ env, cwd: '/nonexistent' });

test('the address: flag, then FATHOM_DASHBOARD_ADDR, then the default', () => {
  assert.equal(dashboardAddrFrom({ dashboardAddr: '127.0.0.1:1234', stateDir: '/nonexistent' }, io({ FATHOM_DASHBOARD_ADDR: '127.0.0.1:9' })), '127.0.0.1:1234');
  assert.equal(dashboardAddrFrom({ dashboardAddr: undefined, stateDir: '/nonexistent' }, io({ FATHOM_DASHBOARD_ADDR: ':4321' })), '127.0.0.1:4321');
  assert.equal(dashboardAddrFrom({ dashboardAddr: undefined, stateDir: '/nonexistent' }, io()), '127.0.0.1:50750');
  assert.throws(() => dashboardAddrFrom({ dashboardAddr: 'nowhere', stateDir: '/nonexistent' }, io()), UsageError);
});

test('a resource opens its own page', () => {
  assert.equal(pagePath(undefined, 'default'), '/');
  assert.equal(pagePath('deploy/web', 'nodevoto'), '/namespaces/nodevoto/deployments/web');
  assert.equal(pagePath('po/web-1', 'nodevoto'), '/namespaces/nodevoto/pods/web-1');
  assert.equal(pagePath('ns/nodevoto', 'default'), '/namespaces/nodevoto');
  assert.equal(pagePath('deploy', 'nodevoto'), '/namespaces/nodevoto');
  assert.throws(() => pagePath('svc/web-svc', 'nodevoto'), /deployments, pods and namespaces/);
  assert.throws(() => pagePath('thing/x', 'nodevoto'), UsageError);
});

test('nothing listening: an error that says how to start it', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const out: string[] = [];
  const cio = { ...io(), stdin: process.stdin, stdout: { write: (s: string) => out.push(s) } as never, stderr: { write: () => true } as never, isTTY: false };
  await assert.rejects(
    run({ resource: undefined, namespace: undefined, dashboardAddr: `127.0.0.1:${port}`, stateDir: '/nonexistent', show: 'url' }, cio),
    (e: unknown) => e instanceof FathomError && new RegExp(`not running at 127\\.0\\.0\\.1:${port}: nothing answers .*fathom up`).test(e.message),
  );
  assert.deepEqual(out, []);
});

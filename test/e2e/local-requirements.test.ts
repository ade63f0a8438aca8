// Without root (or Linux, or CAP_NET_ADMIN) every command of the local platform says so in one line and
// exits 1, before touching anything. Run as an ordinary uid through setpriv, so it needs root to start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from '../helpers/netns.js';
import { FATHOM_BIN, sh } from './local-helpers.js';

test('platform commands refuse to run without root, in one line', needsRoot, async () => {
  const commands = [
    ['up'],
    ['down'],
    ['apply', '-f', '/dev/null'],
    ['delete', 'deploy', 'web'],
    ['get', 'pods'],
    ['logs', 'deploy/web'],
    ['exec', 'deploy/web', '--', 'true'],
    ['rollout', 'restart', 'deploy/web'],
  ];
  for (const args of commands) {
    const res = await sh('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', process.execPath, FATHOM_BIN, ...args, '--state-dir', '/nonexistent'], { env: { PATH: '/usr/bin:/bin' } });
    assert.equal(res.code, 1, `fathom ${args.join(' ')}: ${res.stderr}`);
    assert.equal(res.stderr, `fathom ${args[0]}: the local platform needs root (CAP_NET_ADMIN); run it with sudo\n`);
    assert.equal(res.stdout, '');
  }
});

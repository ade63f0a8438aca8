// Redirect rules + SO_ORIGINAL_DST end to end: a "pod" namespace with `fathom-proxy init` rules and a
// stand-in proxy (test/fixtures/orig-dst-server) running as uid 2102, wired by veth to a "peer"
// namespace. Each connection is answered with what the listener saw, so the client learns where it
// really landed and what originalDst() reported. Needs root; skipped otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createNetns, linkPair, needsRoot, waitForOutput, waitForPort, type LinkPair, type Netns } from '../helpers/netns.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LAUNCHER = `${ROOT}bin/fathom-proxy`;
const SERVER = fileURLToPath(new URL('../fixtures/orig-dst-server.js', import.meta.url));
const PROBE = fileURLToPath(new URL('../fixtures/tcp-probe.js', import.meta.url));

const PROXY_UID = 2102;
const APP_UID = 1001; // an ordinary app user: its traffic is redirected

/** What the fixture server answers: which listener got the connection and what originalDst said. */
interface Seen {
  listener: string;
  local: string;
  remote: string;
  orig: string | null;
  origError?: string;
}

async function probe(ns: Netns, host: string, port: number, uid: number): Promise<Seen> {
  const res = await ns.exec(process.execPath, [PROBE, host, String(port)], { uid });
  assert.equal(res.code, 0, `connect ${host}:${port} from ${ns.name} as uid ${uid} failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as Seen;
}

/** Starts the fixture server in `ns` as `uid`; resolves once it has printed that all listeners are bound. */
async function startServer(ns: Netns, uid: number, listeners: string[]): Promise<void> {
  const child = ns.spawn(process.execPath, [SERVER, ...listeners], { uid, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(await waitForOutput(child, /^ready /), `ready ${uid}`);
}

async function mustExec(ns: Netns, cmd: string, args: string[]): Promise<string> {
  const res = await ns.exec(cmd, args);
  assert.equal(res.code, 0, `${cmd} ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

describe('redirected connections keep their original destination', needsRoot, () => {
  let pod: Netns | undefined;
  let peer: Netns | undefined;
  let link: LinkPair;
  // Addresses nobody has: reachable only through the pod's default route, so only a redirect answers.
  const elsewhere4 = '198.18.77.7';
  let elsewhere6: string;

  before(async () => {
    pod = await createNetns('fathom-t');
    peer = await createNetns('fathom-t');
    link = await linkPair(pod, peer, undefined, { ipv6: true });
    elsewhere6 = `${link.bIp6!.split(':').slice(0, 3).join(':')}:77::7`; // another /64 of the same ULA /48
    await mustExec(pod, 'ip', ['route', 'add', 'default', 'via', link.bIp]);
    await mustExec(pod, 'ip', ['-6', 'route', 'add', 'default', 'via', link.bIp6!]);
    await mustExec(pod, process.execPath, [LAUNCHER, 'init', '--ipv6']);
    // The stand-in proxy: outbound on loopback, inbound on all addresses, admin on a skipped port.
    await startServer(pod, PROXY_UID, [
      'outbound4=127.0.0.1:4140',
      'outbound6=[::1]:4140',
      'inbound4=0.0.0.0:4143',
      'inbound6=[::]:4143',
      'admin=0.0.0.0:4191',
    ]);
    // The peer's server is awaited the other way, by connecting, as a test without a "ready" line would.
    peer.spawn(process.execPath, [SERVER, 'peer4=0.0.0.0:8080', 'peer6=[::]:8080'], { stdio: 'ignore' });
    await waitForPort(peer, link.bIp, 8080);
    await waitForPort(peer, link.bIp6!, 8080);
  });

  after(async () => {
    await pod?.destroy();
    await peer?.destroy();
  });

  test('a process spawned with uid 2102 in the namespace runs as 2102 with no capabilities', async () => {
    const res = await pod!.exec('sh', ['-c', 'id -u; id -g; id -G; grep CapEff /proc/self/status'], { uid: PROXY_UID });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(res.stdout.trim().split('\n'), ['2102', '2102', '2102', 'CapEff:\t0000000000000000']);
  });

  test('waitForPort gives up at its deadline with the connect error', async () => {
    await assert.rejects(waitForPort(peer!, link.bIp, 9, 200), /not accepting connections after 200 ms: ECONNREFUSED/);
  });

  test('outbound IPv4: an app connection to a pod IP lands on 127.0.0.1:4140 with its original destination', async () => {
    const seen = await probe(pod!, elsewhere4, 8080, APP_UID);
    assert.equal(seen.listener, 'outbound4');
    assert.equal(seen.local, '127.0.0.1:4140');
    assert.equal(seen.orig, `${elsewhere4}:8080`);

    const toPeer = await probe(pod!, link.bIp, 8080, APP_UID);
    assert.equal(toPeer.listener, 'outbound4', 'the real peer is not reached directly');
    assert.equal(toPeer.orig, `${link.bIp}:8080`);
  });

  test('outbound IPv6: lands on [::1]:4140 with its original destination', async () => {
    const seen = await probe(pod!, elsewhere6, 8080, APP_UID);
    assert.equal(seen.listener, 'outbound6');
    assert.equal(seen.local, '[::1]:4140');
    assert.equal(seen.orig, `[${elsewhere6}]:8080`);
  });

  test('inbound IPv4 and IPv6: a peer connection to the pod lands on 4143 with its original destination', async () => {
    const v4 = await probe(peer!, link.aIp, 8080, APP_UID);
    assert.equal(v4.listener, 'inbound4');
    assert.equal(v4.local, `${link.aIp}:4143`);
    assert.equal(v4.orig, `${link.aIp}:8080`);

    const v6 = await probe(peer!, link.aIp6!, 8080, APP_UID);
    assert.equal(v6.listener, 'inbound6');
    assert.equal(v6.local, `[${link.aIp6}]:4143`);
    assert.equal(v6.orig, `[${link.aIp6}]:8080`);
  });

  test('inbound to an always-skipped port (admin 4191) is not redirected', async () => {
    const seen = await probe(peer!, link.aIp, 4191, APP_UID);
    assert.equal(seen.listener, 'admin');
    // The pod's nat table makes conntrack track every connection, so a non-NATed one reports itself.
    assert.equal(seen.orig, `${link.aIp}:4191`);
  });

  test("the proxy's own connections (uid 2102) are not redirected", async () => {
    const v4 = await probe(pod!, link.bIp, 8080, PROXY_UID);
    assert.equal(v4.listener, 'peer4');
    const v6 = await probe(pod!, link.bIp6!, 8080, PROXY_UID);
    assert.equal(v6.listener, 'peer6');
    // The peer has no nat rules, so no conntrack entry: originalDst() is undefined there.
    assert.equal(v4.orig, null);
    assert.equal(v6.orig, null);
    assert.equal(v4.origError, undefined);
  });

  test('a non-NATed connection in a namespace with nat rules reports the listener’s own address', async () => {
    // Loopback is exempt from the redirect, so this reaches the listener as addressed.
    const v4 = await probe(pod!, '127.0.0.1', 4140, APP_UID);
    assert.equal(v4.listener, 'outbound4');
    assert.equal(v4.orig, v4.local);
    const v6 = await probe(pod!, '::1', 4140, APP_UID);
    assert.equal(v6.orig, v6.local);
  });
});

test(
  'a dual-stack [::] listener recovers the IPv4 original destination',
  needsRoot,
  async (t) => {
    const pod = await createNetns('fathom-t', t);
    const peer = await createNetns('fathom-t', t);
    const link = await linkPair(pod, peer);
    await mustExec(pod, process.execPath, [LAUNCHER, 'init', '--no-ipv6']);
    await startServer(pod, PROXY_UID, ['inbound=[::]:4143/dual']);
    const seen = await probe(peer, link.aIp, 8080, APP_UID);
    assert.equal(seen.listener, 'inbound');
    assert.equal(seen.orig, `${link.aIp}:8080`);
  },
);

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInitArgs, type InitOptions } from './options.js';

function ok(argv: string[]): InitOptions {
  const opts = parseInitArgs(argv);
  assert.equal(typeof opts, 'object', `expected ${argv.join(' ')} to parse, got: ${String(opts)}`);
  return opts as InitOptions;
}

test('defaults follow Linkerd: uid 2102, inbound 4143, outbound 4140, IPv6 when available', () => {
  const opts = ok([]);
  assert.equal(opts.proxyUid, 2102);
  assert.equal(opts.inboundPort, 4143);
  assert.equal(opts.outboundPort, 4140);
  assert.deepEqual([...opts.skipInboundPorts], []);
  assert.deepEqual([...opts.skipOutboundPorts], []);
  assert.equal(opts.ipv6, 'auto');
  assert.equal(opts.simulate, false);
  assert.equal(opts.remove, false);
});

test('flags are read in both --flag value and --flag=value forms', () => {
  const opts = ok(['--proxy-uid=1234', '--inbound-port', '5143', '--outbound-port=5140', '--skip-inbound-ports', '22,8000-8002',
    '--skip-outbound-ports=3306', '--simulate', '--remove', '--no-ipv6']);
  assert.equal(opts.proxyUid, 1234);
  assert.equal(opts.inboundPort, 5143);
  assert.equal(opts.outboundPort, 5140);
  assert.deepEqual([...opts.skipInboundPorts].sort(), [22, 8000, 8001, 8002]);
  assert.deepEqual([...opts.skipOutboundPorts], [3306]);
  assert.equal(opts.simulate, true);
  assert.equal(opts.remove, true);
  assert.equal(opts.ipv6, false);
  assert.equal(ok(['--ipv6']).ipv6, true);
  assert.equal(ok(['--help']).help, true);
});

test('bad flags give an error naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--bogus'], /unknown flag --bogus/],
    [['-x'], /unknown flag -x/],
    [['--proxy-uid'], /--proxy-uid needs a value/],
    [['--proxy-uid', '--simulate'], /--proxy-uid needs a value/],
    [['--proxy-uid', 'proxy'], /--proxy-uid: "proxy" is not a uid/],
    [['--proxy-uid', '4294967295'], /--proxy-uid: uid 4294967295 is out of range/],
    [['--inbound-port', '70000'], /--inbound-port: port 70000 is out of range/],
    [['--inbound-port', '0'], /--inbound-port: port 0 cannot receive/],
    [['--outbound-port', 'x'], /--outbound-port: "x" is not a port number/],
    [['--skip-inbound-ports', '22,abc'], /--skip-inbound-ports: "abc" is not a port number/],
    [['--skip-outbound-ports', '90-80'], /--skip-outbound-ports: port range "90-80" is reversed/],
    [['--simulate=yes'], /--simulate takes no value/],
    [['--ipv6', '--no-ipv6'], /--ipv6 and --no-ipv6/],
    [['extra'], /unexpected argument extra/],
  ];
  for (const [argv, message] of cases) {
    const res = parseInitArgs(argv);
    assert.equal(typeof res, 'string', `${argv.join(' ')} should be rejected`);
    assert.match(res as string, message);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRules, isJump, multiportBatches, OUTPUT_CHAIN, portRefs, REDIRECT_CHAIN, type RuleOptions } from './rules.js';
import { renderRule } from './restore.js';

const defaults: RuleOptions = { proxyUid: 2102, inboundPort: 4143, outboundPort: 4140, skipInboundPorts: [], skipOutboundPorts: [] };

test('default rules: inbound skips tap and admin, everything else goes to the proxy', () => {
  assert.deepEqual(buildRules(defaults).map(renderRule), [
    `-A ${REDIRECT_CHAIN} -p tcp -m multiport --dports 4190,4191 -m comment --comment "fathom-init/ignore-inbound-ports-4190,4191" -j RETURN`,
    `-A ${REDIRECT_CHAIN} -p tcp -m comment --comment "fathom-init/redirect-all-inbound-to-proxy-port" -j REDIRECT --to-ports 4143`,
    `-A ${OUTPUT_CHAIN} -m owner --uid-owner 2102 -m comment --comment "fathom-init/ignore-proxy-uid" -j RETURN`,
    `-A ${OUTPUT_CHAIN} -o lo -m comment --comment "fathom-init/ignore-loopback" -j RETURN`,
    `-A ${OUTPUT_CHAIN} -p tcp -m comment --comment "fathom-init/redirect-all-outbound-to-proxy-port" -j REDIRECT --to-ports 4140`,
    `-A PREROUTING -m comment --comment "fathom-init/install-prerouting-jump" -j ${REDIRECT_CHAIN}`,
    `-A OUTPUT -m comment --comment "fathom-init/install-output-jump" -j ${OUTPUT_CHAIN}`,
  ]);
});

test('uid and ports come from the options', () => {
  const rules = buildRules({ ...defaults, proxyUid: 999, inboundPort: 5143, outboundPort: 5140 });
  const args = rules.map((r) => r.args.join(' '));
  assert.ok(args.includes('-m owner --uid-owner 999 -j RETURN'));
  assert.ok(args.includes('-p tcp -j REDIRECT --to-ports 5143'));
  assert.ok(args.includes('-p tcp -j REDIRECT --to-ports 5140'));
});

test('skip lists: inbound adds to 4190,4191; outbound RETURNs come after the uid and loopback rules', () => {
  const rules = buildRules({ ...defaults, skipInboundPorts: [22, 4191, 8000, 8001, 8002], skipOutboundPorts: [3306, 25] });
  const inbound = rules.filter((r) => r.chain === REDIRECT_CHAIN);
  assert.deepEqual(inbound[0]?.args, ['-p', 'tcp', '-m', 'multiport', '--dports', '22,4190,4191,8000:8002', '-j', 'RETURN']);
  const outbound = rules.filter((r) => r.chain === OUTPUT_CHAIN).map((r) => r.comment);
  assert.deepEqual(outbound, [
    'ignore-proxy-uid',
    'ignore-loopback',
    'ignore-outbound-ports-25,3306',
    'redirect-all-outbound-to-proxy-port',
  ]);
});

test('jumps come last and are the only rules outside our chains', () => {
  const rules = buildRules(defaults);
  assert.deepEqual(rules.filter(isJump).map((r) => r.chain), ['PREROUTING', 'OUTPUT']);
  assert.ok(rules.slice(-2).every(isJump));
});

test('portRefs sorts, dedupes and folds runs of three or more into ranges', () => {
  const cases: [number[], string[]][] = [
    [[], []],
    [[80], ['80']],
    [[4191, 4190], ['4190', '4191']],
    [[3, 1, 2], ['1:3']],
    [[1, 2, 3, 5, 7, 8, 9, 10, 3], ['1:3', '5', '7:10']],
  ];
  for (const [ports, refs] of cases) assert.deepEqual(portRefs(ports), refs, `ports ${ports.join(',')}`);
});

test('multiport batches hold at most 15 port references, a range counting 2', () => {
  const singles = Array.from({ length: 20 }, (_, i) => 1000 + i * 2); // no runs: 20 singles
  assert.deepEqual(multiportBatches(singles).map((b) => b.split(',').length), [15, 5]);

  // 7 ranges (14 refs) + one single = 15: fits; one more single spills over.
  const ranges = Array.from({ length: 7 }, (_, i) => [100 * i + 10, 100 * i + 11, 100 * i + 12]).flat();
  assert.equal(multiportBatches([...ranges, 9000]).length, 1);
  assert.deepEqual(multiportBatches([...ranges, 9000, 9002]).map((b) => b.split(',').length), [8, 1]);

  // 8 ranges: the 8th would be refs 15-16, so it starts a new batch.
  const eight = Array.from({ length: 8 }, (_, i) => [100 * i + 10, 100 * i + 11, 100 * i + 12]).flat();
  assert.deepEqual(multiportBatches(eight).map((b) => b.split(',').length), [7, 1]);
  assert.deepEqual(multiportBatches([]), []);
});

test('every skip port lands in exactly one batch rule', () => {
  const ports = [...Array.from({ length: 40 }, (_, i) => 2000 + i * 3), 5000, 5001, 5002, 5003];
  const rules = buildRules({ ...defaults, skipOutboundPorts: ports });
  const batches = rules.filter((r) => r.comment.startsWith('ignore-outbound-ports-')).map((r) => r.args[5]!);
  assert.equal(batches.length, 3);
  const covered = batches.flatMap((b) =>
    b.split(',').flatMap((ref) => {
      const [lo, hi] = ref.split(':').map(Number) as [number, number | undefined];
      return Array.from({ length: (hi ?? lo) - lo + 1 }, (_, i) => lo + i);
    }),
  );
  assert.deepEqual(covered.sort((a, b) => a - b), [...ports].sort((a, b) => a - b));
});

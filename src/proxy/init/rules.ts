// The redirect rules of `fathom-proxy init`, as data: which nat-table rules send a pod's TCP through
// its proxy. Pure, so that the exact rules are unit-tested without root (reference: Linkerd's
// proxy-init, linkerd-model.md §1.2, with chain names and comments of our own).

/** The chain PREROUTING jumps to: inbound TCP → the proxy's inbound port. */
export const REDIRECT_CHAIN = 'FATHOM_PROXY_INIT_REDIRECT';
/** The chain OUTPUT jumps to: the app's outgoing TCP → the proxy's outbound port. */
export const OUTPUT_CHAIN = 'FATHOM_PROXY_INIT_OUTPUT';
/** Our chains, in the order they are created. */
export const OWN_CHAINS: readonly string[] = [REDIRECT_CHAIN, OUTPUT_CHAIN];
/** Every comment we write starts with this, so that our rules are recognisable in `iptables-save`. */
export const COMMENT_PREFIX = 'fathom-init/';

/** Tap (4190) and admin (4191) are served by the proxy itself: they are never redirected inbound. */
export const ALWAYS_SKIPPED_INBOUND_PORTS: readonly number[] = [4190, 4191];

/** The kernel's multiport match takes at most 15 port references per rule; a range `a:b` uses 2. */
export const MULTIPORT_MAX_REFS = 15;

export interface RuleOptions {
  /** The proxy's uid: its own outgoing connections are not redirected back to itself. */
  readonly proxyUid: number;
  /** Where inbound TCP is redirected (the proxy's inbound listener). */
  readonly inboundPort: number;
  /** Where outbound TCP is redirected (the proxy's outbound listener on loopback). */
  readonly outboundPort: number;
  /** Inbound destination ports left alone, in addition to ALWAYS_SKIPPED_INBOUND_PORTS. */
  readonly skipInboundPorts: Iterable<number>;
  /** Outbound destination ports left alone. */
  readonly skipOutboundPorts: Iterable<number>;
}

/** One rule in the nat table. The same rules serve iptables and ip6tables. */
export interface Rule {
  /** The chain the rule is appended to: one of ours, or PREROUTING/OUTPUT for the two jumps. */
  readonly chain: string;
  /** Matches and target as iptables arguments, without `-A <chain>` and the comment. */
  readonly args: readonly string[];
  /** Why the rule exists; written as `-m comment --comment "fathom-init/<comment>"`. */
  readonly comment: string;
}

/** True for the rules that hook our chains into the built-in ones (added only when missing). */
export function isJump(rule: Rule): boolean {
  return !OWN_CHAINS.includes(rule.chain);
}

/**
 * The rules `init` installs, in order: the inbound chain, the outbound chain, then the two jumps.
 * Order matters within a chain: RETURNs come before the catch-all REDIRECT.
 */
export function buildRules(opts: RuleOptions): Rule[] {
  const inboundSkips = new Set([...ALWAYS_SKIPPED_INBOUND_PORTS, ...opts.skipInboundPorts]);
  const rules: Rule[] = [];

  for (const batch of multiportBatches(inboundSkips)) {
    rules.push({
      chain: REDIRECT_CHAIN,
      args: ['-p', 'tcp', '-m', 'multiport', '--dports', batch, '-j', 'RETURN'],
      comment: `ignore-inbound-ports-${batch}`,
    });
  }
  rules.push({
    chain: REDIRECT_CHAIN,
    args: ['-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(opts.inboundPort)],
    comment: 'redirect-all-inbound-to-proxy-port',
  });

  rules.push({
    chain: OUTPUT_CHAIN,
    args: ['-m', 'owner', '--uid-owner', String(opts.proxyUid), '-j', 'RETURN'],
    comment: 'ignore-proxy-uid',
  });
  // Traffic to the pod itself (including the proxy forwarding to the app on 127.0.0.1) stays put.
  rules.push({ chain: OUTPUT_CHAIN, args: ['-o', 'lo', '-j', 'RETURN'], comment: 'ignore-loopback' });
  for (const batch of multiportBatches(new Set(opts.skipOutboundPorts))) {
    rules.push({
      chain: OUTPUT_CHAIN,
      args: ['-p', 'tcp', '-m', 'multiport', '--dports', batch, '-j', 'RETURN'],
      comment: `ignore-outbound-ports-${batch}`,
    });
  }
  rules.push({
    chain: OUTPUT_CHAIN,
    args: ['-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(opts.outboundPort)],
    comment: 'redirect-all-outbound-to-proxy-port',
  });

  rules.push({ chain: 'PREROUTING', args: ['-j', REDIRECT_CHAIN], comment: 'install-prerouting-jump' });
  rules.push({ chain: 'OUTPUT', args: ['-j', OUTPUT_CHAIN], comment: 'install-output-jump' });
  return rules;
}

/**
 * Port references for multiport, sorted: consecutive runs of three or more ports become a range
 * `a:b` (a run of two costs the same either way, and reads better as `a,b`).
 */
export function portRefs(ports: Iterable<number>): string[] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const refs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) {
      refs.push(`${sorted[i]}:${sorted[j]}`);
    } else {
      for (let k = i; k <= j; k++) refs.push(String(sorted[k]));
    }
    i = j + 1;
  }
  return refs;
}

/** Groups ports into comma-separated `--dports` values of at most MULTIPORT_MAX_REFS references each. */
export function multiportBatches(ports: Iterable<number>): string[] {
  const batches: string[] = [];
  let current: string[] = [];
  let cost = 0;
  for (const ref of portRefs(ports)) {
    const refCost = ref.includes(':') ? 2 : 1;
    if (cost + refCost > MULTIPORT_MAX_REFS) {
      batches.push(current.join(','));
      current = [];
      cost = 0;
    }
    current.push(ref);
    cost += refCost;
  }
  if (current.length > 0) batches.push(current.join(','));
  return batches;
}

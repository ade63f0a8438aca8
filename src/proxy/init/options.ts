// The flags of `fathom-proxy init`, parsed once into a typed object. Errors are values that name the
// flag and what was expected; the caller turns them into exit code 2.
import { parseArgs } from 'node:util';
import { parsePort, parsePortList } from '../../lib/addr.js';

export interface InitOptions {
  readonly proxyUid: number;
  readonly inboundPort: number;
  readonly outboundPort: number;
  /** As given; the always-skipped 4190 and 4191 are added by buildRules. */
  readonly skipInboundPorts: ReadonlySet<number>;
  readonly skipOutboundPorts: ReadonlySet<number>;
  /** Print what would be applied; run nothing that changes state. */
  readonly simulate: boolean;
  /** Delete our jumps and chains instead of installing them. */
  readonly remove: boolean;
  /** Program ip6tables too: yes, no, or when ip6tables is present. */
  readonly ipv6: boolean | 'auto';
  readonly help: boolean;
}

export const DEFAULT_PROXY_UID = 2102;
export const DEFAULT_INBOUND_PORT = 4143;
export const DEFAULT_OUTBOUND_PORT = 4140;

export const USAGE = `Usage: fathom-proxy init [flags]

Installs the nat-table rules that send a pod's TCP through its proxy (run inside the pod's network
namespace, as root or with CAP_NET_ADMIN): inbound TCP is redirected to the inbound port, outgoing
TCP (except the proxy's own and loopback) to the outbound port. Applying again replaces the rules.

Flags:
  --proxy-uid UID             uid the proxy runs as; its traffic is not redirected (default ${DEFAULT_PROXY_UID})
  --inbound-port PORT         proxy's inbound port (default ${DEFAULT_INBOUND_PORT})
  --outbound-port PORT        proxy's outbound port (default ${DEFAULT_OUTBOUND_PORT})
  --skip-inbound-ports LIST   inbound ports not redirected, e.g. 22,8000-8010 (4190 and 4191 always are)
  --skip-outbound-ports LIST  outbound destination ports not redirected, e.g. 25,3306
  --ipv6, --no-ipv6           also program ip6tables (default: when ip6tables is installed)
  --simulate                  print the iptables-restore input that would be applied; change nothing
  --remove                    delete the rules and chains init created (succeeds when none exist)
  --help                      show this help
`;

const MAX_UID = 4294967294; // (uid_t)-1 means "no uid" to the kernel

/** Parses `init`'s argv (without `init` itself) into options, or an error message naming the flag. */
export function parseInitArgs(argv: readonly string[]): InitOptions | string {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'proxy-uid': { type: 'string' },
        'inbound-port': { type: 'string' },
        'outbound-port': { type: 'string' },
        'skip-inbound-ports': { type: 'string' },
        'skip-outbound-ports': { type: 'string' },
        simulate: { type: 'boolean' },
        remove: { type: 'boolean' },
        ipv6: { type: 'boolean' },
        'no-ipv6': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return describeParseError(err);
  }
  const v = parsed.values;

  const proxyUid = v['proxy-uid'] === undefined ? DEFAULT_PROXY_UID : parseUid(v['proxy-uid']);
  if (typeof proxyUid === 'string') return `--proxy-uid: ${proxyUid}`;
  const inboundPort = flagPort('--inbound-port', v['inbound-port'], DEFAULT_INBOUND_PORT);
  if (typeof inboundPort === 'string') return inboundPort;
  const outboundPort = flagPort('--outbound-port', v['outbound-port'], DEFAULT_OUTBOUND_PORT);
  if (typeof outboundPort === 'string') return outboundPort;
  const skipInboundPorts = parsePortList(v['skip-inbound-ports'] ?? '');
  if (typeof skipInboundPorts === 'string') return `--skip-inbound-ports: ${skipInboundPorts}`;
  const skipOutboundPorts = parsePortList(v['skip-outbound-ports'] ?? '');
  if (typeof skipOutboundPorts === 'string') return `--skip-outbound-ports: ${skipOutboundPorts}`;
  if (v.ipv6 && v['no-ipv6']) return '--ipv6 and --no-ipv6 contradict each other: give one';

  return {
    proxyUid,
    inboundPort,
    outboundPort,
    skipInboundPorts,
    skipOutboundPorts,
    simulate: v.simulate ?? false,
    remove: v.remove ?? false,
    ipv6: v.ipv6 ? true : v['no-ipv6'] ? false : 'auto',
    help: v.help ?? false,
  };
}

function parseUid(text: string): number | string {
  if (!/^\d{1,10}$/.test(text.trim())) return `"${text}" is not a uid (a number)`;
  const uid = Number(text);
  return uid > MAX_UID ? `uid ${uid} is out of range (0-${MAX_UID})` : uid;
}

/** A listening port: 1..65535 (port 0 means "any" to the kernel, which REDIRECT cannot use). */
function flagPort(flag: string, text: string | undefined, fallback: number): number | string {
  if (text === undefined) return fallback;
  const port = parsePort(text);
  if (typeof port === 'string') return `${flag}: ${port}`;
  if (port === 0) return `${flag}: port 0 cannot receive redirected connections; give 1-65535`;
  return port;
}

/** node:util parseArgs messages are long and generic; say which flag is wrong in a few words. */
function describeParseError(err: unknown): string {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag ?? message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (!flag) return message;
      return /does not take/.test(message) ? `flag ${flag} takes no value` : `flag ${flag} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']+)'/.exec(message)?.[1] ?? message}: init takes only flags`;
    default:
      return message;
  }
}

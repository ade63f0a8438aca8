// `fathom dashboard`: where the web dashboard is (the controller serves it on 127.0.0.1:50750, or the
// port `fathom up --dashboard-port` gave it), checked to answer, printed, and opened in a browser when
// this session has a display and a way to open one. An optional resource opens its page directly.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { formatSocketAddr, parseSocketAddr } from '../../lib/addr.js';
import { fetchErrorCode, FathomError } from '../../lib/errors.js';
import { parseResource } from '../../controller/metrics-api/resources.js';
import { DEFAULT_DASHBOARD_PORT, loadConfig, stateDirFrom } from '../../platform/local/config.js';
import { STATE_DIR_HELP } from '../../platform/local/client.js';
import { defineCommand, EXIT_OK, stringFlag, UsageError, type FlagValues } from '../command.js';
import type { CommandIO } from '../io.js';

export const DASHBOARD_ADDR_ENV = 'FATHOM_DASHBOARD_ADDR';

export interface DashboardArgs {
  /** `deploy/web`, `po/web-0`, `ns/nodevoto`: open that page instead of the overview. */
  readonly resource: string | undefined;
  readonly namespace: string | undefined;
  readonly dashboardAddr: string | undefined;
  readonly stateDir: string | undefined;
  /** `url` prints the address only; `browser` also opens it where possible. */
  readonly show: 'url' | 'browser';
}

/** The dashboard's address: the flag, else FATHOM_DASHBOARD_ADDR, else the local platform's, else the default. */
export function dashboardAddrFrom(args: Pick<DashboardArgs, 'dashboardAddr' | 'stateDir'>, io: Pick<CommandIO, 'env' | 'cwd'>): string {
  let text = args.dashboardAddr ?? io.env[DASHBOARD_ADDR_ENV];
  if (text === undefined) {
    const local = loadConfig(stateDirFrom(args.stateDir, io.env, io.cwd));
    text = `127.0.0.1:${local?.dashboardPort ?? DEFAULT_DASHBOARD_PORT}`;
  }
  const addr = parseSocketAddr(text, '127.0.0.1');
  if (typeof addr === 'string') throw new UsageError(`${args.dashboardAddr !== undefined ? '--dashboard-addr' : DASHBOARD_ADDR_ENV}: ${addr}`);
  return formatSocketAddr(addr.host, addr.port);
}

/** The page of a resource, as the front end routes it (web/src/routes.ts). */
export function pagePath(resource: string | undefined, namespace: string): string {
  if (resource === undefined) return '/';
  const ref = parseResource(resource);
  if (typeof ref === 'string') throw new UsageError(ref);
  const enc = encodeURIComponent;
  if (ref.kind === 'namespace') return ref.name === undefined ? '/' : `/namespaces/${enc(ref.name)}`;
  if (ref.name === undefined) return `/namespaces/${enc(namespace)}`;
  if (ref.kind === 'deployment') return `/namespaces/${enc(namespace)}/deployments/${enc(ref.name)}`;
  if (ref.kind === 'pod') return `/namespaces/${enc(namespace)}/pods/${enc(ref.name)}`;
  throw new UsageError(`the dashboard has pages for deployments, pods and namespaces, not for a ${ref.kind}`);
}

export async function run(args: DashboardArgs, io: CommandIO): Promise<number> {
  const addr = dashboardAddrFrom(args, io);
  const url = `http://${addr}${pagePath(args.resource, args.namespace ?? 'default')}`;
  try {
    const res = await fetch(`http://${addr}/api/v1/version`, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    if (!res.ok) throw new FathomError('EDASHBOARD', `something other than Fathom's dashboard answers at ${addr} (status ${res.status})`);
  } catch (err) {
    if (err instanceof FathomError) throw err;
    const code = fetchErrorCode(err);
    const why = code === 'ECONNREFUSED' ? 'nothing answers' : code === 'TimeoutError' ? 'it did not answer within 5s' : `it cannot be reached (${code})`;
    throw new FathomError('EDASHBOARD', `the dashboard is not running at ${addr}: ${why} (start it with 'fathom up', or give its address with --dashboard-addr or ${DASHBOARD_ADDR_ENV})`);
  }
  io.stdout.write(`Fathom dashboard available at:\n${url}\n`);
  if (args.show === 'browser') {
    const opener = browserOpener(io.env);
    if (opener) {
      const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
      child.on('error', () => {});
      child.unref();
      io.stdout.write(`Opening it in your browser (${opener}).\n`);
    } else {
      io.stdout.write('No display here to open a browser on: open the address above in yours (over ssh: ssh -L 50750:127.0.0.1:50750 this-host).\n');
    }
  }
  return EXIT_OK;
}

/** `xdg-open` (or `$BROWSER`) when there is a graphical session to open a page in. */
function browserOpener(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env['BROWSER']) return env['BROWSER'];
  if (!env['DISPLAY'] && !env['WAYLAND_DISPLAY']) return undefined;
  return ['/usr/bin/xdg-open', '/usr/local/bin/xdg-open'].find((p) => existsSync(p));
}

function bind(operands: readonly string[], flags: FlagValues): DashboardArgs {
  const show = stringFlag(flags, 'show') ?? 'browser';
  if (show !== 'url' && show !== 'browser') throw new UsageError(`invalid --show "${show}": expected url or browser`);
  return {
    resource: operands[0],
    namespace: stringFlag(flags, 'namespace'),
    dashboardAddr: stringFlag(flags, 'dashboardAddr'),
    stateDir: stringFlag(flags, 'stateDir'),
    show,
  };
}

export const command = defineCommand<DashboardArgs>({
  name: 'dashboard',
  description:
    "Print the web dashboard's address and open it in a browser where this session has one. The controller serves " +
    'it on 127.0.0.1 (port 50750 unless `fathom up --dashboard-port` said otherwise). Give a resource to open its page.',
  examples: ['fathom dashboard', 'fathom dashboard deploy/web -n nodevoto', 'fathom dashboard --show url'],
  operands: [{ name: 'resource', description: 'deploy/NAME, po/NAME or ns/NAME', optional: true }],
  options: [
    { flags: '-n, --namespace <ns>', description: 'namespace of the resource (default: default)' },
    { flags: '--show <url|browser>', description: 'url: print the address only; browser: also open it (default)' },
    { flags: '--dashboard-addr <host:port>', description: `the dashboard's address (default: $${DASHBOARD_ADDR_ENV}, else the local platform's, else 127.0.0.1:50750)` },
    { flags: '--state-dir <dir>', description: STATE_DIR_HELP },
  ],
  bind,
  run,
});

// How the CLI reaches the control plane's metrics API: its address (the --api-addr flag, else
// FATHOM_API_ADDR, else the port that `fathom up` saved for the local platform of --state-dir, else
// 127.0.0.1:8085, where the controller listens by default) and GET calls that turn every failure into
// one line a user can act on.
import { formatSocketAddr, parseSocketAddr } from '../lib/addr.js';
import { errorCode, fetchErrorCode, FathomError } from '../lib/errors.js';
import type { ApiErrorBody } from '../controller/metrics-api/types.js';
import { loadConfig, stateDirFrom } from '../platform/local/config.js';
import { UsageError, type OptionSpec } from './command.js';
import type { CommandIO } from './io.js';

export const DEFAULT_API_ADDR = '127.0.0.1:8085';
export const API_ADDR_ENV = 'FATHOM_API_ADDR';

/** The flags every command that calls the API takes. */
export const API_OPTIONS: readonly OptionSpec[] = [
  {
    flags: '--api-addr <host:port>',
    description: `the control plane's metrics API (default: $${API_ADDR_ENV}, else the local platform's, else ${DEFAULT_API_ADDR})`,
  },
  { flags: '--state-dir <dir>', description: 'state directory of the local platform whose API to use (default: $FATHOM_STATE_DIR or /var/lib/fathom)' },
];

/** Where the API is, as the user said it (flags not given are undefined). */
export interface ApiFlags {
  readonly apiAddr: string | undefined;
  readonly stateDir: string | undefined;
}

/** The API's address from the flag, the environment, the local platform or the default; a bad value is a usage error. */
export function apiAddrFrom(flags: ApiFlags, io: Pick<CommandIO, 'env' | 'cwd'>): string {
  let text = flags.apiAddr ?? io.env[API_ADDR_ENV];
  if (text === undefined) {
    // `fathom up` saves the port it gave the controller's API (a separate instance may use another).
    const local = loadConfig(stateDirFrom(flags.stateDir, io.env, io.cwd));
    text = local?.apiPort !== undefined ? `127.0.0.1:${local.apiPort}` : DEFAULT_API_ADDR;
  }
  const addr = parseSocketAddr(text, '127.0.0.1');
  if (typeof addr === 'string') throw new UsageError(`${flags.apiAddr !== undefined ? '--api-addr' : API_ADDR_ENV}: ${addr}`);
  return formatSocketAddr(addr.host, addr.port);
}

export type Params = Readonly<Record<string, string | number | boolean | undefined>>;

/** Metrics queries over a long window can take Prometheus a while; beyond this something is wrong. */
const TIMEOUT_MS = 30_000;

export class ApiClient {
  /** A client for the address the flags, the environment or the local platform give. */
  static for(flags: ApiFlags, io: CommandIO): ApiClient {
    return new ApiClient(apiAddrFrom(flags, io));
  }

  constructor(
    readonly addr: string,
    private readonly timeoutMs = TIMEOUT_MS,
  ) {}

  /** GETs `path` with `params` (undefined and false values left out) and returns the JSON body. */
  async get<T>(path: string, params: Params = {}): Promise<T> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== false) query.set(k, String(v));
    const url = `http://${this.addr}${path}${query.size > 0 ? `?${query}` : ''}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw this.unreachable(err);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new FathomError('EAPI', `the metrics API at ${this.addr} answered ${res.status} with something other than JSON: is --api-addr the control plane's?`);
    }
    if (!res.ok) {
      const error = (body as Partial<ApiErrorBody>).error;
      throw new FathomError(error?.code ?? 'EAPI', error?.message ?? `the metrics API answered ${res.status}`);
    }
    return body as T;
  }

  private unreachable(err: unknown): FathomError {
    const cause = (err as { cause?: unknown }).cause ?? err;
    const code = fetchErrorCode(err);
    if (code === 'ECONNREFUSED') {
      return new FathomError(
        'ENOCONTROLPLANE',
        `the control plane is not running: nothing answers at ${this.addr} (start it with 'fathom up', or give its address with --api-addr or ${API_ADDR_ENV})`,
        { cause: err },
      );
    }
    // fetch hides the errno in `cause`; without one (fetch refuses some ports outright) its message says why.
    const why = code === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000}s` : (errorCode(cause) ?? (cause as Error).message);
    return new FathomError('ENOCONTROLPLANE', `cannot reach the control plane's metrics API at ${this.addr}: ${why}`, { cause: err });
  }
}

// Query parameters of the metrics API's endpoints, parsed into typed requests; a bad parameter is a
// FathomError (EBADREQUEST) that names the parameter and what it expects.
import { FathomError } from '../../lib/errors.js';
import { checkDnsLabel } from '../../lib/identity-name.js';
import type { EdgesRequest } from './edges.js';
import { DEFAULT_WINDOW, parseWindow, type Window } from './promql.js';
import { parseResource, type ResourceRef } from './resources.js';
import type { RoutesRequest } from './routes.js';
import { DEFAULT_RANGE, parseRange, type SeriesRequest } from './series.js';
import type { ScopedRef, StatRequest } from './stat.js';

export const DEFAULT_NAMESPACE = 'default';

const bad = (message: string) => new FathomError('EBADREQUEST', message);

function resource(params: URLSearchParams, name: string, required: true): ResourceRef;
function resource(params: URLSearchParams, name: string, required: false): ResourceRef | undefined;
function resource(params: URLSearchParams, name: string, required: boolean): ResourceRef | undefined {
  const text = params.get(name);
  if (text === null || text === '') {
    if (required) throw bad(`missing parameter "${name}": a resource such as deploy, deploy/web or svc/web-svc`);
    return undefined;
  }
  const ref = parseResource(text);
  if (typeof ref === 'string') throw bad(`parameter "${name}": ${ref}`);
  return ref;
}

function namespace(params: URLSearchParams, name: string, fallback: string): string {
  const value = params.get(name) || fallback;
  const problem = checkDnsLabel(value, 'namespace');
  if (problem) throw bad(`parameter "${name}": ${problem}`);
  return value;
}

function flag(params: URLSearchParams, name: string): boolean {
  const value = params.get(name);
  if (value === null || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw bad(`parameter "${name}": expected true or false, got "${value}"`);
}

function window(params: URLSearchParams): Window {
  const w = parseWindow(params.get('window') || DEFAULT_WINDOW);
  if (typeof w === 'string') throw bad(`parameter "window": ${w}`);
  return w;
}

function scoped(params: URLSearchParams, name: 'from' | 'to', ns: string): ScopedRef | undefined {
  const ref = resource(params, name, false);
  return ref && { ref, namespace: namespace(params, `${name}-namespace`, ns) };
}

/** `resource`, `namespace`, `all-namespaces`, `from`, `from-namespace`, `to`, `to-namespace`, `window`. */
export function statRequest(params: URLSearchParams): StatRequest {
  const ns = namespace(params, 'namespace', DEFAULT_NAMESPACE);
  return {
    resource: resource(params, 'resource', true),
    namespace: ns,
    allNamespaces: flag(params, 'all-namespaces'),
    from: scoped(params, 'from', ns),
    to: scoped(params, 'to', ns),
    window: window(params),
  };
}

/** `resource`, `namespace`, `to`, `to-namespace`, `window`. */
export function routesRequest(params: URLSearchParams, clusterDomain: string): RoutesRequest {
  const ns = namespace(params, 'namespace', DEFAULT_NAMESPACE);
  return { resource: resource(params, 'resource', true), namespace: ns, to: scoped(params, 'to', ns), window: window(params), clusterDomain };
}

/** `resource` (deploy or pod), `namespace`, `all-namespaces`. */
export function edgesRequest(params: URLSearchParams): EdgesRequest {
  const ref = resource(params, 'resource', true);
  if (ref.kind !== 'deployment' && ref.kind !== 'pod') throw bad(`parameter "resource": edges are between deployments or pods (got ${ref.kind})`);
  if (ref.name !== undefined) throw bad('parameter "resource": edges take a kind (deploy or pod), not one resource');
  return { kind: ref.kind, namespace: namespace(params, 'namespace', DEFAULT_NAMESPACE), allNamespaces: flag(params, 'all-namespaces') };
}

/** `proxy`, and what the CLI says of itself: `client-version`, `client-time` (ms since the epoch). */
export function checksRequest(params: URLSearchParams): { proxy: boolean; client: { version?: string; timeMs?: number } } {
  const time = params.get('client-time');
  if (time !== null && !/^\d+$/.test(time)) throw bad(`parameter "client-time": expected milliseconds since the epoch, got "${time}"`);
  const version = params.get('client-version');
  return {
    proxy: flag(params, 'proxy'),
    client: { ...(version ? { version } : {}), ...(time !== null ? { timeMs: Number(time) } : {}) },
  };
}

/** `resource` (deploy/NAME, pod/NAME or ns/NAME), `namespace`, `range` (1m to 6h, default 15m). */
export function seriesRequest(params: URLSearchParams): SeriesRequest {
  const range = parseRange(params.get('range') || DEFAULT_RANGE);
  if (typeof range === 'string') throw bad(`parameter "range": ${range}`);
  return { resource: resource(params, 'resource', true), namespace: namespace(params, 'namespace', DEFAULT_NAMESPACE), rangeSeconds: range };
}

/** `namespace`, `all-namespaces`. */
export function podsRequest(params: URLSearchParams): { namespace: string; allNamespaces: boolean } {
  return { namespace: namespace(params, 'namespace', DEFAULT_NAMESPACE), allNamespaces: flag(params, 'all-namespaces') };
}

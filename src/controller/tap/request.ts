// The tap API's query parameters, parsed into a typed request (a bad one is EBADREQUEST naming it), and
// the Tap.Observe Match they stand for: `--to` as destination labels, the HTTP filters as HTTP matches.
import { HttpMethod_Registered, Scheme_Registered, type HttpMethod } from '../../api/gen/fathom/http_types.js';
import type { ObserveRequest_Match as Match } from '../../api/gen/fathom/tap.js';
import { FathomError } from '../../lib/errors.js';
import { checkDnsLabel } from '../../lib/identity-name.js';
import { DEFAULT_NAMESPACE } from '../metrics-api/request.js';
import { parseResource, type ResourceRef } from '../metrics-api/resources.js';

/** Linkerd's default (`--max-rps`): requests per second over all tapped pods together. */
export const DEFAULT_MAX_RPS = 100;

export interface TapRequestParams {
  readonly resource: ResourceRef;
  readonly namespace: string;
  readonly to: { readonly ref: ResourceRef & { readonly name: string }; readonly namespace: string } | undefined;
  readonly method: string | undefined;
  /** A path prefix. */
  readonly path: string | undefined;
  /** An exact authority. */
  readonly authority: string | undefined;
  readonly scheme: string | undefined;
  readonly maxRps: number;
}

const bad = (message: string) => new FathomError('EBADREQUEST', message);

function text(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  return value === null || value === '' ? undefined : value;
}

function namespaceParam(params: URLSearchParams, name: string, fallback: string): string {
  const value = text(params, name) ?? fallback;
  const problem = checkDnsLabel(value, 'namespace');
  if (problem) throw bad(`parameter "${name}": ${problem}`);
  return value;
}

function resourceParam(params: URLSearchParams, name: string): ResourceRef | undefined {
  const value = text(params, name);
  if (value === undefined) return undefined;
  const ref = parseResource(value);
  if (typeof ref === 'string') throw bad(`parameter "${name}": ${ref}`);
  if (ref.kind === 'authority') throw bad(`parameter "${name}": tap selects pods, so deploy, pod, ns or svc, not an authority (use "authority" to filter by it)`);
  return ref;
}

/** `resource` (required), `namespace`, `to`, `to-namespace`, `method`, `path`, `authority`, `scheme`, `max-rps`. */
export function tapRequest(params: URLSearchParams): TapRequestParams {
  const resource = resourceParam(params, 'resource');
  if (!resource) throw bad('missing parameter "resource": the pods to tap, such as deploy/web, pod/web-1, ns/nodevoto or svc/web-svc');
  if (resource.kind === 'service' && resource.name === undefined) throw bad('parameter "resource": a service to tap must be named (svc/NAME)');
  const namespace = namespaceParam(params, 'namespace', DEFAULT_NAMESPACE);
  const toRef = resourceParam(params, 'to');
  if (toRef && toRef.name === undefined) throw bad('parameter "to": name the destination, e.g. deploy/voting');
  const method = text(params, 'method');
  if (method !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method)) throw bad(`parameter "method": "${method}" is not an HTTP method`);
  const path = text(params, 'path');
  if (path !== undefined && !path.startsWith('/')) throw bad(`parameter "path": a path prefix starts with "/", got "${path}"`);
  const scheme = text(params, 'scheme')?.toLowerCase();
  const rpsText = text(params, 'max-rps');
  const maxRps = rpsText === undefined ? DEFAULT_MAX_RPS : Number(rpsText);
  if (!Number.isFinite(maxRps) || maxRps <= 0) throw bad(`parameter "max-rps": expected a positive number of requests per second, got "${rpsText}"`);
  return {
    resource,
    namespace,
    to: toRef && { ref: toRef as ResourceRef & { name: string }, namespace: namespaceParam(params, 'to-namespace', namespace) },
    method,
    path,
    authority: text(params, 'authority'),
    scheme,
    maxRps,
  };
}

/** The label a destination's proxy reports for a kind (Linkerd's tap uses the same, unprefixed). */
const DESTINATION_LABEL = { deployment: 'deployment', pod: 'pod', namespace: 'namespace', service: 'service' } as const;

/** The Match of the request's filters; undefined (everything) when there are none. */
export function buildMatch(req: TapRequestParams): Match | undefined {
  const parts: Match[] = [];
  if (req.to) {
    const kind = req.to.ref.kind as keyof typeof DESTINATION_LABEL;
    parts.push(labelMatch(DESTINATION_LABEL[kind], req.to.ref.name));
    if (kind !== 'namespace') parts.push(labelMatch('namespace', req.to.namespace));
  }
  if (req.method !== undefined) parts.push({ match: { $case: 'http', value: { match: { $case: 'method', value: methodToProto(req.method) } } } });
  if (req.path !== undefined) parts.push({ match: { $case: 'http', value: { match: { $case: 'path', value: { match: { $case: 'prefix', value: req.path } } } } } });
  if (req.authority !== undefined) parts.push({ match: { $case: 'http', value: { match: { $case: 'authority', value: { match: { $case: 'exact', value: req.authority } } } } } });
  if (req.scheme !== undefined) {
    const registered = req.scheme === 'http' ? Scheme_Registered.HTTP : req.scheme === 'https' ? Scheme_Registered.HTTPS : undefined;
    const scheme = registered === undefined ? { $case: 'unregistered' as const, value: req.scheme } : { $case: 'registered' as const, value: registered };
    parts.push({ match: { $case: 'http', value: { match: { $case: 'scheme', value: { type: scheme } } } } });
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { match: { $case: 'all', value: { matches: parts } } };
}

function labelMatch(key: string, value: string): Match {
  return { match: { $case: 'destinationLabel', value: { key, value } } };
}

function methodToProto(method: string): HttpMethod {
  const upper = method.toUpperCase();
  const registered = (HttpMethod_Registered as unknown as Record<string, number>)[upper];
  // Registered methods are matched by name whatever case the user typed; others exactly as given.
  return { type: registered !== undefined && registered >= 0 ? { $case: 'registered', value: registered } : { $case: 'unregistered', value: method } };
}

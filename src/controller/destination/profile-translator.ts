// Translates a stored ServiceProfile (Kubernetes field names) into the DestinationProfile message:
// routes with their request and response conditions, the retry budget and traffic-split overrides.
// A route that cannot be translated is left out and reported, so one bad route does not hide the others.
import { parseDuration } from '../../lib/duration.js';
import type { Duration } from '../../api/gen/google/protobuf/duration.js';
import { HttpMethod_Registered, type HttpMethod } from '../../api/gen/fathom/http_types.js';
import type { RequestMatch, ResponseMatch, RetryBudget, Route, WeightedDst } from '../../api/gen/fathom/destination.js';
import type { RequestMatchSpec, ResponseMatchSpec, RouteSpec, ServiceProfileSpec, WeightedDstSpec } from '../../platform/platform.js';

/** Linkerd's budget when a service has no profile or its profile sets none: 20 % extra, 10/s floor, 10 s window. */
export const DEFAULT_RETRY_BUDGET: RetryBudget = { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: { seconds: 10n, nanos: 0 } };

export function durationFromMs(ms: number): Duration {
  const whole = Math.floor(ms / 1000);
  return { seconds: BigInt(whole), nanos: Math.round((ms - whole * 1000) * 1e6) };
}

const REGISTERED_METHODS: Record<string, HttpMethod_Registered> = {
  GET: HttpMethod_Registered.GET,
  POST: HttpMethod_Registered.POST,
  PUT: HttpMethod_Registered.PUT,
  DELETE: HttpMethod_Registered.DELETE,
  PATCH: HttpMethod_Registered.PATCH,
  OPTIONS: HttpMethod_Registered.OPTIONS,
  CONNECT: HttpMethod_Registered.CONNECT,
  HEAD: HttpMethod_Registered.HEAD,
  TRACE: HttpMethod_Registered.TRACE,
};

export function toHttpMethod(method: string): HttpMethod {
  const registered = REGISTERED_METHODS[method.toUpperCase()];
  return registered !== undefined ? { type: { $case: 'registered', value: registered } } : { type: { $case: 'unregistered', value: method } };
}

/** Several fields in one match all have to hold, so they are wrapped in `all`. */
export function toRequestMatch(spec: RequestMatchSpec): RequestMatch {
  const parts: RequestMatch[] = [];
  if (spec.pathRegex !== undefined) {
    new RegExp(spec.pathRegex); // refuse what cannot compile here rather than in every proxy
    parts.push({ match: { $case: 'path', value: { regex: spec.pathRegex } } });
  }
  if (spec.method !== undefined) parts.push({ match: { $case: 'method', value: toHttpMethod(spec.method) } });
  if (spec.all) parts.push({ match: { $case: 'all', value: { matches: spec.all.map(toRequestMatch) } } });
  if (spec.any) parts.push({ match: { $case: 'any', value: { matches: spec.any.map(toRequestMatch) } } });
  if (spec.not) parts.push({ match: { $case: 'not', value: toRequestMatch(spec.not) } });
  if (parts.length === 0) throw new Error('a request condition needs at least one of pathRegex, method, all, any, not');
  return parts.length === 1 ? parts[0]! : { match: { $case: 'all', value: { matches: parts } } };
}

export function toResponseMatch(spec: ResponseMatchSpec): ResponseMatch {
  const parts: ResponseMatch[] = [];
  if (spec.status) {
    const min = spec.status.min ?? spec.status.max ?? 0;
    const max = spec.status.max ?? min;
    if (min < 100 || max > 599 || max < min) throw new Error(`status range ${min}-${max} is not within 100-599 in order`);
    parts.push({ match: { $case: 'status', value: { min, max } } });
  }
  if (spec.all) parts.push({ match: { $case: 'all', value: { matches: spec.all.map(toResponseMatch) } } });
  if (spec.any) parts.push({ match: { $case: 'any', value: { matches: spec.any.map(toResponseMatch) } } });
  if (spec.not) parts.push({ match: { $case: 'not', value: toResponseMatch(spec.not) } });
  if (parts.length === 0) throw new Error('a response condition needs at least one of status, all, any, not');
  return parts.length === 1 ? parts[0]! : { match: { $case: 'all', value: { matches: parts } } };
}

export function toRoute(spec: RouteSpec): Route {
  if (!spec.name) throw new Error('a route needs a name');
  if (!spec.condition) throw new Error(`route "${spec.name}" needs a condition`);
  let timeout: Duration | undefined;
  if (spec.timeout !== undefined) {
    const ms = parseDuration(spec.timeout);
    if (typeof ms === 'string') throw new Error(`timeout ${ms}`);
    timeout = durationFromMs(ms);
  }
  return {
    condition: toRequestMatch(spec.condition),
    responseClasses: (spec.responseClasses ?? []).map((c) => ({ condition: toResponseMatch(c.condition), isFailure: c.isFailure ?? false })),
    metricsLabels: { route: spec.name },
    isRetryable: spec.isRetryable ?? false,
    timeout,
  };
}

/** A Kubernetes quantity as a weight in ten-thousandths: `1` → 10000, `500m` → 5000. */
export function weightFromQuantity(weight: string | number): number {
  const text = String(weight).trim();
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(text);
  if (!m) throw new Error(`weight "${text}" is not a quantity (examples: 1, 500m)`);
  const value = Number(m[1]) / (m[2] === 'm' ? 1000 : 1);
  return Math.round(value * 10_000);
}

export function toWeightedDst(spec: WeightedDstSpec, port: number): WeightedDst {
  const authority = /:\d+$/.test(spec.authority) ? spec.authority : `${spec.authority}:${port}`;
  return { authority, weight: weightFromQuantity(spec.weight), backendRef: undefined };
}

export interface TranslatedProfile {
  routes: Route[];
  retryBudget: RetryBudget;
  dstOverrides: WeightedDst[];
  /** One message per part of the spec that was left out. */
  problems: string[];
}

/** Translates what it can of `spec` for a lookup on `port`; an absent spec gives the defaults. */
export function translateProfile(spec: ServiceProfileSpec | undefined, port: number): TranslatedProfile {
  const problems: string[] = [];
  const routes: Route[] = [];
  for (const [i, route] of (spec?.routes ?? []).entries()) {
    try {
      routes.push(toRoute(route));
    } catch (err) {
      problems.push(`route ${i} (${route?.name ?? 'unnamed'}): ${(err as Error).message}`);
    }
  }
  let retryBudget = DEFAULT_RETRY_BUDGET;
  const budget = spec?.retryBudget;
  if (budget) {
    const ttl = parseDuration(budget.ttl ?? '');
    if (typeof ttl === 'string') problems.push(`retryBudget.ttl: ${ttl}`);
    else retryBudget = { retryRatio: budget.retryRatio ?? 0, minRetriesPerSecond: budget.minRetriesPerSecond ?? 0, ttl: durationFromMs(ttl) };
  }
  const dstOverrides: WeightedDst[] = [];
  for (const dst of spec?.dstOverrides ?? []) {
    try {
      dstOverrides.push(toWeightedDst(dst, port));
    } catch (err) {
      problems.push(`dstOverrides ${dst.authority}: ${(err as Error).message}`);
    }
  }
  return { routes, retryBudget, dstOverrides, problems };
}

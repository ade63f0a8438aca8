// Resource references as users write them (`deploy/web`, `po`, `svc/web-svc`, `ns`), parsed into a kind and
// an optional name, and the Prometheus label each kind is found under.
import type { ResourceKind } from './types.js';

/** A kind of resource and, when given, one resource of it in `namespace`. */
export interface ResourceRef {
  readonly kind: ResourceKind;
  readonly name: string | undefined;
}

/** Every spelling kubectl and linkerd accept, mapped to the kind. */
const ALIASES: Readonly<Record<string, ResourceKind>> = {
  deploy: 'deployment',
  deployment: 'deployment',
  deployments: 'deployment',
  po: 'pod',
  pod: 'pod',
  pods: 'pod',
  ns: 'namespace',
  namespace: 'namespace',
  namespaces: 'namespace',
  svc: 'service',
  service: 'service',
  services: 'service',
  au: 'authority',
  authority: 'authority',
  authorities: 'authority',
};

export const KIND_SPELLINGS = 'deploy, pod, ns, svc or authority';

/** Parses `kind` or `kind/name`. Errors are values: a message naming the input and what was expected. */
export function parseResource(text: string): ResourceRef | string {
  const at = text.indexOf('/');
  const kindText = (at < 0 ? text : text.slice(0, at)).trim().toLowerCase();
  const name = at < 0 ? undefined : text.slice(at + 1).trim();
  const kind = ALIASES[kindText];
  if (!kind) return `"${text}" is not a resource: expected ${KIND_SPELLINGS}, optionally followed by /NAME`;
  if (name === '') return `"${text}" has an empty name after /`;
  if (name !== undefined && name.includes('/')) return `"${text}" is not a resource: expected KIND/NAME with one /`;
  return { kind, name };
}

/**
 * The label a proxy's metrics carry for a kind: Prometheus's target labels for the pod the proxy runs in
 * (`namespace`, `pod`, `deployment`), the request's `authority`, or for services the `service` endpoint
 * label, which only outbound metrics have (as `dst_service`).
 */
export function kindLabel(kind: ResourceKind): string {
  return kind;
}

/** The label of a kind on the far side of an outbound request: `dst_deployment`, `dst_namespace`... */
export function dstLabel(kind: ResourceKind): string {
  return `dst_${kindLabel(kind)}`;
}

/** `deploy/web`-like display of a reference, for messages. */
export function formatResource(ref: ResourceRef): string {
  return ref.name === undefined ? ref.kind : `${ref.kind}/${ref.name}`;
}

// Names a workload's TLS identity the way Linkerd does (model §3), shared by the identity CA and the proxy.

/** The parts of `<sa>.<ns>.serviceaccount.identity.<controlNs>.<trustDomain>`. */
export interface IdentityParts {
  readonly serviceAccount: string;
  readonly namespace: string;
  readonly controlNamespace: string;
  readonly trustDomain: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_LABEL = 63;
const MAX_NAME = 253; // a DNS name's limit; the whole identity must stay a valid DNS SAN

/** Builds the identity name, e.g. `web.nodevoto.serviceaccount.identity.fathom.cluster.local`. No validation: see `parseIdentityName`. */
export function identityName(serviceAccount: string, namespace: string, trustDomain: string, controlNamespace = 'fathom'): string {
  return `${serviceAccount}.${namespace}.serviceaccount.identity.${controlNamespace}.${trustDomain}`;
}

/** An error message when `label` is not a DNS-1123 label (what Kubernetes requires of names), else undefined. */
export function checkDnsLabel(label: string, what: string): string | undefined {
  if (label.length === 0) return `${what} is empty`;
  if (label.length > MAX_LABEL) return `${what} "${label}" is longer than ${MAX_LABEL} characters`;
  if (!DNS1123_LABEL.test(label)) {
    return `${what} "${label}" is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** An error message when `domain` is not a DNS-1123 subdomain (dot-separated labels), else undefined. */
export function checkTrustDomain(domain: string): string | undefined {
  if (domain.length === 0) return 'trust domain is empty';
  if (domain.length > MAX_NAME) return `trust domain "${domain}" is longer than ${MAX_NAME} characters`;
  for (const label of domain.split('.')) {
    const err = checkDnsLabel(label, `trust domain "${domain}": label`);
    if (err) return err;
  }
  return undefined;
}

/** Validates the parts and builds the name; errors are values (a message naming the bad part). */
export function buildIdentityName(parts: IdentityParts): string | Error {
  const err =
    checkDnsLabel(parts.serviceAccount, 'service account') ??
    checkDnsLabel(parts.namespace, 'namespace') ??
    checkDnsLabel(parts.controlNamespace, 'control-plane namespace') ??
    checkTrustDomain(parts.trustDomain);
  if (err) return new Error(err);
  const name = identityName(parts.serviceAccount, parts.namespace, parts.trustDomain, parts.controlNamespace);
  if (name.length > MAX_NAME) return new Error(`identity "${name}" is longer than ${MAX_NAME} characters`);
  return name;
}

/**
 * Parses `<sa>.<ns>.serviceaccount.identity.<controlNs>.<trustDomain>`. Errors are values: an `Error` whose
 * message names the input and what was expected. The trust domain may have several labels (`cluster.local`).
 */
export function parseIdentityName(name: string): IdentityParts | Error {
  const bad = (why: string) => new Error(`"${name}" is not a Fathom identity name: ${why}`);
  if (name.length > MAX_NAME) return bad(`longer than ${MAX_NAME} characters`);
  const labels = name.split('.');
  if (labels.length < 6) return bad('expected <serviceaccount>.<namespace>.serviceaccount.identity.<control-namespace>.<trust-domain>');
  const [serviceAccount, namespace, kind, identity, controlNamespace] = labels as [string, string, string, string, string];
  if (kind !== 'serviceaccount' || identity !== 'identity') {
    return bad(`expected ".serviceaccount.identity." after the namespace, found ".${kind}.${identity}."`);
  }
  const trustDomain = labels.slice(5).join('.');
  const err =
    checkDnsLabel(serviceAccount, 'service account') ??
    checkDnsLabel(namespace, 'namespace') ??
    checkDnsLabel(controlNamespace, 'control-plane namespace') ??
    checkTrustDomain(trustDomain);
  if (err) return bad(err);
  return { serviceAccount, namespace, controlNamespace, trustDomain };
}

// The annotations that put a workload's pods in the mesh, and the edits `inject` and `uninject` make
// to a pod template's annotations in a parsed YAML document.
import { isMap, isScalar, Scalar, type Document, type Pair, type YAMLMap } from 'yaml';
import { isLogLevel } from '../lib/log.js';
import { hasContainer, scalarAt, type Workload } from './workloads.js';

/** Linkerd's `linkerd.io/inject`: `enabled` meshes the pods, `disabled` opts them out explicitly. */
export const INJECT_ANNOTATION = 'fathom.io/inject';
export const PROXY_CONTAINER = 'fathom-proxy';

/** Proxy settings a workload can carry, like Linkerd's `config.linkerd.io/*` (docs/cli.md). */
export const PROXY_CONFIG_ANNOTATIONS = {
  proxyLogLevel: 'config.fathom.io/proxy-log-level',
  opaquePorts: 'config.fathom.io/opaque-ports',
  skipInboundPorts: 'config.fathom.io/skip-inbound-ports',
  skipOutboundPorts: 'config.fathom.io/skip-outbound-ports',
} as const;

export type ProxyConfigField = keyof typeof PROXY_CONFIG_ANNOTATIONS;
export type ProxyConfig = { readonly [F in ProxyConfigField]?: string };

export type EditOutcome = { readonly result: 'injected' | 'uninjected' } | { readonly result: 'skipped'; readonly reason: string };

/** Why a proxy config value is invalid, or undefined when it is fine. */
export function proxyConfigError(field: ProxyConfigField, value: string): string | undefined {
  if (field === 'proxyLogLevel') return isLogLevel(value) ? undefined : `"${value}" is not one of error, warn, info, debug, trace`;
  // Opaque ports may name container ports, as the platform resolves them; skip ports are numbers,
  // since they become iptables rules.
  return portListError(value, field === 'opaquePorts');
}

function portListError(value: string, allowNames: boolean): string | undefined {
  const parts = value.split(',').map((part) => part.trim());
  if (parts.every((part) => part === '')) return 'is empty; expected ports such as 25,4000-4010';
  for (const part of parts) {
    const range = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    if (range) {
      const lo = Number(range[1]);
      const hi = range[2] === undefined ? lo : Number(range[2]);
      if (lo < 1 || hi > 65535 || lo > hi) return `"${part}" is not a port (1-65535) or an ordered range of ports`;
    } else if (!(allowNames && /^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(part))) {
      return `"${part}" is not a port (1-65535), a range such as 4000-4010${allowNames ? ' or a container port name' : ''}`;
    }
  }
  return undefined;
}

/** `fathom.io/...` and `<anything>.fathom.io/...`: the annotations that uninject removes. */
export function isMeshAnnotation(key: unknown): boolean {
  return typeof key === 'string' && /^(?:[a-z0-9-]+\.)*fathom\.io\//.test(key);
}

export function injectWorkload(doc: Document, workload: Workload, config: ProxyConfig): EditOutcome {
  const template = workload.template;
  if (!template) return skipped(`no pod template at ${workload.templatePath}`);
  const annotations = annotationsOf(template);
  if (annotations === 'invalid') return skipped('its metadata.annotations is not a mapping');
  const current = annotations?.get(INJECT_ANNOTATION);
  if (current === 'disabled') return skipped(`pods annotated ${INJECT_ANNOTATION}=disabled`);
  if (typeof current === 'string' || hasContainer(template, PROXY_CONTAINER)) return skipped('already injected');
  if (scalarAt(template, ['spec', 'hostNetwork']) === true) return skipped('pods with hostNetwork: true cannot be meshed');

  const map = annotations ?? createAnnotations(doc, template);
  // `{}` written as a placeholder becomes a block mapping once it has content.
  if (map.items.length === 0) map.flow = false;
  map.set(INJECT_ANNOTATION, doc.createNode('enabled'));
  for (const [field, key] of Object.entries(PROXY_CONFIG_ANNOTATIONS) as [ProxyConfigField, string][]) {
    const value = config[field];
    if (value === undefined) continue;
    // Annotation values must be strings for Kubernetes: `8080` plain would be an integer.
    const scalar = new Scalar(value);
    scalar.type = Scalar.QUOTE_DOUBLE;
    map.set(key, scalar);
  }
  return { result: 'injected' };
}

export function uninjectWorkload(workload: Workload): EditOutcome {
  const template = workload.template;
  if (!template) return skipped(`no pod template at ${workload.templatePath}`);
  const annotations = annotationsOf(template);
  if (annotations === 'invalid') return skipped('its metadata.annotations is not a mapping');
  // An explicit opt-out stays: it is the user's choice, not something inject added (as in Linkerd).
  const removed = (annotations?.items ?? []).filter((pair) => {
    const key = keyOf(pair);
    return isMeshAnnotation(key) && !(key === INJECT_ANNOTATION && valueOf(pair) === 'disabled');
  });
  if (!annotations || removed.length === 0) return skipped('not injected');
  annotations.items = annotations.items.filter((pair) => !removed.includes(pair));
  // Remove what inject may have created, so that uninject(inject(x)) gives x back.
  const metadata = template.get('metadata', true);
  if (annotations.items.length === 0 && isMap(metadata)) {
    metadata.delete('annotations');
    if (metadata.items.length === 0 && template !== workload.object) template.delete('metadata');
  }
  return { result: 'uninjected' };
}

function skipped(reason: string): EditOutcome {
  return { result: 'skipped', reason };
}

function keyOf(pair: Pair): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

function valueOf(pair: Pair): unknown {
  return isScalar(pair.value) ? pair.value.value : pair.value;
}

/** The template's `metadata.annotations` map; undefined when absent or empty (`annotations:`). */
function annotationsOf(template: YAMLMap): YAMLMap | undefined | 'invalid' {
  const metadata = template.get('metadata', true);
  if (metadata === undefined || (isScalar(metadata) && metadata.value === null)) return undefined;
  if (!isMap(metadata)) return 'invalid';
  const annotations = metadata.get('annotations', true);
  if (annotations === undefined || (isScalar(annotations) && annotations.value === null)) return undefined;
  return isMap(annotations) ? annotations : 'invalid';
}

/** Creates `metadata` (after apiVersion/kind, else first) and `annotations` (last in metadata) as needed. */
function createAnnotations(doc: Document, template: YAMLMap): YAMLMap {
  const existing = template.get('metadata', true);
  let metadata: YAMLMap;
  if (isMap(existing)) {
    metadata = existing;
  } else {
    metadata = doc.createNode({}) as YAMLMap;
    if (template.has('metadata')) template.set('metadata', metadata);
    else {
      const header = template.items.findIndex((pair) => keyOf(pair) !== 'apiVersion' && keyOf(pair) !== 'kind');
      template.items.splice(header === -1 ? template.items.length : header, 0, doc.createPair('metadata', metadata));
    }
  }
  if (metadata.items.length === 0) metadata.flow = false;
  const annotations = doc.createNode({}) as YAMLMap;
  metadata.set('annotations', annotations);
  return annotations;
}

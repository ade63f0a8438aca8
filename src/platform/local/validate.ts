// Checks an applied Kubernetes object and fills in Kubernetes' defaults, turning it into what the store
// keeps; every problem names the object and the field path, as the API server would.
import { checkDnsLabel } from '../../lib/identity-name.js';
import { KINDS, type ContainerSpec, type StoredObject } from './objects.js';

type Json = Record<string, unknown>;

/** Without the store's bookkeeping (uid, creationTimestamp, generation), which `store.ts` adds. */
export type AppliedObject = StoredObject;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrMap = (v: unknown): v is Record<string, string> => isObj(v) && Object.values(v).every((x) => typeof x === 'string');

class Problems {
  readonly list: string[] = [];
  constructor(private readonly what: string) {}
  add(path: string, message: string): void {
    this.list.push(`${this.what}: ${path}: ${message}`);
  }
}

/** Validates one object; `defaultNamespace` fills a missing metadata.namespace (from `-n`). */
export function validateObject(raw: unknown, defaultNamespace: string): { object: AppliedObject } | { errors: string[] } {
  if (!isObj(raw)) return { errors: ['a document is not a mapping (expected a Kubernetes object)'] };
  const kind = raw['kind'];
  const meta = isObj(raw['metadata']) ? raw['metadata'] : {};
  const name = meta['name'];
  const what = `${typeof kind === 'string' ? kind : 'object'} "${typeof name === 'string' ? name : '?'}"`;
  const p = new Problems(what);
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    return { errors: [`${what}: kind ${JSON.stringify(kind)} is not supported by the local platform (supported: ${KINDS.join(', ')})`] };
  }
  if (typeof name !== 'string') p.add('metadata.name', 'is required');
  else {
    const bad = checkDnsLabel(name, 'name');
    if (bad && kind !== 'ServiceProfile') p.add('metadata.name', bad);
  }
  const namespace = kind === 'Namespace' ? undefined : typeof meta['namespace'] === 'string' ? meta['namespace'] : defaultNamespace;
  if (namespace !== undefined) {
    const bad = checkDnsLabel(namespace, 'namespace');
    if (bad) p.add('metadata.namespace', bad);
  }
  for (const field of ['labels', 'annotations']) {
    if (meta[field] !== undefined && meta[field] !== null && !isStrMap(meta[field])) p.add(`metadata.${field}`, 'must map strings to strings');
  }
  const metadata = {
    ...meta,
    name: String(name),
    ...(namespace === undefined ? {} : { namespace }),
    labels: isStrMap(meta['labels']) ? meta['labels'] : {},
    annotations: isStrMap(meta['annotations']) ? meta['annotations'] : {},
  };
  const object = { ...raw, apiVersion: typeof raw['apiVersion'] === 'string' ? raw['apiVersion'] : 'v1', kind, metadata } as Json;
  if (kind === 'Deployment') object['spec'] = deploymentSpec(raw['spec'], p);
  if (kind === 'Service') object['spec'] = serviceSpec(raw['spec'], p);
  if (kind === 'ServiceProfile') object['spec'] = isObj(raw['spec']) ? raw['spec'] : (p.add('spec', 'is required'), {});
  return p.list.length > 0 ? { errors: p.list } : { object: object as unknown as AppliedObject };
}

function deploymentSpec(raw: unknown, p: Problems): Json {
  const spec = isObj(raw) ? raw : (p.add('spec', 'is required'), {});
  const replicas = spec['replicas'] ?? 1;
  if (!Number.isInteger(replicas) || (replicas as number) < 0 || (replicas as number) > 100) p.add('spec.replicas', 'expected a whole number from 0 to 100');
  const template = isObj(spec['template']) ? spec['template'] : (p.add('spec.template', 'is required'), {});
  const tmeta = isObj(template['metadata']) ? template['metadata'] : {};
  const labels = isStrMap(tmeta['labels']) ? tmeta['labels'] : {};
  const annotations = isStrMap(tmeta['annotations']) ? tmeta['annotations'] : {};
  if (tmeta['annotations'] !== undefined && tmeta['annotations'] !== null && !isStrMap(tmeta['annotations'])) {
    p.add('spec.template.metadata.annotations', 'must map strings to strings');
  }
  const selector = isObj(spec['selector']) ? spec['selector'] : {};
  const matchLabels = isStrMap(selector['matchLabels']) ? selector['matchLabels'] : undefined;
  if (!matchLabels || Object.keys(matchLabels).length === 0) p.add('spec.selector.matchLabels', 'is required');
  else if (Object.entries(matchLabels).some(([k, v]) => labels[k] !== v)) {
    p.add('spec.template.metadata.labels', '`selector` does not match template `labels`');
  }
  const podSpec = isObj(template['spec']) ? template['spec'] : (p.add('spec.template.spec', 'is required'), {});
  if (podSpec['hostNetwork'] === true) p.add('spec.template.spec.hostNetwork', 'is not supported: every local pod has its own network namespace');
  const containers = Array.isArray(podSpec['containers']) ? podSpec['containers'] : [];
  if (containers.length === 0) p.add('spec.template.spec.containers', 'at least one container is required');
  const names = new Set<string>();
  const checked = containers.map((c, i) => container(c, `spec.template.spec.containers[${i}]`, p, names));
  const sa = podSpec['serviceAccountName'] ?? 'default';
  if (typeof sa !== 'string' || checkDnsLabel(sa, 'x')) p.add('spec.template.spec.serviceAccountName', 'expected a DNS-1123 name');
  const grace = podSpec['terminationGracePeriodSeconds'];
  if (grace !== undefined && !(Number.isInteger(grace) && (grace as number) >= 0)) p.add('spec.template.spec.terminationGracePeriodSeconds', 'expected a whole number of seconds');
  return {
    ...spec,
    replicas,
    selector: { ...selector, matchLabels: matchLabels ?? {} },
    template: { ...template, metadata: { ...tmeta, labels, annotations }, spec: { ...podSpec, containers: checked, serviceAccountName: sa } },
  };
}

function container(raw: unknown, path: string, p: Problems, names: Set<string>): ContainerSpec {
  if (!isObj(raw)) {
    p.add(path, 'expected a mapping');
    return { name: '' };
  }
  const name = raw['name'];
  if (typeof name !== 'string' || checkDnsLabel(name, 'x')) p.add(`${path}.name`, 'expected a DNS-1123 name');
  else if (names.has(name)) p.add(`${path}.name`, `duplicate container name "${name}"`);
  else names.add(name);
  const strings = (field: string) => {
    const v = raw[field];
    if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'))) p.add(`${path}.${field}`, 'expected a list of strings');
    return Array.isArray(v) ? v.map(String) : undefined;
  };
  const command = strings('command');
  const args = strings('args');
  if (!command || command.length === 0) {
    p.add(`${path}.command`, 'is required: the local platform runs processes, not images, so it needs the command to start');
  }
  const env = Array.isArray(raw['env']) ? raw['env'] : raw['env'] === undefined ? [] : (p.add(`${path}.env`, 'expected a list'), []);
  env.forEach((e, i) => {
    if (!isObj(e) || typeof e['name'] !== 'string') p.add(`${path}.env[${i}].name`, 'is required');
    else if (e['value'] !== undefined && typeof e['value'] !== 'string') p.add(`${path}.env[${i}].value`, 'must be a string (quote numbers)');
  });
  const ports = Array.isArray(raw['ports']) ? raw['ports'] : [];
  const checkedPorts = ports.map((port, i) => {
    const cp = isObj(port) ? port['containerPort'] : undefined;
    if (!Number.isInteger(cp) || (cp as number) < 1 || (cp as number) > 65535) p.add(`${path}.ports[${i}].containerPort`, 'expected a port number 1-65535');
    return { ...(isObj(port) ? port : {}), protocol: (isObj(port) && port['protocol']) || 'TCP' };
  });
  const user = isObj(raw['securityContext']) ? raw['securityContext']['runAsUser'] : undefined;
  if (user === 2102) p.add(`${path}.securityContext.runAsUser`, 'uid 2102 is the proxy\'s: traffic of an app running as it would bypass the proxy');
  return { ...raw, name: String(name), ...(command ? { command } : {}), ...(args ? { args } : {}), env, ports: checkedPorts } as ContainerSpec;
}

function serviceSpec(raw: unknown, p: Problems): Json {
  const spec = isObj(raw) ? raw : (p.add('spec', 'is required'), {});
  const type = spec['type'] ?? 'ClusterIP';
  if (type !== 'ClusterIP') p.add('spec.type', `"${String(type)}" is not supported by the local platform (ClusterIP only)`);
  const ports = Array.isArray(spec['ports']) ? spec['ports'] : [];
  if (ports.length === 0) p.add('spec.ports', 'at least one port is required');
  const seen = new Set<string>();
  const checked = ports.map((port, i) => {
    const at = `spec.ports[${i}]`;
    const pp = isObj(port) ? port : {};
    if (!Number.isInteger(pp['port']) || (pp['port'] as number) < 1 || (pp['port'] as number) > 65535) p.add(`${at}.port`, 'expected a port number 1-65535');
    const target = pp['targetPort'] ?? pp['port'];
    if (!(typeof target === 'string' || (Number.isInteger(target) && (target as number) >= 1 && (target as number) <= 65535))) {
      p.add(`${at}.targetPort`, 'expected a port number or a container port name');
    }
    const name = typeof pp['name'] === 'string' ? pp['name'] : '';
    if (ports.length > 1 && name === '') p.add(`${at}.name`, 'is required when a service has several ports');
    if (seen.has(name)) p.add(`${at}.name`, `duplicate port name "${name}"`);
    seen.add(name);
    return { ...pp, name, targetPort: target, protocol: pp['protocol'] ?? 'TCP' };
  });
  const selector = spec['selector'];
  if (selector !== undefined && !isStrMap(selector)) p.add('spec.selector', 'must map strings to strings');
  const clusterIP = spec['clusterIP'];
  if (clusterIP !== undefined && typeof clusterIP !== 'string') p.add('spec.clusterIP', 'expected an IPv4 address or None');
  return { ...spec, type, ports: checked };
}

// The desired state: applied objects kept as one JSON file each in the state directory. Changes happen
// under a lock, assign what the API server would (uid, creation time, generation, a service's cluster
// IP), and are picked up by the agent and the controller's platform through their directory watches.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FathomError } from '../../lib/errors.js';
import { contains, freeAddress, parseCidr, type Cidr } from './cidr.js';
import type { LocalConfig } from './config.js';
import { listDir, readJson, writeFileAtomic } from './files.js';
import { layout } from './layout.js';
import { withLock } from './lock.js';
import { BUILTIN_NAMESPACES, objectKey, type Kind, type Service, type StoredObject } from './objects.js';
import type { AppliedObject } from './validate.js';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

/** Offsets below this in the service range are never handed out (room for well-known services). */
const RESERVED_SERVICE_OFFSETS = 9;

export class ObjectStore {
  private readonly dir: string;
  private readonly lock: string;

  constructor(private readonly config: LocalConfig) {
    const l = layout(config.stateDir);
    this.dir = l.objects;
    this.lock = join(l.locks, 'objects');
  }

  list(): StoredObject[] {
    const out: StoredObject[] = [];
    for (const file of listDir(this.dir)) {
      if (!file.endsWith('.json')) continue;
      const object = readJson<StoredObject>(join(this.dir, file));
      if (object) out.push(object);
    }
    return out;
  }

  get(kind: Kind, namespace: string | undefined, name: string): StoredObject | undefined {
    return readJson<StoredObject>(this.path(kind, namespace, name));
  }

  namespaceExists(name: string): boolean {
    return BUILTIN_NAMESPACES.includes(name) || this.get('Namespace', undefined, name) !== undefined;
  }

  /**
   * Stores every object (all are checked first: nothing is written when one is refused). Objects may
   * name namespaces created earlier in the same batch.
   */
  async apply(objects: readonly AppliedObject[]): Promise<ApplyOutcome[]> {
    return withLock(this.lock, async () => {
      const batchNamespaces = new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name));
      for (const o of objects) {
        const ns = o.metadata.namespace;
        if (ns !== undefined && !batchNamespaces.has(ns) && !this.namespaceExists(ns)) {
          throw new FathomError('ENOTFOUND', `${o.kind} "${o.metadata.name}": namespace "${ns}" not found (apply the Namespace first)`);
        }
      }
      const prepared = objects.map((o) => this.prepare(o));
      const taken = new Map<string, string>();
      for (const o of this.list()) if (o.kind === 'Service') taken.set(o.spec.clusterIP, `${o.metadata.namespace}/${o.metadata.name}`);
      for (const { object } of prepared) if (object.kind === 'Service') this.assignClusterIP(object, taken);
      mkdirSync(this.dir, { recursive: true, mode: 0o755 });
      for (const { object, outcome } of prepared) {
        if (outcome !== 'unchanged') this.write(object);
      }
      return prepared.map((p) => p.outcome);
    });
  }

  /** Deletes objects; a Namespace takes everything in it along. Resolves to whether each existed. */
  async delete(refs: readonly { kind: Kind; namespace: string | undefined; name: string }[]): Promise<boolean[]> {
    return withLock(this.lock, async () => {
      const all = this.list();
      return refs.map((ref) => {
        if (ref.kind === 'Namespace' && BUILTIN_NAMESPACES.includes(ref.name)) {
          throw new FathomError('EFORBIDDEN', `namespace "${ref.name}" cannot be deleted`);
        }
        const existed = this.get(ref.kind, ref.namespace, ref.name) !== undefined;
        rmSync(this.path(ref.kind, ref.namespace, ref.name), { force: true });
        if (ref.kind === 'Namespace') {
          for (const o of all) if (o.metadata.namespace === ref.name) rmSync(this.path(o.kind, o.metadata.namespace, o.metadata.name), { force: true });
        }
        return existed;
      });
    });
  }

  /** Changes a stored object in place (e.g. `rollout restart`); false when it does not exist. */
  async update(kind: Kind, namespace: string | undefined, name: string, mutate: (o: StoredObject) => void): Promise<boolean> {
    return withLock(this.lock, async () => {
      const object = this.get(kind, namespace, name);
      if (!object) return false;
      mutate(object);
      object.metadata.generation += 1;
      this.write(object);
      return true;
    });
  }

  private path(kind: Kind, namespace: string | undefined, name: string): string {
    return join(this.dir, `${objectKey(kind, namespace, name)}.json`);
  }

  private write(object: StoredObject): void {
    writeFileAtomic(this.path(object.kind, object.metadata.namespace, object.metadata.name), JSON.stringify(object, null, 2) + '\n');
  }

  /** Adds the bookkeeping fields, keeping those of the existing object, and says what changes. */
  private prepare(applied: AppliedObject): { object: StoredObject; outcome: ApplyOutcome } {
    const existing = this.get(applied.kind, applied.metadata.namespace, applied.metadata.name);
    const object = structuredClone(applied) as StoredObject;
    object.metadata.uid = existing?.metadata.uid ?? randomUUID();
    object.metadata.creationTimestamp = existing?.metadata.creationTimestamp ?? new Date().toISOString();
    object.metadata.generation = existing?.metadata.generation ?? 1;
    if (object.kind === 'Service' && existing?.kind === 'Service') {
      const wanted = (applied as Service).spec.clusterIP;
      if (wanted !== undefined && wanted !== existing.spec.clusterIP) {
        throw new FathomError('EINVALID', `Service "${object.metadata.name}": spec.clusterIP: field is immutable (it is ${existing.spec.clusterIP})`);
      }
      object.spec.clusterIP = existing.spec.clusterIP;
    }
    if (!existing) return { object, outcome: 'created' };
    if (JSON.stringify(object) === JSON.stringify(existing)) return { object, outcome: 'unchanged' };
    if (JSON.stringify((object as { spec?: unknown }).spec) !== JSON.stringify((existing as { spec?: unknown }).spec)) object.metadata.generation += 1;
    return { object, outcome: 'configured' };
  }

  /** Keeps a service's address, checks a requested one, or hands out the lowest free one. */
  private assignClusterIP(service: Service, taken: Map<string, string>): void {
    const range = parseCidr(this.config.serviceCidr) as Cidr;
    const self = `${service.metadata.namespace}/${service.metadata.name}`;
    const ip = service.spec.clusterIP;
    if (ip === 'None') return;
    if (ip !== undefined && ip !== '') {
      if (!contains(range, ip)) throw new FathomError('EINVALID', `Service "${service.metadata.name}": spec.clusterIP ${ip} is not in the service range ${range.text}`);
      const owner = taken.get(ip);
      if (owner !== undefined && owner !== self) throw new FathomError('EINVALID', `Service "${service.metadata.name}": spec.clusterIP ${ip} is already allocated to ${owner}`);
      taken.set(ip, self);
      return;
    }
    const free = freeAddress(range, new Set(taken.keys()), RESERVED_SERVICE_OFFSETS);
    if (!free) throw new FathomError('EFULL', `no free cluster IP left in ${range.text}`);
    service.spec.clusterIP = free;
    taken.set(free, self);
  }
}

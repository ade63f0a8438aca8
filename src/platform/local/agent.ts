// The local platform's agent, the one daemon that acts on the desired state: it turns Deployments into
// pods (rolling changed templates), keeps service routing (DNAT rules), every pod's hosts file,
// service-account tokens and Prometheus's targets in step with the objects and the pods' status, and
// removes pods being deleted. It reacts to changes in the state directory within a few tens of ms and
// rescans every second. Pods do not depend on it: it adopts running pods when it starts again.
import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import { logger } from '../../lib/log.js';
import { freeAddress, ipToNumber, parseCidr, type Cidr } from './cidr.js';
import type { LocalConfig } from './config.js';
import { writeFileAtomic } from './files.js';
import { layout } from './layout.js';
import { destroyPodNetwork, renderHosts, updateHosts } from './pod-network.js';
import { templateHash, type PodRecord } from './pod-record.js';
import { isSupervisor, newPodRecord, startPod, stopPod, writeRecord } from './pods.js';
import { prometheusPaths, prometheusTargets } from './prometheus.js';
import { planRollout } from './rollout.js';
import { applyServiceRules, serviceRules, type RoutedService } from './service-rules.js';
import { loadSnapshot, portEndpoints, type Snapshot } from './snapshot.js';
import { syncTokens, type TokenOwner } from './tokens.js';

const log = logger('agent');
const RESCAN_MS = 1000;
/** A supervisor that has not reported within this long after its pod was made is taken for dead. */
const SUPERVISOR_START_MS = 30_000;
const RULES_REFRESH_MS = 30_000;

export class Agent {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private closed = false;
  /** Pods being started or stopped, so that a pass never starts the same work twice. */
  private readonly busy = new Map<string, Promise<void>>();
  private lastRules = '';
  private rulesAppliedAt = 0;
  private lastTargets = '';
  private nextIp: number;
  private readonly pods: Cidr;

  constructor(private readonly config: LocalConfig) {
    this.pods = parseCidr(config.podCidr) as Cidr;
    this.nextIp = 2;
  }

  async start(): Promise<void> {
    const l = layout(this.config.stateDir);
    for (const dir of [l.objects, l.pods, l.status, l.podFiles, prometheusPaths(this.config.stateDir).dir]) mkdirSync(dir, { recursive: true, mode: 0o755 });
    for (const dir of [l.objects, l.status]) this.watchers.push(watch(dir, () => this.soon()));
    await this.adopt();
    await this.pass();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
  }

  /** At start, every pod whose supervisor is gone (killed, or the host rebooted) is started again. */
  private async adopt(): Promise<void> {
    const snap = loadSnapshot(this.config.stateDir);
    await Promise.all(snap.pods.filter((p) => !p.terminating && !isSupervisor(p.status?.supervisorPid, p.record)).map((p) => this.restart(p.record, snap)));
  }

  /** Starts a pod again from its record, on a fresh network (same name and IP). */
  private restart(record: PodRecord, snap: Snapshot): Promise<void> {
    log.info('restarting a pod whose supervisor is gone', { pod: `${record.namespace}/${record.name}` });
    return this.track(record, async () => {
      await destroyPodNetwork(record);
      await startPod(this.config, record, this.hostsFor(record, snap));
    });
  }

  private soon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), 20);
  }

  /** One reconciliation; passes never overlap, and a change during one triggers another. */
  private async pass(): Promise<void> {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      await this.reconcile();
    } catch (err) {
      log.error('reconcile failed', { error: err as Error });
    } finally {
      this.running = false;
      if (!this.closed) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.pass(), this.again ? 0 : RESCAN_MS);
        this.again = false;
      }
    }
  }

  private async reconcile(): Promise<void> {
    let snap = loadSnapshot(this.config.stateDir);
    syncTokens(this.config.stateDir, this.wantedTokens(snap));
    const creations: Promise<void>[] = [];
    for (const deployment of snap.deployments) {
      const hash = templateHash(deployment);
      const mine = snap.pods.filter((p) => !p.terminating && p.record.owner.uid === deployment.metadata.uid);
      const plan = planRollout(deployment.spec.replicas, hash, mine);
      for (const pod of plan.remove) this.remove(pod.record, pod.status?.supervisorPid);
      for (let i = 0; i < plan.create; i++) {
        const ip = this.allocateIp(snap);
        if (!ip) {
          log.error('no free pod IP left', { range: this.config.podCidr });
          break;
        }
        const record = newPodRecord(this.config, deployment, hash, ip);
        snap = { ...snap, pods: [...snap.pods, { record, status: undefined, terminating: false, ready: false }] };
        creations.push(this.track(record, () => startPod(this.config, record, this.hostsFor(record, snap))));
      }
    }
    const owners = new Set(snap.deployments.map((d) => d.metadata.uid));
    for (const pod of snap.pods) {
      if (pod.terminating || !owners.has(pod.record.owner.uid)) this.remove(pod.record, pod.status?.supervisorPid);
      else if (!this.busy.has(pod.record.name) && this.supervisorLost(pod.record, pod.status?.supervisorPid)) void this.restart(pod.record, snap);
    }
    await Promise.all(creations);
    snap = loadSnapshot(this.config.stateDir);
    await this.syncServices(snap);
    for (const pod of snap.pods) if (!pod.terminating) updateHosts(pod.record.netns, this.hostsFor(pod.record, snap));
    this.syncTargets(snap);
  }

  /** Marks the pod terminating (it leaves endpoints at once) and stops it in the background. */
  private remove(record: PodRecord, supervisorPid: number | undefined): void {
    if (this.busy.has(record.name)) return;
    if (!record.deletionTimestamp) {
      record.deletionTimestamp = new Date().toISOString();
      writeRecord(this.config.stateDir, record);
    }
    void this.track(record, () => stopPod(this.config.stateDir, record, supervisorPid)).then(() => this.soon());
  }

  /** A pod's supervisor died: its status names a pid that is no longer it, or it never wrote one. */
  private supervisorLost(record: PodRecord, pid: number | undefined): boolean {
    if (pid !== undefined) return !isSupervisor(pid, record);
    return Date.now() - Date.parse(record.creationTimestamp) > SUPERVISOR_START_MS;
  }

  private track(record: PodRecord, work: () => Promise<void>): Promise<void> {
    const key = record.name;
    const running = work()
      .catch((err: unknown) => log.error('pod operation failed', { pod: `${record.namespace}/${record.name}`, error: err as Error }))
      .finally(() => this.busy.delete(key));
    this.busy.set(key, running);
    return running;
  }

  private allocateIp(snap: Snapshot): string | undefined {
    const used = new Set(snap.pods.map((p) => p.record.ip));
    const ip = freeAddress(this.pods, used, 1, this.nextIp);
    if (ip) this.nextIp = ipToNumber(ip)! - this.pods.base + 1;
    return ip;
  }

  private wantedTokens(snap: Snapshot): TokenOwner[] {
    const namespaces = new Set(['default', ...snap.namespaces.map((n) => n.metadata.name)]);
    const owners = [
      ...[...namespaces].map((namespace) => ({ namespace, serviceAccount: 'default' })),
      ...snap.serviceAccounts.map((sa) => ({ namespace: sa.metadata.namespace ?? 'default', serviceAccount: sa.metadata.name })),
      ...snap.pods.map((p) => ({ namespace: p.record.namespace, serviceAccount: p.record.serviceAccount })),
    ];
    return [...new Map(owners.map((o) => [`${o.namespace}/${o.serviceAccount}`, o])).values()];
  }

  private hostsFor(record: PodRecord, snap: Snapshot): string {
    const services = snap.services
      .filter((s) => s.spec.clusterIP && s.spec.clusterIP !== 'None')
      .map((s) => ({ namespace: s.metadata.namespace ?? 'default', name: s.metadata.name, clusterIP: s.spec.clusterIP }));
    return renderHosts(record, services, this.config.clusterDomain);
  }

  private async syncServices(snap: Snapshot): Promise<void> {
    const routed: RoutedService[] = snap.services.map((s) => ({
      namespace: s.metadata.namespace ?? 'default',
      name: s.metadata.name,
      clusterIP: s.spec.clusterIP,
      ports: s.spec.ports.map((port) => ({
        name: port.name ?? '',
        port: port.port,
        protocol: port.protocol,
        endpoints: portEndpoints(s, port, snap.pods).filter((e) => e.pod.ready),
      })),
    }));
    const rules = serviceRules(this.config.tag, this.config.gateway, routed);
    // Unchanged rules are re-applied now and then, in case something flushed the host's tables.
    if (rules === this.lastRules && Date.now() - this.rulesAppliedAt < RULES_REFRESH_MS) return;
    await applyServiceRules(rules);
    this.lastRules = rules;
    this.rulesAppliedAt = Date.now();
  }

  private syncTargets(snap: Snapshot): void {
    const targets = prometheusTargets(snap.pods);
    if (targets === this.lastTargets) return;
    writeFileAtomic(prometheusPaths(this.config.stateDir).targets, targets);
    this.lastTargets = targets;
  }
}

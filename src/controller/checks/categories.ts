// The checks behind `fathom check`, as data: categories in the order they print, each check with the
// hint a user sees when it fails. Everything here looks only at this host: the controller itself, its CA
// files, and the Prometheus it was given.
import { connect } from 'node:net';
import { loadCertificates, expiresWithin, firstProblem, MIN_REMAINING_DAYS, outsideValidity, signedByAnchor } from './certificates.js';
import type { CheckCategory, CheckContext, CheckPrometheus } from './check.js';

/** "a, b, c and 2 more": long lists stay on one line. */
export function listed(items: readonly string[], max = 3): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

function prometheusOf(ctx: CheckContext): CheckPrometheus {
  if (!ctx.prometheus) throw new Error('the controller has no Prometheus URL');
  return ctx.prometheus;
}

/** `ns/pod`, or the scrape address when the target has no pod label. */
const podOf = (labels: Readonly<Record<string, string>>) => (labels['pod'] ? `${labels['namespace'] ?? '?'}/${labels['pod']}` : (labels['instance'] ?? '?'));

function canConnect(host: string, port: number, timeoutMs = 2000): Promise<string | undefined> {
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return new Promise((resolve) => {
    const socket = connect({ host: target, port, timeout: timeoutMs });
    socket.once('connect', () => (socket.destroy(), resolve(undefined)));
    socket.once('timeout', () => (socket.destroy(), resolve(`no answer from ${target}:${port} within ${timeoutMs}ms`)));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(`cannot connect to ${target}:${port}: ${err.code ?? err.message}`));
  });
}

const anchors = (ctx: CheckContext) => loadCertificates(ctx.caFiles.trustAnchors);
const issuer = (ctx: CheckContext) => loadCertificates(ctx.caFiles.issuerCert)[0]!;
const CA_HINT = "the mesh's CA is in the controller's state directory (identity/); see docs/controller.md to renew it or bring your own with --trust-anchor, --issuer-cert and --issuer-key";
const PROXY_HINT = "look at the pod's proxy log with 'fathom logs POD -c fathom-proxy'";

export const CATEGORIES: readonly CheckCategory[] = [
  {
    name: 'fathom-control-plane',
    checks: [
      {
        // Answering this request is the proof; the CLI reports the failure itself when it cannot connect.
        description: 'control plane API is reachable',
        hint: "start the control plane with 'fathom up'",
        run: async () => undefined,
      },
      {
        description: 'destination and identity services accept connections',
        hint: "the controller's gRPC server is not listening: look at the controller's log (fathom-controller --addr)",
        run: (ctx) => canConnect(ctx.grpcAddr.host, ctx.grpcAddr.port),
      },
    ],
  },
  {
    name: 'fathom-identity',
    checks: [
      {
        description: 'trust anchors are within their validity period',
        hint: CA_HINT,
        run: async (ctx) => firstProblem(anchors(ctx), (c) => outsideValidity(c, ctx.now())),
      },
      {
        description: `trust anchors are valid for at least ${MIN_REMAINING_DAYS} days`,
        hint: CA_HINT,
        warning: true,
        run: async (ctx) => firstProblem(anchors(ctx), (c) => expiresWithin(c, ctx.now(), MIN_REMAINING_DAYS)),
      },
      {
        description: 'issuer certificate is within its validity period',
        hint: CA_HINT,
        run: async (ctx) => outsideValidity(issuer(ctx), ctx.now()),
      },
      {
        description: `issuer certificate is valid for at least ${MIN_REMAINING_DAYS} days`,
        hint: CA_HINT,
        warning: true,
        run: async (ctx) => expiresWithin(issuer(ctx), ctx.now(), MIN_REMAINING_DAYS),
      },
      {
        description: 'issuer certificate is issued by a trust anchor',
        hint: CA_HINT,
        run: async (ctx) => {
          const cert = issuer(ctx);
          return (await signedByAnchor(cert, anchors(ctx))) ? undefined : `"${cert.subject}" (issued by "${cert.issuer}") is signed by none of the trust anchors`;
        },
      },
    ],
  },
  {
    name: 'fathom-prometheus',
    checks: [
      {
        description: 'Prometheus is running',
        hint: "'fathom up' starts Prometheus (its log: <state-dir>/logs/prometheus.log); a Prometheus of your own is given to fathom-controller with --prometheus-url",
        fatal: true,
        run: async (ctx) => {
          const ready = await prometheusOf(ctx).ready();
          return ready === true ? undefined : ready;
        },
      },
      {
        description: 'Prometheus is scraping its targets',
        hint: "Prometheus lists each target and its last error on its /targets page",
        run: async (ctx) => {
          const up = await prometheusOf(ctx).query('up');
          if (up.length === 0) return 'Prometheus has no scrape target at all';
          const down = up.filter((s) => s.value !== 1).map((s) => `${s.labels['job'] ?? '?'} ${podOf(s.labels)}`);
          return down.length === 0 ? undefined : `${down.length} of ${up.length} targets are down: ${listed(down)}`;
        },
      },
    ],
  },
  {
    name: 'fathom-version',
    checks: [
      {
        description: 'CLI and control plane versions match',
        hint: 'use the fathom CLI of the same installation as the control plane',
        warning: true,
        applies: (ctx) => ctx.client.version !== undefined,
        run: async (ctx) => (ctx.client.version === ctx.version ? undefined : `the CLI is ${ctx.client.version}, the control plane ${ctx.version}`),
      },
    ],
  },
  {
    name: 'fathom-clock',
    checks: [
      {
        description: "the CLI's clock agrees with the control plane's",
        hint: 'keep the clocks of this host synchronised (systemd-timesyncd, chrony): certificates are checked against them',
        applies: (ctx) => ctx.client.timeMs !== undefined,
        run: async (ctx) => skew('the CLI', ctx.client.timeMs!, ctx),
      },
      {
        description: "the control plane's clock agrees with Prometheus's",
        hint: 'keep the clocks of this host synchronised (systemd-timesyncd, chrony): rates are computed against them',
        applies: (ctx) => ctx.prometheus !== undefined,
        run: async (ctx) => {
          const [sample] = await prometheusOf(ctx).query('time()');
          return sample ? skew('Prometheus', sample.value * 1000, ctx) : 'Prometheus did not answer time()';
        },
      },
    ],
  },
  {
    name: 'fathom-data-plane',
    proxyOnly: true,
    requires: 'fathom-prometheus',
    checks: [
      {
        description: 'proxies are ready',
        hint: PROXY_HINT,
        run: async (ctx) => {
          const unready = (ctx.inventory.pods() ?? []).filter((p) => p.meshed && !p.ready).map((p) => `${p.namespace}/${p.name}`);
          if (unready.length > 0) return `not ready: ${listed(unready)}`;
          const up = await prometheusOf(ctx).query(`up{job="${ctx.proxyJob}"}`);
          const down = up.filter((s) => s.value !== 1).map((s) => podOf(s.labels));
          return down.length > 0 ? `Prometheus cannot scrape: ${listed(down)}` : undefined;
        },
      },
      {
        description: 'proxies are certified',
        hint: `${PROXY_HINT}: a proxy without a certificate cannot reach the identity service or was refused by it`,
        run: async (ctx) => {
          const prom = prometheusOf(ctx);
          const [up, expiry] = await Promise.all([
            prom.query(`up{job="${ctx.proxyJob}"} == 1`),
            prom.query(`identity_cert_expiration_timestamp_seconds{job="${ctx.proxyJob}"}`),
          ]);
          const expires = new Map(expiry.map((s) => [podOf(s.labels), s.value * 1000]));
          const missing = up.map((s) => podOf(s.labels)).filter((pod) => !expires.has(pod));
          const expired = [...expires].filter(([, at]) => at <= ctx.now()).map(([pod]) => pod);
          if (missing.length > 0) return `without a certificate: ${listed(missing)}`;
          return expired.length > 0 ? `with an expired certificate: ${listed(expired)}` : undefined;
        },
      },
      {
        description: 'proxy versions match the control plane',
        hint: "restart the pods to give them the installed proxy: 'fathom rollout restart deploy/NAME'",
        warning: true,
        run: async (ctx) => {
          const builds = await prometheusOf(ctx).query(`proxy_build_info{job="${ctx.proxyJob}"}`);
          const other = builds.filter((s) => s.labels['version'] !== ctx.version).map((s) => `${podOf(s.labels)} (${s.labels['version'] ?? '?'})`);
          return other.length > 0 ? `not ${ctx.version}: ${listed(other)}` : undefined;
        },
      },
    ],
  },
];

function skew(other: string, otherMs: number, ctx: CheckContext): string | undefined {
  const diff = otherMs - ctx.now();
  if (Math.abs(diff) <= ctx.clockSkewMs) return undefined;
  return `${other}'s clock is ${(Math.abs(diff) / 1000).toFixed(1)}s ${diff > 0 ? 'ahead' : 'behind'} (allowed: ${ctx.clockSkewMs / 1000}s)`;
}

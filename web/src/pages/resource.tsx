// `/namespaces/NS/deployments/NAME` and `/namespaces/NS/pods/NAME`: one resource's golden metrics now and
// over time (charts), who calls it and whom it calls, its pods, its routes, and its live top and tap.
import { useState } from 'preact/hooks';
import type { PodsResponse, RoutesResponse, SeriesResponse, StatResponse, StatRow } from '../../../src/controller/metrics-api/types.js';
import { usePoll } from '../api.js';
import { Chart } from '../components/chart.js';
import { Live } from '../components/live.js';
import { StatTable } from '../components/stat-table.js';
import { Section } from '../components/status.js';
import { Table } from '../components/table.js';
import { count, ms, pct, rps, successClass } from '../format.js';
import { routePath } from '../router.js';
import { REFRESH_MS, WINDOW } from './overview.js';

const RANGES = ['5m', '15m', '1h', '6h'] as const;
const SERIES_REFRESH_MS = 10_000;
const short = { deployment: 'deploy', pod: 'po' } as const;

export function ResourcePage(props: { kind: 'deployment' | 'pod'; namespace: string; name: string }) {
  const { kind, namespace, name } = props;
  const ref = `${short[kind]}/${name}`;
  const [range, setRange] = useState<(typeof RANGES)[number]>('15m');
  const now = usePoll<StatResponse>('stat', { resource: ref, namespace, window: WINDOW }, REFRESH_MS);
  const series = usePoll<SeriesResponse>('series', { resource: ref, namespace, range }, SERIES_REFRESH_MS);
  const inbound = usePoll<StatResponse>('stat', { resource: 'deploy', 'all-namespaces': true, to: ref, 'to-namespace': namespace, window: WINDOW }, REFRESH_MS);
  const outbound = usePoll<StatResponse>('stat', { resource: 'deploy', 'all-namespaces': true, from: ref, 'from-namespace': namespace, window: WINDOW }, REFRESH_MS);
  const routes = usePoll<RoutesResponse>('routes', { resource: ref, namespace, window: WINDOW }, REFRESH_MS);
  const podList = usePoll<PodsResponse>('pods', { namespace }, REFRESH_MS, kind !== 'deployment');
  const podStats = usePoll<StatResponse>('stat', { resource: 'po', namespace, window: WINDOW }, REFRESH_MS, kind !== 'deployment');
  const row = now.data?.rows.find((r) => r.name === name);
  const mine = new Set((podList.data?.pods ?? []).filter((p) => p.deployment === name).map((p) => p.name));
  const s = series.data;

  return (
    <>
      <nav class="crumbs">
        <a href={routePath({ page: 'overview', namespace })}>{namespace}</a> / {kind}
      </nav>
      <h1>
        {name} <span class="kind">{kind}</span>
      </h1>
      {now.error && !now.data && <p class="error" role="alert">{now.error}</p>}
      <Tiles row={row} />
      <Section
        title="Over time"
        polled={series}
        extra={
          <span class="ranges" role="group" aria-label="time range">
            {RANGES.map((r) => (
              <button key={r} class={r === range ? 'on' : ''} onClick={() => setRange(r)}>
                {r}
              </button>
            ))}
          </span>
        }
      >
        {s && (
          <div class="charts">
            <Chart testId="chart-success" title="Success rate" unit="%" timestamps={s.timestamps} format={(v) => `${(v * 100).toFixed(v < 1 && v > 0.99 ? 1 : 0)}%`} min={0} max={1} lines={[{ label: 'success', colour: '#7fdbca', values: s.success }]} />
            <Chart
              testId="chart-rps"
              title="Request rate"
              unit="rps"
              timestamps={s.timestamps}
              format={(v) => v.toFixed(v < 10 ? 1 : 0)}
              lines={[
                { label: 'mTLS', colour: '#82aaff', values: s.rps_tls },
                { label: 'plaintext', colour: '#f78c6c', values: s.rps_plain, dash: true },
              ]}
            />
            <Chart
              testId="chart-latency"
              title="Latency"
              unit="ms"
              timestamps={s.timestamps}
              format={(v) => (v < 10 ? v.toFixed(1) : v.toFixed(0))}
              lines={[
                { label: 'p50', colour: '#c3e88d', values: s.latency_ms_p50 },
                { label: 'p95', colour: '#ffcb6b', values: s.latency_ms_p95 },
                { label: 'p99', colour: '#ff5370', values: s.latency_ms_p99 },
              ]}
            />
            <Chart testId="chart-tcp" title="TCP connections" unit="open" timestamps={s.timestamps} format={(v) => (Number.isInteger(v) ? String(v) : v.toFixed(1))} lines={[{ label: 'open', colour: '#c792ea', values: s.tcp_open_connections }]} />
          </div>
        )}
      </Section>
      <div class="two">
        <Section title="Inbound: who calls it" polled={inbound}>
          <StatTable rows={inbound.data?.rows ?? []} empty="no meshed callers in the window" namespaceColumn testId="inbound" />
        </Section>
        <Section title="Outbound: whom it calls" polled={outbound}>
          <StatTable rows={outbound.data?.rows ?? []} empty="no calls to meshed deployments in the window" namespaceColumn testId="outbound" />
        </Section>
      </div>
      {kind === 'deployment' && (
        <Section title="Pods" polled={podStats}>
          <StatTable rows={(podStats.data?.rows ?? []).filter((r) => mine.has(r.name))} empty="no pods" testId="pods" />
        </Section>
      )}
      <Section title="Routes" polled={routes} extra={routes.data && <span class="unit">from {routes.data.source}</span>}>
        <Table
          testId="routes"
          columns={[
            { key: 'route', header: 'Route', cell: (r) => <code>{r.route}</code>, sort: (r) => r.route },
            { key: 'authority', header: 'Authority', cell: (r) => r.authority, sort: (r) => r.authority },
            { key: 'success', header: 'Success', numeric: true, cell: (r) => pct(r.success), sort: (r) => r.success, className: (r) => successClass(r.success) },
            { key: 'rps', header: 'RPS', numeric: true, cell: (r) => rps(r.rps), sort: (r) => r.rps },
            { key: 'p50', header: 'P50', numeric: true, cell: (r) => ms(r.latency_ms_p50), sort: (r) => r.latency_ms_p50 },
            { key: 'p95', header: 'P95', numeric: true, cell: (r) => ms(r.latency_ms_p95), sort: (r) => r.latency_ms_p95 },
            { key: 'p99', header: 'P99', numeric: true, cell: (r) => ms(r.latency_ms_p99), sort: (r) => r.latency_ms_p99 },
          ]}
          rows={routes.data?.rows ?? []}
          rowKey={(r) => `${r.route} ${r.authority}`}
          empty="no requests in the window"
        />
      </Section>
      <Section title="Live requests">
        <Live kind={kind} namespace={namespace} name={name} />
      </Section>
    </>
  );
}

function Tiles(props: { row: StatRow | undefined }) {
  const r = props.row;
  const tiles: [string, string, string][] = [
    ['Success', pct(r?.success), successClass(r?.success)],
    ['RPS', rps(r?.rps), ''],
    ['P50', ms(r?.latency_ms_p50), ''],
    ['P95', ms(r?.latency_ms_p95), ''],
    ['P99', ms(r?.latency_ms_p99), ''],
    ['TCP', count(r?.tcp_open_connections), ''],
    ['Meshed', r?.meshed === null || r?.meshed === undefined ? '-' : `${r.meshed}/${r.running}`, ''],
  ];
  return (
    <div class="tiles" data-testid="tiles">
      {tiles.map(([label, value, cls]) => (
        <div class="tile" key={label} data-tile={label}>
          <div class="label">{label}</div>
          <div class={`value ${cls}`}>{value}</div>
        </div>
      ))}
    </div>
  );
}

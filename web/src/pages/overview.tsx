// `/` and `/namespaces/NS`: every namespace (or one) with its deployments' golden metrics, refreshing
// every few seconds; one namespace also lists its pods.
import type { StatResponse } from '../../../src/controller/metrics-api/types.js';
import { usePoll } from '../api.js';
import { StatTable } from '../components/stat-table.js';
import { Section } from '../components/status.js';
import { pct, rps, successClass } from '../format.js';
import { routePath } from '../router.js';

export const REFRESH_MS = 5_000;
/** The stat window: short, so the tables follow what happens now. */
export const WINDOW = '30s';

export function Overview(props: { namespace?: string }) {
  const one = props.namespace;
  const namespaces = usePoll<StatResponse>('stat', { resource: 'ns', window: WINDOW }, REFRESH_MS);
  const deployments = usePoll<StatResponse>('stat', one ? { resource: 'deploy', namespace: one, window: WINDOW } : { resource: 'deploy', 'all-namespaces': true, window: WINDOW }, REFRESH_MS);
  const pods = usePoll<StatResponse>('stat', { resource: 'po', namespace: one ?? 'default', window: WINDOW }, REFRESH_MS, one === undefined);

  const nsRows = (namespaces.data?.rows ?? []).filter((r) => one === undefined || r.name === one);
  const names = [...new Set([...nsRows.map((r) => r.name), ...(deployments.data?.rows ?? []).map((r) => r.namespace)])].sort();
  return (
    <>
      <h1>{one ? <>Namespace {one}</> : 'Overview'}</h1>
      {namespaces.error && !namespaces.data && <p class="error" role="alert">{namespaces.error}</p>}
      {names.length === 0 && deployments.data && <p class="empty">No workloads yet: apply some with <code>fathom apply</code>, or run <code>fathom demo</code>.</p>}
      {names.map((ns) => {
        const summary = nsRows.find((r) => r.name === ns);
        const rows = (deployments.data?.rows ?? []).filter((r) => r.namespace === ns);
        return (
          <Section
            key={ns}
            id={`ns-${ns}`}
            polled={deployments}
            title={one ? 'Deployments' : <a href={routePath({ page: 'overview', namespace: ns })}>{ns}</a>}
            extra={
              summary && (
                <span class="summary" data-testid={`ns-summary-${ns}`}>
                  <span class={successClass(summary.success)}>{pct(summary.success)}</span> · {rps(summary.rps)} · {summary.meshed ?? '-'}/{summary.running ?? '-'} meshed
                </span>
              )
            }
          >
            <StatTable rows={rows} empty="no deployments" testId={`deployments-${ns}`} />
          </Section>
        );
      })}
      {one && (
        <Section title="Pods" polled={pods}>
          <StatTable rows={pods.data?.rows ?? []} empty="no pods" testId={`pods-${one}`} />
        </Section>
      )}
    </>
  );
}

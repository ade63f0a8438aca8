// The dashboard's shell: the navigation bar, the view of the current URL, and the namespace list.
import { render } from 'preact';
import type { StatResponse, VersionResponse } from '../../src/controller/metrics-api/types.js';
import { usePoll } from './api.js';
import { ChecksPage } from './pages/checks.js';
import { EdgesPage } from './pages/edges.js';
import { Overview } from './pages/overview.js';
import { ResourcePage } from './pages/resource.js';
import { onLinkClick, routePath, useRoute, type Route } from './router.js';
import './style.css';

function App() {
  const route = useRoute();
  const version = usePoll<VersionResponse>('version', {}, 60_000);
  const namespaces = usePoll<StatResponse>('stat', { resource: 'ns', window: '1m' }, 15_000);
  const current = route.page === 'overview' || route.page === 'resource' ? route.namespace : undefined;
  document.title = `${title(route)} · Fathom`;
  return (
    <div class="shell" onClick={onLinkClick}>
      <nav class="side">
        <a class="brand" href="/">
          <img src="/favicon.svg" alt="" width={22} height={22} /> Fathom
        </a>
        <a class={route.page === 'overview' && current === undefined ? 'on' : ''} href="/">Overview</a>
        <a class={route.page === 'edges' ? 'on' : ''} href="/edges">Edges</a>
        <a class={route.page === 'checks' ? 'on' : ''} href="/checks">Checks</a>
        <h4>Namespaces</h4>
        {(namespaces.data?.rows ?? []).map((r) => (
          <a key={r.name} class={current === r.name ? 'on' : ''} href={routePath({ page: 'overview', namespace: r.name })}>
            {r.name}
          </a>
        ))}
        <footer>{version.data ? `${version.data.version} · ${version.data.platform}` : ''}</footer>
      </nav>
      <main>
        <View route={route} />
      </main>
    </div>
  );
}

function View(props: { route: Route }) {
  const r = props.route;
  switch (r.page) {
    case 'overview':
      return <Overview key={r.namespace ?? ''} {...(r.namespace !== undefined ? { namespace: r.namespace } : {})} />;
    case 'resource':
      return <ResourcePage key={`${r.kind}/${r.namespace}/${r.name}`} kind={r.kind} namespace={r.namespace} name={r.name} />;
    case 'edges':
      return <EdgesPage />;
    case 'checks':
      return <ChecksPage />;
    case 'notfound':
      return (
        <>
          <h1>Not found</h1>
          <p>
            Nothing lives at <code>{r.path}</code>. Go to the <a href="/">overview</a>.
          </p>
        </>
      );
  }
}

function title(r: Route): string {
  switch (r.page) {
    case 'overview':
      return r.namespace ?? 'Overview';
    case 'resource':
      return `${r.name} (${r.kind})`;
    case 'edges':
      return 'Edges';
    case 'checks':
      return 'Checks';
    case 'notfound':
      return 'Not found';
  }
}

const root = document.getElementById('app')!;
// The boot message goes: Preact renders next to what it finds.
root.textContent = '';
render(<App />, root);

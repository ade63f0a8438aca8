// Client-side routes: every view has its own URL, and the server answers any such URL with the app, so
// bookmarks and reloads land on the same view. Links navigate with pushState; Back and Forward work.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { readonly page: 'overview'; readonly namespace?: string }
  | { readonly page: 'resource'; readonly kind: 'deployment' | 'pod'; readonly namespace: string; readonly name: string }
  | { readonly page: 'edges' }
  | { readonly page: 'checks' }
  | { readonly page: 'notfound'; readonly path: string };

const enc = encodeURIComponent;

export function routePath(route: Route): string {
  switch (route.page) {
    case 'overview':
      return route.namespace === undefined ? '/' : `/namespaces/${enc(route.namespace)}`;
    case 'resource':
      return `/namespaces/${enc(route.namespace)}/${route.kind}s/${enc(route.name)}`;
    case 'edges':
      return '/edges';
    case 'checks':
      return '/checks';
    case 'notfound':
      return route.path;
  }
}

export function parsePath(path: string): Route {
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  if (parts.length === 0) return { page: 'overview' };
  if (parts[0] === 'edges' && parts.length === 1) return { page: 'edges' };
  if (parts[0] === 'checks' && parts.length === 1) return { page: 'checks' };
  if (parts[0] === 'namespaces' && parts.length === 2) return { page: 'overview', namespace: parts[1]! };
  if (parts[0] === 'namespaces' && parts.length === 4 && (parts[2] === 'deployments' || parts[2] === 'pods')) {
    return { page: 'resource', kind: parts[2] === 'deployments' ? 'deployment' : 'pod', namespace: parts[1]!, name: parts[3]! };
  }
  return { page: 'notfound', path };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(path: string): void {
  if (path === location.pathname + location.search) return;
  history.pushState(null, '', path);
  window.scrollTo(0, 0);
  listeners.forEach((l) => l());
}

/** The current route; re-renders on navigation. */
export function useRoute(): Route {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return parsePath(path);
}

/** Same-origin link clicks navigate in place (modified clicks open tabs as usual). */
export function onLinkClick(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element).closest('a');
  if (!a || a.target || a.origin !== location.origin || a.hasAttribute('download')) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}

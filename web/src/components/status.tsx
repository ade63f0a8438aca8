// The small pieces every page shares: a section heading with the data's freshness, and error notes.
import type { ComponentChildren } from 'preact';
import type { Polled } from '../api.js';

export function Section(props: { title: ComponentChildren; polled?: Polled<unknown>; children: ComponentChildren; id?: string; extra?: ComponentChildren }) {
  return (
    <section class="panel" id={props.id}>
      <header>
        <h2>{props.title}</h2>
        {props.extra}
        {props.polled && <Freshness polled={props.polled} />}
      </header>
      {props.polled?.error && <p class="error" role="alert">{props.polled.error}</p>}
      {props.children}
    </section>
  );
}

function Freshness(props: { polled: Polled<unknown> }) {
  const { at, error } = props.polled;
  if (at === undefined) return <span class="fresh">{error ? '' : 'loading…'}</span>;
  return <span class={`fresh ${error ? 'stale' : 'live'}`} title={new Date(at).toLocaleTimeString()}>{error ? 'stale' : 'live'}</span>;
}

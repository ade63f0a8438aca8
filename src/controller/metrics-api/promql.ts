// PromQL text for the metrics API: label selectors, the time window, and the query shapes Linkerd's
// metrics API uses (reference/linkerd-model.md §7), so that a number on screen can be re-run by hand.
import { parseDuration } from '../../lib/duration.js';

export interface Matcher {
  readonly name: string;
  readonly op: '=' | '!=' | '=~';
  readonly value: string;
}

export const eq = (name: string, value: string): Matcher => ({ name, op: '=', value });
export const re = (name: string, value: string): Matcher => ({ name, op: '=~', value });

/** A label value as a PromQL string literal: backslash, double quote and newline escaped. */
export function quote(value: string): string {
  return `"${value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`;
}

/** `{a="x", b=~"y"}`, sorted by label name as Prometheus prints label sets; `` when empty. */
export function selector(matchers: readonly Matcher[]): string {
  if (matchers.length === 0) return '';
  const sorted = [...matchers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return `{${sorted.map((m) => `${m.name}${m.op}${quote(m.value)}`).join(', ')}}`;
}

/** Escapes regular-expression metacharacters, for matching a name literally inside `=~`. */
export function regexLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The window a rate is computed over. */
export interface Window {
  /** As written into queries: `1m`, `15s`, `90s`. */
  readonly text: string;
  readonly seconds: number;
}

/** Linkerd refuses windows under 15 s: with 10 s scrapes a shorter one may hold a single sample. */
export const MIN_WINDOW_SECONDS = 15;
export const DEFAULT_WINDOW = '1m';

/** Parses a window such as `1m`, `15s`, `1m30s`. Errors are values naming the input. */
export function parseWindow(text: string): Window | string {
  const ms = parseDuration(text);
  if (typeof ms === 'string') return `time window ${ms}`;
  if (ms % 1000 !== 0) return `time window "${text}" must be a whole number of seconds`;
  const seconds = ms / 1000;
  if (seconds < MIN_WINDOW_SECONDS) return `time window "${text}" is too short: at least ${MIN_WINDOW_SECONDS}s`;
  const unit = seconds % 3600 === 0 ? [3600, 'h'] : seconds % 60 === 0 ? [60, 'm'] : [1, 's'];
  return { text: `${seconds / (unit[0] as number)}${unit[1]}`, seconds };
}

const by = (labels: readonly string[]) => labels.join(', ');

/** Responses by outcome: `sum(increase(response_total{..}[w])) by (<group>, classification, tls)`. */
export function responsesQuery(metric: string, matchers: readonly Matcher[], window: Window, groupBy: readonly string[], extra: readonly string[] = ['classification', 'tls']): string {
  return `sum(increase(${metric}${selector(matchers)}[${window.text}])) by (${by([...groupBy, ...extra])})`;
}

/** A latency quantile: `histogram_quantile(q, sum(irate(<metric>_bucket{..}[w])) by (le, <group>))`. */
export function latencyQuery(quantile: number, metric: string, matchers: readonly Matcher[], window: Window, groupBy: readonly string[]): string {
  return `histogram_quantile(${quantile}, sum(irate(${metric}_bucket${selector(matchers)}[${window.text}])) by (${by(['le', ...groupBy])}))`;
}

/** Open connections now: `sum(tcp_open_connections{..}) by (<group>)`. */
export function tcpConnectionsQuery(matchers: readonly Matcher[], groupBy: readonly string[]): string {
  return `sum(tcp_open_connections${selector(matchers)}) by (${by(groupBy)})`;
}

/** Bytes over the window: `sum(increase(tcp_<dir>_bytes_total{..}[w])) by (<group>)`. */
export function tcpBytesQuery(direction: 'read' | 'write', matchers: readonly Matcher[], window: Window, groupBy: readonly string[]): string {
  return `sum(increase(tcp_${direction}_bytes_total${selector(matchers)}[${window.text}])) by (${by(groupBy)})`;
}

export const QUANTILES = [0.5, 0.95, 0.99] as const;

// Numbers as the CLI prints them (SUCCESS %, RPS, ms), `-` where there is no figure.
export const dash = <T>(v: T | null | undefined, f: (v: T) => string): string => (v === null || v === undefined ? '-' : f(v));
export const pct = (v: number | null | undefined) => dash(v, (s) => `${(s * 100).toFixed(2)}%`);
export const rps = (v: number | null | undefined) => dash(v, (r) => `${r.toFixed(1)} rps`);
export const ms = (v: number | null | undefined) => dash(v, (m) => (m < 10 ? `${m.toFixed(1)} ms` : `${Math.round(m)} ms`));
export const count = (v: number | null | undefined) => dash(v, (n) => String(Math.round(n)));

/** Latency in µs as top shows it: µs below 1 ms, ms below 1 s, then seconds. */
export function micros(us: number): string {
  if (us < 1000) return `${Math.round(us)}µs`;
  if (us < 1_000_000) return `${Math.round(us / 1000)}ms`;
  return `${(us / 1_000_000).toFixed(1)}s`;
}

/** The colour class of a success rate: below 95% it should catch the eye. */
export function successClass(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  return v < 0.95 ? 'bad' : v < 1 ? 'warn' : 'good';
}

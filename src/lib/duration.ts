// Go-style duration strings (`24h`, `20s`, `1m30s`, `250ms`), as Kubernetes objects and Fathom's
// flags write them, to and from milliseconds.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration such as `10s`, `1.5h`, `1m30s` or `0`. Errors are values: a message naming the input
 * and what was expected. Negative durations are refused: nothing in the mesh waits for less than nothing.
 */
export function parseDuration(text: string): number | string {
  const input = text.trim();
  if (input === '0') return 0;
  const part = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let ms = 0;
  let at = 0;
  while (at < input.length) {
    part.lastIndex = at;
    const m = part.exec(input);
    if (!m) return `"${text}" is not a duration (examples: 250ms, 20s, 1m30s, 24h)`;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = part.lastIndex;
  }
  if (input.length === 0) return `"${text}" is not a duration (examples: 250ms, 20s, 1m30s, 24h)`;
  return ms;
}

/** Formats milliseconds the way Go prints durations, e.g. 86400000 → `24h0m0s`, 250 → `250ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

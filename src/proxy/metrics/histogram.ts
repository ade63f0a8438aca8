// A fixed-bucket histogram whose observe() is a short scan and one increment; cumulative bucket counts
// are only worked out when a scrape renders it.
import { joinPairs, labelPair, sampleLine } from '../../lib/prom-text.js';

/** Linkerd's latency buckets in milliseconds (the +Inf bucket is implicit). */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000,
  40000, 50000,
];

/** The `le="..."` pairs for a bucket list, formatted once per list rather than per scrape. */
const lePairsCache = new WeakMap<readonly number[], readonly string[]>();

function lePairs(bounds: readonly number[]): readonly string[] {
  let pairs = lePairsCache.get(bounds);
  if (pairs === undefined) {
    pairs = [...bounds.map((b) => labelPair('le', String(b))), labelPair('le', '+Inf')];
    lePairsCache.set(bounds, pairs);
  }
  return pairs;
}

export class Histogram {
  /** Per-bucket (not cumulative) counts; the last slot is the +Inf bucket. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[] = LATENCY_BUCKETS_MS) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    // A negative or NaN figure (a clock step) would poison `sum` forever; count it as zero instead.
    if (!(value >= 0)) value = 0;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  /** The `_bucket`, `_sum` and `_count` lines of this histogram under `name`, with `pairs` before `le`. */
  render(name: string, pairs: string): string {
    const le = lePairs(this.bounds);
    let out = '';
    let cumulative = 0;
    for (let i = 0; i < this.counts.length; i++) {
      cumulative += this.counts[i]!;
      out += sampleLine(`${name}_bucket`, joinPairs(pairs, le[i]!), cumulative);
    }
    out += sampleLine(`${name}_sum`, pairs, this.sum);
    out += sampleLine(`${name}_count`, pairs, this.count);
    return out;
  }
}

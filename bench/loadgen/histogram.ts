// A log-linear latency histogram in the spirit of HdrHistogram: exact below 25.6 µs, then 128 linear
// sub-buckets per power of two, so a recorded value is off by at most 1/256 (0.4 %) once reported as its
// bucket's midpoint. Fixed size (3,456 counters), no allocation per record, mergeable across processes.

/** Recording unit: 100 ns. 2^32 units is about 7 minutes, far beyond any request we wait for. */
const UNIT_NS = 100;
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS; // 128 sub-buckets per power of two
const LINEAR = 2 * SUB; // values below 256 units get a bucket each
const MAX_UNITS = 0xffff_ffff;
const BUCKETS = LINEAR + (32 - SUB_BITS - 1) * SUB;

function indexOf(units: number): number {
  if (units < LINEAR) return units;
  const msb = 31 - Math.clz32(units);
  const shift = msb - SUB_BITS;
  return LINEAR + (shift - 1) * SUB + ((units >>> shift) - SUB);
}

/** The [low, high) range of values (in units) that bucket `index` holds. */
function rangeOf(index: number): [number, number] {
  if (index < LINEAR) return [index, index + 1];
  const shift = Math.floor((index - LINEAR) / SUB) + 1;
  const low = ((index - LINEAR) % SUB) + SUB;
  return [low * 2 ** shift, (low + 1) * 2 ** shift];
}

/** The serialisable form: sparse [bucket, count] pairs plus exact count, min, max and sum. */
export interface HistogramData {
  readonly buckets: Array<[number, number]>;
  readonly count: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly sumMs: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  private min = Infinity;
  private max = 0;
  private sum = 0;

  /** Records one latency in milliseconds (negative values count as 0). */
  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    const units = Math.min(MAX_UNITS, Math.round((v * 1e6) / UNIT_NS));
    this.counts[indexOf(units)]! += 1;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /**
   * The latency at percentile `p` (0–100): the smallest recorded value such that at least p % of the
   * values are at or below it, reported as its bucket's midpoint and clamped to the exact min and max.
   */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    if (p >= 100) return this.max;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const [low, high] = rangeOf(i);
        const mid = i < LINEAR ? low : (low + high) / 2;
        const ms = (mid * UNIT_NS) / 1e6;
        return Math.min(this.max, Math.max(this.min, ms));
      }
    }
    return this.max;
  }

  get maxMs(): number {
    return this.count === 0 ? NaN : this.max;
  }

  get meanMs(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  merge(other: Histogram | HistogramData): void {
    const data = other instanceof Histogram ? other.toJSON() : other;
    for (const [i, n] of data.buckets) this.counts[i]! += n;
    this.count += data.count;
    this.sum += data.sumMs;
    if (data.count > 0) {
      this.min = Math.min(this.min, data.minMs);
      this.max = Math.max(this.max, data.maxMs);
    }
  }

  static from(data: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(data);
    return h;
  }

  toJSON(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return { buckets, count: this.count, minMs: this.count ? this.min : 0, maxMs: this.max, sumMs: this.sum };
  }
}

// Test support for the balancer: a clock moved by hand and a seeded random source, so runs repeat exactly.
import type { Clock } from './peak-ewma.js';

export class FakeClock implements Clock {
  constructor(public ms = 0) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** mulberry32: a tiny, well-mixed 32-bit PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random source that replays `values` in order (then repeats them), for picks chosen by the test. */
export function scriptedRandom(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

// The tap rate limit as Linkerd's viz tap applies it: `max-rps` in total, split evenly across the tapped
// pods, each pod observed with `limit = its rate × window` at most once per window, so that no proxy
// reports more than its share however busy it is.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObserveRequest_Match as Match, TapEvent } from '../../api/gen/fathom/tap.js';
import type { PodTap } from './source.js';

export interface PodRate {
  /** Requests one Observe call may report. */
  readonly limit: number;
  /** Observe calls on one pod start at least this far apart. */
  readonly windowMs: number;
}

/**
 * Each pod's share of `maxRps`: a 1-second window with `limit = floor(share)`; below one request per
 * second per pod, one request per longer window (0.25 rps → 1 per 4 s) instead of rounding to nothing.
 */
export function podRate(maxRps: number, pods: number): PodRate {
  const share = maxRps / Math.max(1, pods);
  if (share >= 1) return { limit: Math.floor(share), windowMs: 1000 };
  return { limit: 1, windowMs: Math.ceil(1000 / share) };
}

export interface ObserveLoopOptions {
  readonly tap: PodTap;
  readonly rate: PodRate;
  readonly match: Match | undefined;
  readonly signal: AbortSignal;
  onEvent(event: TapEvent): void;
  /** A failed call; the loop tries again next window. */
  onError(err: Error): void;
  /** Milliseconds; injectable for tests. */
  readonly now?: () => number;
}

/** Observes one pod window after window until `signal` aborts. */
export async function observeLoop(opts: ObserveLoopOptions): Promise<void> {
  const now = opts.now ?? Date.now;
  const request = { limit: opts.rate.limit, match: opts.match, extract: undefined };
  while (!opts.signal.aborted) {
    const started = now();
    try {
      await opts.tap.observe(request, opts.onEvent, opts.signal);
    } catch (err) {
      if (!opts.signal.aborted) opts.onError(err as Error);
    }
    const wait = started + opts.rate.windowMs - now();
    if (wait > 0) await sleep(wait, undefined, { signal: opts.signal }).catch(() => undefined);
  }
}

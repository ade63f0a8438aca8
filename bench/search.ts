// The maximum sustainable rate: the highest offered rate at which the scenario keeps p99 under the
// limit, with no errors and at least 95 % of the rate achieved. Rates double from a start until a step
// fails, then bisect between the last pass and the first failure; every step is short and bounded.
import type { SearchStep } from './report/row.js';

export interface SearchOptions {
  readonly startRate: number;
  readonly maxRate: number;
  readonly minRate: number;
  readonly p99LimitMs: number;
  /** Stop bisecting when the failing rate is within this factor of the passing one (1.1 = 10 %). */
  readonly resolution: number;
  readonly maxSteps: number;
}

export interface StepOutcome<T> {
  readonly p99_ms: number;
  readonly achieved_rps: number;
  readonly errors: number;
  readonly background_cpu_pct?: number | null;
  readonly detail: T;
}

export function passes(rate: number, o: { p99_ms: number; achieved_rps: number; errors: number }, limitMs: number): boolean {
  return o.errors === 0 && o.p99_ms < limitMs && o.achieved_rps >= 0.95 * rate;
}

/** Runs the search; `step(rate)` measures one rate. Returns the best passing step (if any) and the path. */
export async function searchMaxRate<T>(
  opts: SearchOptions,
  step: (rate: number) => Promise<StepOutcome<T>>,
): Promise<{ best: { rate: number; outcome: StepOutcome<T> } | undefined; steps: SearchStep[] }> {
  const steps: SearchStep[] = [];
  let best: { rate: number; outcome: StepOutcome<T> } | undefined;
  let failed: number | undefined;
  const tryRate = async (rate: number): Promise<boolean> => {
    const outcome = await step(rate);
    const pass = passes(rate, outcome, opts.p99LimitMs);
    steps.push({ rate, p99_ms: outcome.p99_ms, achieved_rps: outcome.achieved_rps, errors: outcome.errors, background_cpu_pct: outcome.background_cpu_pct ?? null, pass });
    if (pass && (!best || rate > best.rate)) best = { rate, outcome };
    if (!pass && (failed === undefined || rate < failed)) failed = rate;
    return pass;
  };

  // Up by doubling...
  for (let rate = opts.startRate; rate <= opts.maxRate && steps.length < opts.maxSteps; rate *= 2) {
    if (!(await tryRate(rate))) break;
  }
  // ...or down by halving when even the start failed...
  if (!best) {
    for (let rate = opts.startRate / 2; rate >= opts.minRate && steps.length < opts.maxSteps; rate /= 2) {
      if (await tryRate(Math.round(rate))) break;
    }
  }
  // ...then bisect between the last pass and the first failure.
  while (best && failed !== undefined && failed / best.rate > opts.resolution && steps.length < opts.maxSteps) {
    const mid = Math.round((best.rate + failed) / 2 / 50) * 50;
    if (mid <= best.rate || mid >= failed) break;
    await tryRate(mid);
  }
  return { best, steps };
}
